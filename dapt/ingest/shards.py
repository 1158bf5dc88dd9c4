"""Packed blocks on disk: Arrow IPC stream shards (memory-mappable; ``datasets.Dataset.from_file`` reads them)
written as they fill, so ingest memory does not grow with the corpus, and read back as numpy arrays."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def _schema(block_size: int):
    import pyarrow as pa

    return pa.schema([("input_ids", pa.list_(pa.int32(), block_size)), ("n_real", pa.int32())])


class ShardWriter:
    """Buffers up to ``shard_blocks`` blocks per split and writes ``<split>/shard-00000.arrow``, ... ."""

    def __init__(self, out_dir: Path, block_size: int, shard_blocks: int) -> None:
        self.out_dir, self.block_size, self.shard_blocks = out_dir, block_size, shard_blocks
        self._buf: dict[str, tuple[list[np.ndarray], list[int]]] = {}
        self.shards: list[dict] = []
        self.rows: dict[str, int] = {}

    def add(self, split: str, block: np.ndarray, n_real: int) -> None:
        blocks, reals = self._buf.setdefault(split, ([], []))
        blocks.append(block)
        reals.append(n_real)
        self.rows[split] = self.rows.get(split, 0) + 1
        if len(blocks) >= self.shard_blocks:
            self._write(split)

    def _write(self, split: str) -> None:
        import pyarrow as pa

        blocks, reals = self._buf.pop(split, ([], []))
        if not blocks:
            return
        ids = np.stack(blocks).astype(np.int32, copy=False)
        arr = pa.FixedSizeListArray.from_arrays(pa.array(ids.ravel()), self.block_size)
        table = pa.table(
            {"input_ids": arr, "n_real": pa.array(np.asarray(reals, dtype=np.int32))}, schema=_schema(self.block_size)
        )
        n = sum(1 for s in self.shards if s["split"] == split)
        path = self.out_dir / split / f"shard-{n:05d}.arrow"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".arrow.tmp")
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        tmp.replace(path)  # a crash never leaves a half-written shard under the final name
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self.shards.append(
            {"split": split, "file": str(path.relative_to(self.out_dir)), "rows": len(blocks), "sha256": digest}
        )

    def close(self) -> list[dict]:
        for split in list(self._buf):
            self._write(split)
        return self.shards


def load_blocks(dataset_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(input_ids [n, block_size] int32, n_real [n] int32)`` of one split; empty arrays if it has no shards."""
    import pyarrow as pa

    files = sorted((dataset_dir / split).glob("shard-*.arrow"))
    ids, reals = [], []
    for f in files:
        with pa.memory_map(str(f)) as src:
            table = pa.ipc.open_stream(src).read_all()
        col = table.column("input_ids").combine_chunks()
        width = col.type.list_size
        ids.append(col.flatten().to_numpy(zero_copy_only=False).reshape(-1, width))
        reals.append(table.column("n_real").to_numpy())
    if not ids:
        return np.empty((0, 0), np.int32), np.empty(0, np.int32)
    return np.concatenate(ids), np.concatenate(reals)
