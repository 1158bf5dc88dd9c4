"""Length-grouped batches with dynamic padding: similar lengths share a batch, so little compute goes to pads,
while the order stays random (and identical for every variant given the same seed)."""

from __future__ import annotations

from collections.abc import Iterator

import torch

MEGABATCH_FACTOR = 50
PAD_BUCKET_TOKENS = 32
"""With ``finetune.compile``, batch widths are rounded up to a multiple of this: a few shapes, a few compiles."""


def length_grouped_batches(lengths: list[int], batch_size: int, generator: torch.Generator) -> list[list[int]]:
    """Shuffle, cut into megabatches of ``50 x batch_size``, sort each by length, split, shuffle the batches."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    mega = batch_size * MEGABATCH_FACTOR
    batches: list[list[int]] = []
    for i in range(0, len(order), mega):
        chunk = sorted(order[i : i + mega], key=lambda j: -lengths[j])
        batches.extend(chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size))
    perm = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[p] for p in perm]


def sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """For evaluation: longest first, so the largest batch is met (and fails, if memory is short) at once."""
    order = sorted(range(len(lengths)), key=lambda j: -lengths[j])
    return [order[k : k + batch_size] for k in range(0, len(order), batch_size)]


def bucket_width(longest: int, max_width: int, multiple: int = PAD_BUCKET_TOKENS) -> int:
    """``longest`` rounded up to a multiple of ``multiple``, but not past ``max_width`` (the tokenizer's
    ``max_length``, which no sequence exceeds): the widths are then the multiples below ``max_width`` and
    ``max_width`` itself."""
    if longest > max_width:
        raise ValueError(f"a sequence of {longest} tokens is longer than max_width={max_width}")
    return min(-(-longest // multiple) * multiple, max_width)


def bucket_count(max_width: int, multiple: int = PAD_BUCKET_TOKENS) -> int:
    """How many distinct widths :func:`bucket_width` can return."""
    return -(-max_width // multiple)


def pad_batch(
    seqs: list[list[int]], pad_id: int, type_seqs: list[list[int]] | None = None, width: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Right-pad to ``width`` (default: the longest sequence); returns ids, attention mask and (if given) token type
    ids."""
    width = width or max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(seqs), width), dtype=torch.long)
    types = torch.zeros((len(seqs), width), dtype=torch.long) if type_seqs is not None else None
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        attn[i, : len(s)] = 1
        if types is not None:
            types[i, : len(s)] = torch.tensor(type_seqs[i], dtype=torch.long)
    return ids, attn, types


def iterate(
    seqs: list[list[int]],
    batches: list[list[int]],
    pad_id: int,
    type_seqs: list[list[int]] | None = None,
    bucket_max_width: int | None = None,
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor, torch.Tensor | None]]:
    """Padded batches in ``batches``' order; ``bucket_max_width`` pads each to :func:`bucket_width` instead of its
    longest sequence (for a compiled model: every width is a compile)."""
    for b in batches:
        batch = [seqs[j] for j in b]
        longest = max(len(s) for s in batch)
        width = bucket_width(longest, bucket_max_width) if bucket_max_width else longest
        ids, attn, types = pad_batch(batch, pad_id, [type_seqs[j] for j in b] if type_seqs is not None else None, width)
        yield b, ids, attn, types
