"""Power of the comparison actually run: its degrees of freedom, its place in the Holm family, exact
noncentral-t power, and a range that carries the uncertainty of the seed spread it was estimated from.

With ``n`` seeds the seed SD is estimated on ``n - 1`` df: at 3 seeds its 95% range spans a factor of about 6 (chi-
square), so "a 1-point difference needs 213 seeds" is a point inside "74 to never"; both ends are reported.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

ALPHA = 0.05
POWER = 0.8


def degrees_of_freedom(n_seeds: int) -> float:
    """df of the seed-aware t: ``n - 1`` at every seed count; infinite with one run (test-set noise only).

    Welch-Satterthwaite (the test-set variance treated as known) over-states df: with the interaction correction
    it covered 94.0% and 94.5% at 5 seeds in ``tests/evaluation/coverage_sim.py`` (1,000 experiments a cell);
    ``n - 1`` covers at least 95% in every cell there, at the price of power at 2-3 seeds (t with 1 df is 12.7
    standard errors)."""
    return np.inf if n_seeds < 2 else float(n_seeds - 1)


def power_two_sided(delta: float, se: float, df: float, alpha: float = ALPHA) -> float:
    """P(|T| > t_crit) for a true difference ``delta``: T noncentral t with ``df`` and noncentrality delta/se."""
    ncp = delta / se
    if not np.isfinite(df):
        z = stats.norm.ppf(1 - alpha / 2)
        return float(stats.norm.sf(z - ncp) + stats.norm.cdf(-z - ncp))
    tc = stats.t.ppf(1 - alpha / 2, df)
    # scipy's nct returns NaN for some far tails (e.g. df 1, ncp 15); such a tail is below 1e-15: count it as 0.
    upper, lower = stats.nct.sf(tc, df, ncp), stats.nct.cdf(-tc, df, ncp)
    return float(np.nan_to_num(upper, nan=1.0 if ncp > tc else 0.0) + np.nan_to_num(lower, nan=0.0))


def minimum_detectable_difference(se: float, df: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest true difference the two-sided test at ``alpha`` (with ``df``) detects with ``power``."""
    if se <= 0:
        return 0.0
    return float(se * optimize.brentq(lambda k: power_two_sided(k, 1.0, df, alpha) - power, 0.0, 1e4, xtol=1e-8))


def seed_sd_range(sd: float, n_seeds: int, level: float = 0.95) -> tuple[float, float]:
    """The ``level`` chi-square interval of a seed SD estimated from ``n_seeds`` seeds."""
    k = n_seeds - 1
    lo = sd * np.sqrt(k / stats.chi2.ppf(1 - (1 - level) / 2, k))
    hi = sd * np.sqrt(k / stats.chi2.ppf((1 - level) / 2, k))
    return float(lo), float(hi)


def se_at(sd_one_seed: float, se_test: float, k: int) -> tuple[float, float]:
    """SE and df of the seed-mean difference with ``k`` seeds: the seed part shrinks as 1/sqrt(k), the test part
    does not."""
    var_seed = sd_one_seed**2 / k
    return float(np.sqrt(var_seed + se_test**2)), degrees_of_freedom(k)


def seeds_needed(
    sd_one_seed: float, se_test: float, target: float, alpha: float = ALPHA, max_seeds: int = 1000
) -> int | None:
    """Fewest seeds that make ``target`` (0.01: one point) detectable with 80% power at ``alpha``; None if even
    ``max_seeds`` cannot (the test set alone is too small). The MDD falls monotonically with seeds (both its SE and
    its t quantile do), so a bisection finds the first ``k``."""

    def ok(k: int) -> bool:
        se, df = se_at(sd_one_seed, se_test, k)
        return minimum_detectable_difference(se, df, alpha) <= target

    if not ok(max_seeds):
        return None
    lo, hi = 2, max_seeds
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid + 1, hi)
    return lo


def power_figures(cmp: dict, alpha: float, target: float = 0.01) -> dict:
    """``mdd80`` (with its range from the seed-SD uncertainty) and the seeds a ``target`` difference needs (with
    its range), for a comparison tested at ``alpha`` (its Holm threshold)."""
    se, df = cmp["se"], cmp["df"] if cmp.get("df") is not None else np.inf
    out = {"alpha_holm": alpha, "mdd80": minimum_detectable_difference(se, df, alpha)}
    n = cmp.get("n_seeds", 1)
    if n < 2 or cmp.get("single_run"):
        return {**out, "mdd80_range": [out["mdd80"], out["mdd80"]], "seeds_for_1pt": None, "seeds_for_1pt_range": None}
    sd = cmp["se_seeds"] * np.sqrt(n)  # one seed's SD of the difference
    sd_lo, sd_hi = seed_sd_range(sd, n)
    se_test = cmp["se_test"]
    mdd = [minimum_detectable_difference(se_at(s, se_test, n)[0], df, alpha) for s in (sd_lo, sd_hi)]
    return {
        **out,
        "mdd80_range": mdd,
        "seeds_for_1pt": seeds_needed(sd, se_test, target, alpha),
        # Fewest seeds if the seed SD is at the low end of its range; at the high end (None: never).
        "seeds_for_1pt_range": [
            seeds_needed(sd_lo, se_test, target, alpha),
            seeds_needed(sd_hi, se_test, target, alpha),
        ],
    }
