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


class BlockPacker:
    """Push-style packing of one stream: ``add`` a document's ids, get back the blocks it completed; ``finish``
    pads out the last one. Several packers can share one :class:`PackCounts` (train and held-out streams)."""

    def __init__(self, block_size: int, special: SpecialIds, counts: PackCounts | None = None):
        if block_size < 3:
            raise ValueError(f"block_size must be >= 3 (2 framing tokens + content), got {block_size}")
        self.block_size, self.special = block_size, special
        self.counts = counts if counts is not None else PackCounts()
        self.counts.block_size = block_size
        self.width = block_size - 2
        self.buf: list[int] = []

    def _frame(self, chunk: list[int]) -> tuple[np.ndarray, int]:
        n_real = len(chunk) + 2
        block = np.full(self.block_size, self.special.pad, dtype=np.int32)
        block[0] = self.special.cls
        block[1 : 1 + len(chunk)] = chunk
        block[1 + len(chunk)] = self.special.sep
        self.counts.blocks += 1
        self.counts.padding_tokens += self.block_size - n_real
        return block, n_real

    def add(self, ids: list[int]) -> list[tuple[np.ndarray, int]]:
        self.counts.documents += 1
        self.counts.content_tokens += len(ids)
        self.buf.extend(ids)
        self.buf.append(self.special.sep)
        out = []
        while len(self.buf) >= self.width:
            out.append(self._frame(self.buf[: self.width]))
            del self.buf[: self.width]
        return out

    def finish(self) -> list[tuple[np.ndarray, int]]:
        out = [self._frame(self.buf)] if self.buf else []
        self.buf = []
        return out


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
    packer = BlockPacker(block_size, special, counts)
    for ids in docs:
        yield from packer.add(ids)
    yield from packer.finish()


def unpack_stream(blocks: Iterable[tuple[np.ndarray, int]]) -> list[int]:
    """The token stream a sequence of packed blocks carries (framing and padding removed): inverse of packing."""
    out: list[int] = []
    for block, n_real in blocks:
        out.extend(int(t) for t in block[1 : n_real - 1])
    return out
