"""Coverage of the seed-aware interval, measured so that it can fail: a shared model that seeds perturb, effects
that differ per example, seeds paired across variants, true differences of 0 and +4 points, 2, 3 and 5 seeds,
1,000 experiments a cell (a 92%-coverage interval falls below the 93.5% bar with probability about 0.95). The
same table must reject three wrong constructions: a normal quantile, seeds only, and an interval that covers
everything and detects nothing."""

import pytest

from tests.evaluation.coverage_sim import METHODS, Population, acceptable, coverage_table


@pytest.fixture(scope="module")
def table():
    return coverage_table(METHODS, runs=1000)


def test_dapt_interval_covers_at_every_seed_count_and_difference(table):
    assert acceptable(table, "dapt") == []


@pytest.mark.parametrize("wrong", ["normal quantile", "seeds only", "always [-1, 1]"])
def test_the_wrong_intervals_are_rejected(table, wrong):
    assert acceptable(table, wrong), f"{wrong} passed the coverage bar"


def test_the_population_difference_is_exact_and_heterogeneous():
    pop = Population.build(0.0)
    assert pop.true_diff == 0.0 and pop.h.std() > 0.3  # a null with examples helped and hurt
    import numpy as np
    from scipy import stats

    s = np.hypot(pop.seed_sd, pop.interaction_sd)
    assert np.mean(stats.norm.cdf((pop.z + pop.h) / s) - stats.norm.cdf(pop.z / s)) == pytest.approx(0.0, abs=1e-9)
