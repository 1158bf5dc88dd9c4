import numpy as np
import pytest
from scipy import stats

from dapt.evaluation.power import (
    minimum_detectable_difference,
    power_figures,
    power_two_sided,
    seed_sd_range,
    seeds_needed,
)


def test_the_mdd_has_exactly_80_percent_noncentral_t_power():
    mdd = minimum_detectable_difference(0.01, 2)
    assert power_two_sided(mdd, 0.01, 2) == pytest.approx(0.8, abs=1e-6)
    # Exact power needs more than the (t_crit + t_0.8) shortcut at 2 df.
    assert mdd > (stats.t.ppf(0.975, 2) + stats.t.ppf(0.8, 2)) * 0.01 * 0.99
    assert minimum_detectable_difference(0.01, np.inf) == pytest.approx((1.95996 + 0.84162) * 0.01, rel=1e-3)


def test_a_holm_threshold_raises_the_mdd():
    assert minimum_detectable_difference(0.01, 2, alpha=0.05 / 6) > 2 * minimum_detectable_difference(0.01, 2)


def test_seeds_needed_is_the_first_seed_count_that_reaches_the_target():
    k = seeds_needed(0.02, 0.002, 0.01)
    assert k is not None
    for kk, ok in ((k, True), (k - 1, False)):
        se = np.sqrt(0.02**2 / kk + 0.002**2)
        assert (minimum_detectable_difference(se, kk - 1) <= 0.01) is ok
    assert seeds_needed(0.01, 0.02, 0.01) is None  # the test set alone is too noisy


def test_the_figures_carry_the_seed_sd_uncertainty():
    lo, hi = seed_sd_range(1.0, 3)
    assert lo == pytest.approx(np.sqrt(2 / stats.chi2.ppf(0.975, 2))) and hi > 6 * lo
    cmp = {"se": 0.01, "se_seeds": 0.009, "se_test": 0.001, "df": 2.0, "n_seeds": 3}
    f = power_figures(cmp, alpha=0.05 / 4)
    assert f["mdd80_range"][0] < f["mdd80"] < f["mdd80_range"][1]
    low, high = f["seeds_for_1pt_range"]
    assert low is not None and low <= f["seeds_for_1pt"] and (high is None or high >= f["seeds_for_1pt"])
