"""Pack tokenized documents into fixed-length blocks without losing or duplicating a token.

Documents are joined into one stream with a separator token after each (the document boundary the model sees);
the stream is cut into chunks of ``block_size - 2`` tokens and each chunk is framed as ``[CLS] chunk [SEP]``.
Unlike ``group_texts`` in the transformers examples, the remainder is not dropped per map batch: the stream
carries over between batches and only the very last block is padded (the padding fraction is reported).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SpecialIds:
    cls: int
    sep: int
    pad: int

    @classmethod
    def from_tokenizer(cls, tokenizer) -> SpecialIds:
        start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
        sep = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else sep
        if start is None or sep is None:
            raise ValueError(f"tokenizer {type(tokenizer).__name__} has neither cls/sep nor bos/eos tokens")
        return cls(cls=start, sep=sep, pad=pad)


@dataclass
class PackCounts:
    documents: int = 0
    content_tokens: int = 0
    """Tokens of document text (separators and framing excluded)."""
    blocks: int = 0
    padding_tokens: int = 0

    block_size: int = 1

    @property
    def padding_fraction(self) -> float:
        return self.padding_tokens / max(1, self.blocks * self.block_size)


def pack_blocks(
    docs: Iterable[list[int]], block_size: int, special: SpecialIds, counts: PackCounts | None = None
) -> Iterator[tuple[np.ndarray, int]]:
    """Yield ``(input_ids, n_real)`` blocks of exactly ``block_size`` tokens; ``n_real`` excludes padding.

    Args:
        docs: token ids of each document, without special tokens.
        block_size: tokens per block, framing included (>= 3).
        special: the framing, separator and padding ids.
        counts: filled in as blocks are produced.
    """
    if block_size < 3:
        raise ValueError(f"block_size must be >= 3 (2 framing tokens + content), got {block_size}")
    counts = counts if counts is not None else PackCounts()
    counts.block_size = block_size
    width = block_size - 2
    buf: list[int] = []

    def frame(chunk: list[int]) -> tuple[np.ndarray, int]:
        n_real = len(chunk) + 2
        block = np.full(block_size, special.pad, dtype=np.int32)
        block[0] = special.cls
        block[1 : 1 + len(chunk)] = chunk
        block[1 + len(chunk)] = special.sep
        counts.blocks += 1
        counts.padding_tokens += block_size - n_real
        return block, n_real

    for ids in docs:
        counts.documents += 1
        counts.content_tokens += len(ids)
        buf.extend(ids)
        buf.append(special.sep)
        while len(buf) >= width:
            yield frame(buf[:width])
            del buf[:width]
    if buf:
        yield frame(buf)


def unpack_stream(blocks: Iterable[tuple[np.ndarray, int]]) -> list[int]:
    """The token stream a sequence of packed blocks carries (framing and padding removed): inverse of packing."""
    out: list[int] = []
    for block, n_real in blocks:
        out.extend(int(t) for t in block[1 : n_real - 1])
    return out
