"""An interval for ``variant - baseline`` that carries both sources of noise: the seeds (fine-tuning's data order,
head init and dropout: usually the larger part) and the test set (which examples happen to be in it).

With ``n`` seeds paired by seed index (a seed fixes data order and head init for every variant), ``d_s`` is seed
``s``'s difference on the whole test set. The seed-mean ``d`` has variance ``s_d^2 / n`` across seeds (``s_d``:
sample std of the ``d_s``) plus the test-set variance of the seed-mean difference, estimated by a paired bootstrap
over test examples (:func:`dapt.evaluation.bootstrap.paired_bootstrap`). The interval is ``d +- t * SE`` with
Welch-Satterthwaite degrees of freedom (at least ``n - 1``, so a 3-seed interval uses t with 2 df: wide, which is
the honest answer), and the two-sided p-value comes from the same t.

Why not a two-level bootstrap (seeds and examples resampled): with 3 seeds it has 10 distinct seed draws and
under-covers; ``tests/evaluation/test_seed_interval.py`` measures both against a population with a known
difference and a seed effect.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from dapt.evaluation.bootstrap import paired_bootstrap

ONE_POINT = 0.01
# Every metric here (accuracy, micro/macro/span F1) lies in [0, 1], so a difference of two lies in [-1, 1].
SCORE_RANGE = (0.0, 1.0)
DIFF_RANGE = (-1.0, 1.0)


def seed_aware_comparison(
    metric: str,
    gold: np.ndarray,
    preds_variant: list[np.ndarray],
    preds_baseline: list[np.ndarray],
    n_resamples: int = 1000,
    seed: int = 0,
    tag_scheme: str = "BIO",
) -> dict:
    """``diff``, ``ci95`` and ``p_value`` over seeds and test examples, with the parts they are built from."""
    if len(preds_variant) != len(preds_baseline):
        raise ValueError(f"{len(preds_variant)} variant seeds but {len(preds_baseline)} baseline seeds: pair them")
    test = paired_bootstrap(metric, gold, preds_variant, preds_baseline, n_resamples, seed, tag_scheme)
    return {
        **t_interval(np.asarray(test["per_seed_diff"]), float(test["test_variance"]), bounds=DIFF_RANGE),
        "test_only": {k: test[k] for k in ("diff", "ci95", "p_value")},
        "n_resamples": n_resamples,
    }


def t_interval(per_seed: np.ndarray, var_test: float, bounds: tuple[float, float] | None = None) -> dict:
    """The interval from per-seed paired differences and the test-set variance of their mean.

    ``bounds``: the range the quantity can take (a score in [0, 1], a difference of two in [-1, 1]). With few
    seeds, t's heavy tails reach past it (2 seeds: t with 1 df, 12.7 standard errors); the interval is cut to the
    range, which keeps its coverage (the true value lies inside the range), and ``clipped`` says so."""
    per_seed = np.asarray(per_seed, dtype=np.float64)
    n = len(per_seed)
    diff = float(per_seed.mean())
    var_seed = float(per_seed.var(ddof=1)) / n if n > 1 else 0.0
    se = float(np.sqrt(var_seed + var_test))
    # Welch-Satterthwaite with the bootstrap's variance treated as known (infinite df), never below n - 1; with
    # one seed (or seeds that agree exactly) only the test-set part is left: normal.
    df = np.inf if var_seed == 0 else max(float(n - 1), (n - 1) * (se**2 / var_seed) ** 2)
    if se == 0:
        lo = hi = diff
        p = 1.0 if diff == 0 else 0.0
    else:
        t = float(stats.t.ppf(0.975, df))
        lo, hi = diff - t * se, diff + t * se
        p = float(2 * stats.t.sf(abs(diff) / se, df))
    clipped = bounds is not None and (lo < bounds[0] or hi > bounds[1])
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return {
        "diff": diff,
        "ci95": [float(lo), float(hi)],
        "clipped": clipped,
        "p_value": min(1.0, p),
        "method": "t over seeds (paired) + test-set bootstrap variance",
        "per_seed_diff": per_seed.tolist(),
        "se": se,
        "se_seeds": float(np.sqrt(var_seed)),
        "se_test": float(np.sqrt(var_test)),
        "df": df if np.isfinite(df) else None,
        "n_seeds": n,
        # Power at these seeds: the smallest difference detected 80% of the time, and the seeds a 1-point one needs.
        "mdd80": minimum_detectable_difference(se, n),
        "seeds_for_1pt": seeds_needed(float(np.sqrt(var_seed)), float(np.sqrt(var_test)), n, ONE_POINT)
        if n > 1
        else None,
    }


def minimum_detectable_difference(se: float, n_seeds: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest true difference a two-sided test at ``alpha`` detects with probability ``power``, given the
    standard error ``se`` of the seed-mean difference (t with ``n_seeds - 1`` df; normal for one seed)."""
    df = max(1, n_seeds - 1) if n_seeds > 1 else np.inf
    return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * se)


def seeds_needed(se_seeds: float, se_test: float, n_seeds: int, target: float, max_seeds: int = 1000) -> int | None:
    """How many seeds make ``target`` (e.g. 0.01, one point) detectable at 80% power: the seed part of the standard
    error shrinks as 1/sqrt(seeds), the test-set part does not. None if even ``max_seeds`` cannot."""
    var_one_seed = se_seeds**2 * n_seeds
    for k in range(2, max_seeds + 1):
        se = float(np.sqrt(var_one_seed / k + se_test**2))
        if minimum_detectable_difference(se, k) <= target:
            return k
    return None
