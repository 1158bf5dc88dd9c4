"""Reduce phases of a sharded ingest: dedup as reduces over hash buckets (as datatrove does it), so no worker
holds the whole index.

- Exact: bucket ``k`` holds every (digest, order) pair whose digest falls in it; the first occurrence of each
  digest is kept, the others are duplicates.
- Near: bucket ``k`` holds the LSH band keys of the documents still in (not exact duplicates, not dropped as
  contaminated); only keys two or more documents share can ever make a duplicate, so the bucket keeps those.
- Resolution: the single-process rule, "a document is a near-duplicate when it shares a band key with an
  *earlier kept* document", replayed in global order over the shared keys only. Memory is proportional to the
  documents that collide, not to the corpus; the result equals the single-process ingest's exactly (a greedy pass
  in the same order over the only keys that can match).

Each reduce writes its result sorted by order, so a shard reads its slice with a binary search.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dapt.ingest.input_shards import ORDER_BITS


def bucket_of(keys: np.ndarray, buckets: int) -> np.ndarray:
    # The keys are uniform 64-bit hashes: their residue spreads them evenly over the buckets.
    return (keys % np.uint64(buckets)).astype(np.int64)


def write_buckets(out: Path, prefix: str, keys: np.ndarray, orders: np.ndarray, buckets: int) -> None:
    """``<prefix>.npy``: the ``[2, n]`` (key, order) pairs grouped by bucket, and ``<prefix>-offsets.npy``: where
    each bucket's pairs start. Two files per shard whatever the bucket count (a 1 TB corpus has ~16k buckets)."""
    which = bucket_of(keys, buckets)
    by_bucket = np.argsort(which, kind="stable")
    np.save(out / f"{prefix}.npy", np.stack([keys[by_bucket], orders[by_bucket]]).astype(np.uint64))
    np.save(out / f"{prefix}-offsets.npy", np.searchsorted(which[by_bucket], np.arange(buckets + 1)))


def bucket_sizes(map_dirs: list[Path], prefix: str, buckets: int) -> np.ndarray:
    """Pairs per bucket over all shards (read from the offsets only)."""
    total = np.zeros(buckets, dtype=np.int64)
    for d in map_dirs:
        total += np.diff(np.load(d / f"{prefix}-offsets.npy"))
    return total


def _load_bucket(map_dirs: list[Path], prefix: str, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    parts = []
    for d in map_dirs:
        lo, hi = np.load(d / f"{prefix}-offsets.npy")[bucket : bucket + 2]
        parts.append(np.asarray(np.load(d / f"{prefix}.npy", mmap_mode="r")[:, lo:hi]))  # only this bucket's slice
    pairs = np.concatenate(parts, axis=1) if parts else np.empty((2, 0), np.uint64)
    return pairs[0], pairs[1]


def _later_occurrences(keys: np.ndarray, orders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted by (key, order): a mask of the pairs that are not the first of their key, and the sort order."""
    idx = np.lexsort((orders, keys))
    k = keys[idx]
    later = np.zeros(len(k), dtype=bool)
    later[1:] = k[1:] == k[:-1]
    return later, idx


def reduce_exact(map_dirs: list[Path], bucket: int, out: Path) -> int:
    """Exact duplicates in one bucket -> ``out`` (sorted orders). Returns how many."""
    keys, orders = _load_bucket(map_dirs, "exact", bucket)
    later, idx = _later_occurrences(keys, orders)
    dup = np.sort(orders[idx[later]])
    np.save(out, dup)
    return len(dup)


def reduce_near(map_dirs: list[Path], bucket: int, out: Path) -> int:
    """The band keys of one bucket that two or more live documents share -> ``out`` (``[2, n]``: key, order; sorted
    by order). Returns how many pairs."""
    keys, orders = _load_bucket(map_dirs, "near", bucket)
    later, idx = _later_occurrences(keys, orders)
    shared = later.copy()
    shared[:-1] |= later[1:]  # the first of a run of equal keys is shared too
    keys, orders = keys[idx[shared]], orders[idx[shared]]
    by_order = np.argsort(orders, kind="stable")
    np.save(out, np.stack([keys[by_order], orders[by_order]]))
    return int(shared.sum())


def resolve_near(shared_files: list[Path], out: Path) -> int:
    """Replay first-kept-wins in global order over the shared keys -> ``out`` (sorted orders of the near
    duplicates). Returns how many."""
    parts = [np.load(f) for f in shared_files]
    pairs = np.concatenate(parts, axis=1) if parts else np.empty((2, 0), np.uint64)
    idx = np.lexsort((pairs[0], pairs[1]))
    keys, orders = pairs[0][idx], pairs[1][idx]
    claimed: set[int] = set()
    dup: list[int] = []
    starts = np.flatnonzero(np.r_[True, orders[1:] != orders[:-1]]).tolist() if len(orders) else []
    for s, e in zip(starts, [*starts[1:], len(orders)][: len(starts)], strict=True):
        ks = keys[s:e].tolist()
        if any(k in claimed for k in ks):
            dup.append(int(orders[s]))
        else:
            claimed.update(ks)
    result = np.asarray(dup, dtype=np.uint64)
    np.save(out, result)
    return len(result)


def shard_slice(files: list[Path], shard: int) -> np.ndarray:
    """The positions (within ``shard``) listed in sorted order files; each file is read memory-mapped and only the
    shard's range is copied."""
    lo, hi = np.uint64(shard << ORDER_BITS), np.uint64((shard + 1) << ORDER_BITS)
    parts = []
    for f in files:
        arr = np.load(f, mmap_mode="r")
        a, b = np.searchsorted(arr, lo), np.searchsorted(arr, hi)
        parts.append(np.asarray(arr[a:b]) - lo)
    return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.empty(0, np.int64)
