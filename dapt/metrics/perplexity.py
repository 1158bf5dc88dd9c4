"""Perplexity from per-token negative log-likelihoods (no library computes it from losses; it is one line)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def perplexity(token_nll: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """``exp`` of the (weighted) mean negative log-likelihood per token, in nats. ``weights`` lets batch means be
    combined (weight = tokens in the batch) without keeping every token's loss."""
    nll = np.asarray(token_nll, dtype=np.float64)
    if nll.ndim != 1 or len(nll) == 0:
        raise ValueError("perplexity needs a non-empty 1-D sequence of per-token losses")
    w = np.ones_like(nll) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != nll.shape or (w < 0).any() or w.sum() == 0:
        raise ValueError("weights must be non-negative, not all zero, one per loss")
    return float(np.exp(np.sum(nll * w) / np.sum(w)))
