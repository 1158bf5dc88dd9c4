"""Near-duplicate detection: MinHash signatures of word n-gram sets, LSH banding, first occurrence kept.

Vectorised over a batch of documents with numpy. The ingest dedups with reduces over band-key buckets
(:mod:`dapt.ingest.dedup_reduce`); :class:`NearDupIndex` is the one-process index they are tested against.
Deterministic: the permutations come from ``seed`` and the n-gram hashes from digests of the words, so the same
input and config drop the same documents on every run and in every shard.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dapt.ingest.hash_index import HashIndex
from dapt.ingest.word_ids import splitmix64


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int, fp_weight: float = 0.5) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` minimising the weighted area of false positives (pairs
    below ``threshold`` that collide in some band) and false negatives (pairs above it that never collide), the
    criterion datasketch uses. The collision probability of a pair with Jaccard ``s`` is ``1 - (1 - s^r)^b``."""
    s = np.linspace(0.0, 1.0, 2001)
    best, best_err = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = 1 - (1 - s**r) ** b
            below, above = s <= threshold, s >= threshold
            fp = np.trapezoid(p[below], s[below])
            fn = np.trapezoid(1 - p[above], s[above])
            err = fp_weight * fp + (1 - fp_weight) * fn
            if err < best_err:
                best, best_err = (b, r), err
    return best


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**32, size=num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.integers(0, 2**32, size=num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def signatures(
    hashes: np.ndarray, doc_index: np.ndarray, n_docs: int, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of each document's n-gram set.

    Args:
        hashes, doc_index: n-gram hashes and their document (sorted by document), from ``ngram_hashes``.
        n_docs: documents in the batch.
        a, b: the permutations ``x -> a*x + b mod 2**32`` (``a`` odd: a bijection on 32-bit values).

    Returns:
        ``(sig, has_sig)``: ``sig`` is ``n_docs x num_perm`` (uint32); rows of documents without n-grams are
        meaningless and ``has_sig`` is False for them.
    """
    sig = np.full((n_docs, len(a)), np.iinfo(np.uint32).max, dtype=np.uint32)
    has = np.zeros(n_docs, dtype=bool)
    if len(hashes) == 0:
        return sig, has
    x = (hashes ^ (hashes >> np.uint64(32))).astype(np.uint32)
    # doc_index is sorted: each document's n-grams start where the index changes.
    first = np.flatnonzero(np.diff(doc_index, prepend=-1))
    docs = doc_index[first]
    # Column chunks keep the temporary (shingles x chunk) in cache: ~2x faster than one shingles x num_perm pass.
    for j in range(0, len(a), 16):
        with np.errstate(over="ignore"):
            permuted = x[:, None] * a[None, j : j + 16] + b[None, j : j + 16]
        sig[docs, j : j + 16] = np.minimum.reduceat(permuted, first, axis=0)
    has[docs] = True
    return sig, has


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per (document, band): documents that agree on all ``rows`` values of a band share its key."""
    coef = splitmix64(np.arange(rows, dtype=np.uint64)) | np.uint64(1)
    keys = np.empty((len(sig), bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(bands):
            block = sig[:, k * rows : (k + 1) * rows].astype(np.uint64)
            keys[:, k] = splitmix64((block * coef).sum(axis=1, dtype=np.uint64) + np.uint64(k) * np.uint64(0x9E37))
    return keys


class NearDupIndex:
    """The LSH index over every document kept so far, in one process: the single-process rule the sharded
    reduce (:mod:`dapt.ingest.dedup_reduce`) reproduces, kept as its reference (tests check the two agree)."""

    def __init__(self, threshold: float, num_perm: int, seed: int) -> None:
        self.bands, self.rows = lsh_params(threshold, num_perm)
        self.a, self.b = permutations(self.bands * self.rows, seed)
        self.index = HashIndex()

    def check_batch(self, hashes: np.ndarray, doc_index: np.ndarray, n_docs: int) -> np.ndarray:
        """Which documents of this batch near-duplicate an earlier one (earlier batches, or earlier in this batch);
        the others are added to the index."""
        sig, has = signatures(hashes, doc_index, n_docs, self.a, self.b)
        keys = band_keys(sig, self.bands, self.rows)
        dup = self.index.contains(keys.ravel()).reshape(n_docs, self.bands).any(axis=1) & has
        in_batch: set[int] = set()
        for i in np.flatnonzero(has & ~dup):
            ks = keys[i].tolist()
            if any(k in in_batch for k in ks):
                dup[i] = True
            else:
                in_batch.update(ks)
        self.index.add(np.fromiter(in_batch, dtype=np.uint64, count=len(in_batch)))
        return dup
