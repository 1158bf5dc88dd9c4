"""Input shards of a sharded ingest: contiguous runs of a source's files, in the order the single-process ingest
reads them, so a document's global position (shard, position in shard) orders documents exactly as one reader
would. Dedup keeps first occurrences by that order, so the kept documents do not depend on the number of shards."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from pathlib import Path

from dapt.recipe import CorpusConfig

SHARD_INPUT_BYTES = 16 * 2**20
"""Input per shard when the corpus is large (more shards than workers keeps workers busy to the end)."""

BUCKET_INPUT_BYTES = 64 * 2**20
"""Input whose dedup keys one reduce bucket holds: ~16 bytes per key and ~10 keys per ~250-byte document, so a
bucket's keys take about half its input's size in memory whatever the corpus size (more input, more buckets)."""

ORDER_BITS = 32
"""A document's global order is ``shard << 32 | position``: 2^32 documents per shard."""


@dataclass(frozen=True)
class InputShard:
    index: int
    source: str
    files: tuple[str, ...] | None
    """The shard's files; None: the whole source in one shard (hub and task sources, capped sources)."""


def plan_input_shards(
    cfg: CorpusConfig, files: dict[str, list[Path]], workers: int, shard_bytes: int = SHARD_INPUT_BYTES
) -> list[InputShard]:
    """Split each source's files into contiguous shards of about ``shard_bytes``, smaller when that gives each of
    several workers fewer than 4 shards. A shard's memory is bounded by its size (a file is never split: one larger
    than ``shard_bytes`` is a shard of its own). A source with ``max_documents`` stays whole: its cap counts
    records in reading order across files."""
    total = sum(p.stat().st_size for fs in files.values() for p in fs)
    target = max(1, min(shard_bytes, ceil(total / (4 * workers)))) if workers > 1 else shard_bytes
    shards: list[InputShard] = []
    for src in cfg.sources:
        fs = files[src.name]
        if not fs or src.max_documents is not None or src.format in ("hf", "task"):
            shards.append(InputShard(len(shards), src.name, None))
            continue
        group: list[str] = []
        size = 0
        for p in fs:
            group.append(str(p))
            size += p.stat().st_size
            if size >= target:
                shards.append(InputShard(len(shards), src.name, tuple(group)))
                group, size = [], 0
        if group:
            shards.append(InputShard(len(shards), src.name, tuple(group)))
    return shards


def bucket_count(input_bytes: int, workers: int) -> int:
    return max(workers, ceil(input_bytes / BUCKET_INPUT_BYTES), 1)


def order_of(shard: int, position: int) -> int:
    return shard << ORDER_BITS | position
