"""A growing set of 64-bit hashes in sorted numpy arrays: 8 bytes an entry instead of the ~70 of a Python set."""

from __future__ import annotations

import numpy as np


class HashIndex:
    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.uint64)
        self._pending: list[np.ndarray] = []
        self._n_pending = 0

    def __len__(self) -> int:
        return len(self._sorted) + self._n_pending

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Vectorised membership of ``keys`` (uint64) in what was added before this call."""
        keys = np.asarray(keys, dtype=np.uint64)
        hit = np.zeros(len(keys), dtype=bool)
        if len(self._sorted):
            pos = np.searchsorted(self._sorted, keys)
            pos[pos == len(self._sorted)] = 0
            hit = self._sorted[pos] == keys
        if self._pending:
            hit |= np.isin(keys, np.concatenate(self._pending))
        return hit

    def add(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.uint64).ravel()
        if not len(keys):
            return
        self._pending.append(keys)
        self._n_pending += len(keys)
        # A merge sorts everything (O(n log n)); merging only when the pending part reaches 1/8 of the sorted part
        # keeps the total cost amortised O(n log n) while membership checks stay vectorised.
        if self._n_pending > max(1 << 16, len(self._sorted) // 8):
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._sorted = np.unique(np.concatenate([self._sorted, *self._pending]))
            self._pending, self._n_pending = [], 0

    @property
    def nbytes(self) -> int:
        return self._sorted.nbytes + 8 * self._n_pending
