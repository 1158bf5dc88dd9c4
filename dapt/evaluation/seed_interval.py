"""An interval for ``variant - baseline`` that carries both sources of noise: the seeds (fine-tuning's data order,
head init and dropout: usually the larger part) and the test set (which examples happen to be in it).

Model: seed ``s``'s difference on test set ``T`` is ``d_s = mu + a_s + e(T) + g_s(T)``: a seed effect ``a``, a
test-set effect ``e`` shared by every seed, and a seed x example interaction ``g`` (seeds get different examples
right). The seed-mean ``d`` has variance ``(sa^2 + sg^2)/n + se^2``. The sample variance of the ``d_s`` over
seeds already estimates ``sa^2 + sg^2``; the paired bootstrap over test examples gives ``V_m``, the variance of
the seed mean (``se^2 + sg^2/n``), and ``V_bar``, the mean of each seed's own (``se^2 + sg^2``). Adding ``V_m``
to the seed part would count ``sg^2/n`` twice (12-34% of the variance in realistic simulations), so the test part
is ``V_m - (V_bar - V_m)/(n - 1)`` (floored at 0). Where ``V_bar`` was not recorded (results from before it was)
``V_m`` is used: wider, never narrower.

Degrees of freedom: ``n - 1`` (:func:`dapt.evaluation.power.degrees_of_freedom` says why not Welch-Satterthwaite).
``tests/evaluation/test_coverage.py`` measures coverage by simulation and rejects the wrong constructions.

One seed of a fine-tuned (seeded) comparison: no seed-level inference is possible (the seed spread is
unobservable), so no interval and no p-value are given, and the comparison leaves the Holm family. One run of a
deterministic mode (zero-shot) is a different case: its only noise is the test set, answered exactly
(:mod:`dapt.evaluation.exact`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from dapt.evaluation.bootstrap import paired_bootstrap
from dapt.evaluation.exact import EXACT_METRICS, mcnemar_exact
from dapt.evaluation.power import degrees_of_freedom

ONE_POINT = 0.01
# Every metric here (accuracy, micro/macro/span F1) lies in [0, 1], so a difference of two lies in [-1, 1].
SCORE_RANGE = (0.0, 1.0)
DIFF_RANGE = (-1.0, 1.0)
METHOD = "t over paired seeds (n-1 df) + test-set bootstrap variance less the seed x example part"
ONE_SEED = "one fine-tuning seed: the seed spread is unobservable, so no interval or p-value (run at least 2 seeds)"


def seed_aware_comparison(
    metric: str,
    gold: np.ndarray,
    preds_variant: list[np.ndarray],
    preds_baseline: list[np.ndarray],
    n_resamples: int = 1000,
    seed: int = 0,
    tag_scheme: str = "BIO",
    single_run: bool = False,
) -> dict:
    """``diff``, ``ci95`` and ``p_value`` over seeds and test examples, with the parts they are built from.

    ``single_run``: the predictions come from one deterministic run each (zero-shot scoring), not from seeds: an
    exact McNemar test for accuracy-like metrics, the test-set bootstrap otherwise."""
    if len(preds_variant) != len(preds_baseline):
        raise ValueError(f"{len(preds_variant)} variant seeds but {len(preds_baseline)} baseline seeds: pair them")
    if single_run:
        if len(preds_variant) != 1:
            raise ValueError(f"single_run comparisons take one run each, not {len(preds_variant)}")
        if metric in EXACT_METRICS:
            return {**mcnemar_exact(gold, preds_variant[0], preds_baseline[0]), "n_resamples": 0}
    test = paired_bootstrap(metric, gold, preds_variant, preds_baseline, n_resamples, seed, tag_scheme)
    test_only = {k: test[k] for k in ("diff", "ci95", "p_value")}
    if single_run:
        se = float(np.sqrt(test["test_variance"]))
        return {
            **test_only,
            "clipped": False,
            "method": f"paired bootstrap over test examples (one run each; no exact test for {metric})",
            "per_seed_diff": test["per_seed_diff"],
            **{"se": se, "se_seeds": 0.0, "se_test": se, "df": None, "n_seeds": 1, "single_run": True},
            "n_resamples": n_resamples,
        }
    out = t_interval(
        np.asarray(test["per_seed_diff"]),
        float(test["test_variance"]),
        per_seed_test_variance=test["per_seed_test_variance"],
        bounds=DIFF_RANGE,
    )
    return {**out, "test_only": test_only, "n_resamples": n_resamples}


def interaction_free_variance(n: int, var_mean: float, per_seed_test_variance: list[float] | None) -> float:
    """The test-set variance of the seed mean without the seed x example interaction the seed spread holds."""
    if per_seed_test_variance is None or n < 2:
        return var_mean
    v_bar = float(np.mean(per_seed_test_variance))
    return max(0.0, var_mean - (v_bar - var_mean) / (n - 1))


def t_interval(
    per_seed: np.ndarray,
    var_test: float,
    bounds: tuple[float, float] | None = None,
    per_seed_test_variance: list[float] | None = None,
) -> dict:
    """The interval from per-seed paired differences and the test-set variance of their mean (``var_test``;
    corrected with ``per_seed_test_variance`` where given). One seed: refused (``ci95`` and ``p_value`` None).

    ``bounds``: the range the quantity can take (a score in [0, 1], a difference of two in [-1, 1]). With few
    seeds, t's heavy tails reach past it (2 seeds: t with 1 df, 12.7 standard errors); the interval is cut to the
    range, which keeps its coverage (the true value lies inside the range), and ``clipped`` says so."""
    per_seed = np.asarray(per_seed, dtype=np.float64)
    n = len(per_seed)
    diff = float(per_seed.mean())
    if n < 2:
        return {
            "diff": diff,
            "ci95": None,
            "clipped": False,
            "p_value": None,
            "refused": ONE_SEED,
            "method": METHOD,
            "per_seed_diff": per_seed.tolist(),
            "n_seeds": n,
        }
    var_seed = float(per_seed.var(ddof=1)) / n
    var_t = interaction_free_variance(n, var_test, per_seed_test_variance)
    se = float(np.sqrt(var_seed + var_t))
    df = degrees_of_freedom(n)
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
        "method": METHOD,
        "per_seed_diff": per_seed.tolist(),
        "se": se,
        "se_seeds": float(np.sqrt(var_seed)),
        "se_test": float(np.sqrt(var_t)),
        # Whether the interaction correction could be applied (False: V_m used whole, which is wider).
        "interaction_corrected": per_seed_test_variance is not None,
        "df": df if np.isfinite(df) else None,
        "n_seeds": n,
    }
