"""What each training step feeds the model: the batch of a step (a pure function of the step and seed, so resume
is exact and ranks need no communication), replay mixing, masking, and the attention mask."""

from __future__ import annotations

from pathlib import Path

import torch

from dapt.pretrain.document_mask import document_attention_mask
from dapt.pretrain.masking import mask_tokens
from dapt.pretrain.whole_word import WordBoundaries
from dapt.recipe import PretrainConfig


def batch_at(
    step: int, input_ids: torch.Tensor, n_real: torch.Tensor, batch_size: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor, int, torch.Tensor]:
    """The batch of a given step (ids, attention, epoch, block indices): epoch ``e`` is a permutation seeded by
    ``(seed, e)``, cut into full batches. A
    pure function of the step, so resuming at step k costs nothing (no replay of the k batches before it)."""
    n = len(input_ids)
    per_epoch = max(1, n // batch_size)
    epoch, i = divmod(step, per_epoch)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    idx = order[i * batch_size : (i + 1) * batch_size]
    ids = input_ids[idx]
    attn = (torch.arange(input_ids.shape[1])[None, :] < n_real[idx][:, None]).long()
    return ids, attn, epoch, idx


def mixed_batch_at(
    step: int,
    domain: tuple[torch.Tensor, torch.Tensor],
    replay: tuple[torch.Tensor, torch.Tensor],
    batch_size: int,
    n_replay: int,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor, int, torch.Tensor]:
    """``batch_size - n_replay`` domain blocks then ``n_replay`` replay blocks, each from its own step-indexed
    stream (so resume stays exact and the domain order does not depend on the replay share); the epoch is the
    domain corpus's. Block indices of replay blocks are given as ``-1 - index`` (negative: the other corpus)."""
    ids, attn, epoch, idx = batch_at(step, *domain, batch_size - n_replay, seed)
    if n_replay:
        r_ids, r_attn, _, r_idx = batch_at(step, *replay, n_replay, seed + 1)
        ids, attn, idx = torch.cat([ids, r_ids]), torch.cat([attn, r_attn]), torch.cat([idx, -1 - r_idx])
    return ids, attn, epoch, idx


def _maskable(ids: torch.Tensor, attn: torch.Tensor, special_ids: list[int]) -> torch.Tensor:
    return attn.bool() & ~torch.isin(ids, torch.tensor(special_ids, dtype=ids.dtype))


def mask_batch(
    ids: torch.Tensor,
    attn: torch.Tensor,
    tokenizer,
    mask_prob: float,
    gen: torch.Generator,
    words: WordBoundaries | None = None,
):
    """Mask a batch of packed blocks: special tokens and padding are never chosen; with ``words``, whole words."""
    maskable = _maskable(ids, attn, tokenizer.all_special_ids)
    starts = words.word_starts(ids, maskable) if words is not None else None
    return mask_tokens(ids, maskable, tokenizer.mask_token_id, len(tokenizer), mask_prob, gen, starts)


def load_split_blocks(dataset_dir: Path | None, split: str, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    from dapt.ingest import load_blocks

    if dataset_dir is None:
        return torch.empty(0, block_size, dtype=torch.long), torch.empty(0, dtype=torch.long)
    ids, real = load_blocks(Path(dataset_dir), split)
    if len(ids) == 0:
        return torch.empty(0, block_size, dtype=torch.long), torch.empty(0, dtype=torch.long)
    return torch.from_numpy(ids).long(), torch.from_numpy(real).long()


def model_mask(model, ids: torch.Tensor, attn: torch.Tensor, cfg: PretrainConfig, tokenizer) -> torch.Tensor:
    """The attention mask the model gets: padding only, or per document with ``cfg.document_mask``."""
    if not cfg.document_mask:
        return attn
    sep = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    return document_attention_mask(ids, attn, sep, next(model.parameters()).dtype)


def lm_batch(ids, attn, tokenizer, cfg: PretrainConfig, gen, words=None):
    """``(inputs, labels)``: MLM masks (see :func:`mask_batch`), or for CLM the block itself with padding
    ignored (the model shifts labels by one)."""
    if cfg.objective == "clm":
        return ids, torch.where(attn.bool(), ids, torch.full_like(ids, -100))
    return mask_batch(ids, attn, tokenizer, cfg.mask_prob, gen, words)


def n_predicted(labels: torch.Tensor, objective: str) -> int:
    return int((labels[:, 1:] != -100).sum()) if objective == "clm" else int((labels != -100).sum())
