"""Classification metrics, computed by scikit-learn: the one implementation behind dev selection, the floors, the
local ``evaluate`` modules in ``dapt/evaluation/metrics/`` and the bootstrap's parity check.

Semantics are scikit-learn's defaults (labels = those present in references or predictions); a label with
neither predictions nor references scores 0 in macro-F1 (``zero_division=0``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score


def _arrays(predictions: Sequence[int], references: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    # scikit-learn accepts these shapes too, but with an error that names neither argument: check first.
    p, r = np.asarray(predictions), np.asarray(references)
    if p.shape != r.shape or p.ndim != 1:
        raise ValueError(f"predictions {p.shape} and references {r.shape} must be equal-length 1-D sequences")
    if len(p) == 0:
        raise ValueError("cannot score an empty set of predictions")
    return p, r


def accuracy(predictions: Sequence[int], references: Sequence[int]) -> float:
    p, r = _arrays(predictions, references)
    return float(accuracy_score(r, p))


def micro_f1(predictions: Sequence[int], references: Sequence[int], labels: Sequence[int] | None = None) -> float:
    """Micro-averaged F1. Over all labels (the default, as in the DAPT paper's ChemProt score) it equals accuracy
    for single-label data; ``labels`` restricts the average to a subset."""
    p, r = _arrays(predictions, references)
    return float(f1_score(r, p, average="micro", labels=labels, zero_division=0))


def macro_f1(predictions: Sequence[int], references: Sequence[int], labels: Sequence[int] | None = None) -> float:
    """Unweighted mean of per-label F1."""
    p, r = _arrays(predictions, references)
    return float(f1_score(r, p, average="macro", labels=labels, zero_division=0))


METRICS = {"micro_f1": micro_f1, "macro_f1": macro_f1, "accuracy": accuracy}
