"""The sequential end of a sharded ingest: the kept documents of every shard, in global order, are held out or not
by their index and packed into blocks (the same blocks a single reader cuts), and the shards' parts (rejects,
documents) are concatenated in shard order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from dapt.ingest.pack import BlockPacker, SpecialIds
from dapt.ingest.shards import ShardWriter

_M64 = (1 << 64) - 1


def _heldout(index: int, fraction: float, seed: int) -> bool:
    """Streaming, deterministic split: kept document ``index`` is held out with probability ``fraction`` (SplitMix64 of
    the index and seed, in plain integers: one call per block)."""
    if fraction <= 0:
        return False
    z = (index ^ (seed << 40)) + 0x9E3779B97F4A7C15 & _M64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & _M64
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _M64
    return (z ^ (z >> 31)) / 2.0**64 < fraction


def pack_kept(dirs, out_dir, dataset_dir, tokenizer, block_size, heldout_fraction, seed, cfg, counts):
    """The sequential step: every kept document in global order, held out by its index (before packing: a held-out
    block never shares a document with a training block), packed into blocks and written as Arrow shards."""
    packers = {s: BlockPacker(block_size, SpecialIds.from_tokenizer(tokenizer), counts) for s in ("train", "heldout")}
    writer = ShardWriter(dataset_dir, block_size, cfg.shard_blocks)
    heldout_ids: list[str] = []

    def place(split: str, doc_id: str, ids: list[int]) -> None:
        if split == "heldout":
            heldout_ids.append(doc_id)
        for block, real in packers[split].add(ids):
            writer.add(split, block, real)

    pending = None  # the last document is held back: it becomes the held-out one if none was drawn
    n_train = i = 0
    for d in dirs:
        tokens = np.load(d / "tokens.npy")
        ends = np.cumsum(np.load(d / "lengths.npy"))
        ids = json.loads((d / "kept_ids.json").read_text())
        for doc_id, end, n in zip(ids, ends.tolist(), np.diff(ends, prepend=0).tolist(), strict=True):
            if pending is not None:
                place(*pending)
                n_train += pending[0] == "train"
            pending = (
                "heldout" if _heldout(i, heldout_fraction, seed) else "train",
                doc_id,
                tokens[end - n : end].tolist(),
            )
            i += 1
    if pending is not None:
        if heldout_fraction > 0 and not heldout_ids and n_train >= 1:
            pending = ("heldout", *pending[1:])
        place(*pending)
    for packer_split, packer in packers.items():
        for block, real in packer.finish():
            writer.add(packer_split, block, real)
    shards = writer.close()
    (out_dir / "heldout_ids.json").write_text(json.dumps(heldout_ids))
    return shards, dict(writer.rows)


def concat_parts(dirs: list[Path], names: list[str], out: Path) -> None:
    with open(out, "wb") as dst:
        for d in dirs:
            for n in names:
                if (d / n).exists():
                    with open(d / n, "rb") as src:
                        shutil.copyfileobj(src, dst)
