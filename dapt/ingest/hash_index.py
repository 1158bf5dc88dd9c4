"""A growing set of 64-bit hashes in a sorted numpy array (8 bytes an entry instead of the ~70 of a Python set),
with a small Python set in front for recent additions."""

from __future__ import annotations

import numpy as np


class HashIndex:
    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.uint64)
        self._pending: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._pending)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Vectorised membership of ``keys`` (uint64) in what was added before this call."""
        keys = np.asarray(keys, dtype=np.uint64)
        hit = np.zeros(len(keys), dtype=bool)
        if len(self._sorted):
            pos = np.searchsorted(self._sorted, keys)
            pos[pos == len(self._sorted)] = 0
            hit = self._sorted[pos] == keys
        if self._pending:
            pending = self._pending
            hit |= np.fromiter((k in pending for k in keys.tolist()), dtype=bool, count=len(keys))
        return hit

    def add(self, keys: np.ndarray) -> None:
        self._pending.update(np.asarray(keys, dtype=np.uint64).ravel().tolist())
        # A merge sorts everything (O(n log n)); merging only when the set reaches 1/4 of the sorted part keeps the
        # total cost amortised O(n log n) and the set small.
        if len(self._pending) > max(1 << 16, len(self._sorted) // 4):
            self.flush()

    def flush(self) -> None:
        if self._pending:
            new = np.fromiter(self._pending, dtype=np.uint64, count=len(self._pending))
            self._sorted = np.sort(np.concatenate([self._sorted, new]), kind="stable")
            self._pending.clear()

    @property
    def nbytes(self) -> int:
        return self._sorted.nbytes + 70 * len(self._pending)
