"""Task metrics, shared by every stage that scores (floors, fine-tuning's dev selection, evaluation): classification
metrics from scikit-learn, strict span F1 from seqeval, perplexity from per-token losses."""

from __future__ import annotations

from collections.abc import Sequence

from dapt.metrics.classification import METRICS, accuracy, macro_f1, micro_f1
from dapt.metrics.perplexity import perplexity
from dapt.metrics.spans import span_f1, span_prf

SEQUENCE_METRICS = {"span_f1"}
"""Metrics over tag sequences (lists of per-token tags), not over one label id per example."""


def score(metric: str, predictions: Sequence, references: Sequence, tag_scheme: str = "BIO") -> float:
    """Score with a metric by name: label ids for classification metrics, tag sequences for ``span_f1``."""
    if metric == "span_f1":
        return span_f1(predictions, references, tag_scheme)
    try:
        fn = METRICS[metric]
    except KeyError:
        raise ValueError(f"unknown metric {metric!r}; known: {sorted(METRICS)}") from None
    return fn(predictions, references)


__all__ = [
    "METRICS",
    "SEQUENCE_METRICS",
    "accuracy",
    "macro_f1",
    "micro_f1",
    "perplexity",
    "score",
    "span_f1",
    "span_prf",
]
