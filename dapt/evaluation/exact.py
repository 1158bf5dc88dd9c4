"""Exact small-sample answers for single runs, where a t over seeds has nothing to stand on.

A zero-shot score or a zero-shot comparison is one deterministic run: its only noise is which test examples were
drawn. For accuracy (and single-label micro-F1, which equals it) that noise is binomial, so exact methods apply:

- a score: Clopper-Pearson, which stays honest at 0/101 ([0, 0.036], where a normal interval shows [0, 0]);
- a paired difference: McNemar's exact test on the discordant examples (conditional binomial; 4 of 4 discordant
  in one direction gives p = 0.125, where a normal approximation says 0.047), with the exact interval that
  agrees with it (:func:`paired_exact_interval`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

EXACT_METRICS = ("accuracy", "micro_f1")


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact binomial interval for ``k`` successes in ``n`` trials."""
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def paired_exact_interval(only_a: int, only_b: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """An interval for ``p_a - p_b`` of paired proportions that agrees with the exact McNemar test: conditional on
    the ``m`` discordant examples (as the test is), the Clopper-Pearson interval for the share won by ``a`` maps to
    ``(m / n) (2 pi - 1)``, so it excludes 0 exactly when the test's p is below ``1 - level``. With no discordant
    example the difference can still be as large as the discordance rate, whose Clopper-Pearson upper bound at
    0 of n gives the width (0 of 101: +-3.6 points, not [0, 0])."""
    m = only_a + only_b
    if m == 0:
        hi = clopper_pearson(0, n, level)[1]
        return -hi, hi
    lo, hi = clopper_pearson(only_a, m, level)
    return float(m / n * (2 * lo - 1)), float(m / n * (2 * hi - 1))


def mcnemar_exact(gold: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> dict:
    """``a - b`` in accuracy for one run each on the same examples: exact McNemar p, Newcombe interval, and the
    normal standard error of the difference (for the power figures)."""
    ra, rb = np.asarray(pred_a) == np.asarray(gold), np.asarray(pred_b) == np.asarray(gold)
    n = len(ra)
    only_a, only_b = int(np.sum(ra & ~rb)), int(np.sum(~ra & rb))
    m = only_a + only_b
    p = 1.0 if m == 0 else float(stats.binomtest(only_a, m, 0.5).pvalue)
    d = (only_a - only_b) / n
    se = float(np.sqrt(max(0.0, m / n**2 - d**2 / n)))
    return {
        "diff": float(d),
        "ci95": list(paired_exact_interval(only_a, only_b, n)),
        "clipped": False,
        "p_value": min(1.0, p),
        "method": "exact McNemar test (one run each) with its conditional exact interval",
        "discordant": [only_a, only_b],
        "per_seed_diff": [float(d)],
        "se": se,
        "se_seeds": 0.0,
        "se_test": se,
        "df": None,
        "n_seeds": 1,
        "single_run": True,
    }
