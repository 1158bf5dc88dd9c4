"""Classification metrics in plain numpy: the one implementation behind both the dev-selection code and the local
``evaluate`` modules in ``metrics/``. Semantics follow scikit-learn's defaults (labels = those present in
references or predictions), which tests check on random inputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _arrays(predictions: Sequence[int], references: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    p, r = np.asarray(predictions), np.asarray(references)
    if p.shape != r.shape or p.ndim != 1:
        raise ValueError(f"predictions {p.shape} and references {r.shape} must be equal-length 1-D sequences")
    if len(p) == 0:
        raise ValueError("cannot score an empty set of predictions")
    return p, r


def accuracy(predictions: Sequence[int], references: Sequence[int]) -> float:
    p, r = _arrays(predictions, references)
    return float((p == r).mean())


def _per_label(p: np.ndarray, r: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tp = np.array([np.sum((p == lab) & (r == lab)) for lab in labels], dtype=float)
    fp = np.array([np.sum((p == lab) & (r != lab)) for lab in labels], dtype=float)
    fn = np.array([np.sum((p != lab) & (r == lab)) for lab in labels], dtype=float)
    return tp, fp, fn


def micro_f1(predictions: Sequence[int], references: Sequence[int], labels: Sequence[int] | None = None) -> float:
    """Micro-averaged F1. Over all labels (the default, as in the DAPT paper's ChemProt score) it equals accuracy
    for single-label data; ``labels`` restricts the average to a subset, like scikit-learn."""
    p, r = _arrays(predictions, references)
    labs = np.unique(np.concatenate([p, r])) if labels is None else np.asarray(labels)
    tp, fp, fn = (x.sum() for x in _per_label(p, r, labs))
    denom = 2 * tp + fp + fn
    return float(2 * tp / denom) if denom else 0.0


def macro_f1(predictions: Sequence[int], references: Sequence[int], labels: Sequence[int] | None = None) -> float:
    """Unweighted mean of per-label F1 (a label with no predictions and no references scores 0, as sklearn)."""
    p, r = _arrays(predictions, references)
    labs = np.unique(np.concatenate([p, r])) if labels is None else np.asarray(labels)
    tp, fp, fn = _per_label(p, r, labs)
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return float(f1.mean())


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


METRICS = {"micro_f1": micro_f1, "macro_f1": macro_f1, "accuracy": accuracy}
SEQUENCE_METRICS = {"span_f1"}
"""Metrics over tag sequences (lists of per-token tags), not over one label id per example."""


def score(metric: str, predictions: Sequence, references: Sequence, tag_scheme: str = "BIO") -> float:
    """Score with a metric by name: label ids for classification metrics, tag sequences for ``span_f1``."""
    if metric == "span_f1":
        from dapt.evaluation.spans import span_f1

        return span_f1(predictions, references, tag_scheme)
    try:
        fn = METRICS[metric]
    except KeyError:
        raise ValueError(f"unknown metric {metric!r}; known: {sorted(METRICS)}") from None
    return fn(predictions, references)
