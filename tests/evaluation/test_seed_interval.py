"""Coverage of the seed-aware interval against a population with a known difference and a seed effect.

Each test example has a base probability of being answered right (q ~ U(0.25, 0.75)); a model's seed shifts the
whole prediction set by a seed effect e ~ N(0, 0.03) (the seed-to-seed spread of fine-tuning), and the variant is
5 points better on average. The true difference is +0.05. Each simulated experiment draws a fresh test set and
fresh seeds; a 95% interval should contain +0.05 in about 95% of them.
"""

import numpy as np
import pytest

from dapt.evaluation.bootstrap import paired_bootstrap
from dapt.evaluation.seed_interval import minimum_detectable_difference, seed_aware_comparison, seeds_needed

TRUE_DIFF = 0.05


def _experiment(rng, n_seeds: int, n_examples: int = 300, seed_sd: float = 0.03):
    gold = rng.integers(0, 4, n_examples)
    wrong = (gold + 1) % 4
    q = rng.uniform(0.25, 0.75, n_examples)

    def model(shift):
        return [
            np.where(rng.random(n_examples) < q + shift + rng.normal(0, seed_sd), gold, wrong) for _ in range(n_seeds)
        ]

    return gold, model(TRUE_DIFF), model(0.0)


@pytest.mark.parametrize("n_seeds", [3, 5])
def test_seed_aware_interval_covers_and_the_test_only_bootstrap_does_not(n_seeds):
    rng = np.random.default_rng(100 + n_seeds)
    new = old = 0
    reps = 200
    for r in range(reps):
        gold, variant, baseline = _experiment(rng, n_seeds)
        out = seed_aware_comparison("accuracy", gold, variant, baseline, n_resamples=200, seed=r)
        new += out["ci95"][0] <= TRUE_DIFF <= out["ci95"][1]
        test_only = paired_bootstrap("accuracy", gold, variant, baseline, n_resamples=200, seed=r)
        old += test_only["ci95"][0] <= TRUE_DIFF <= test_only["ci95"][1]
    assert new / reps >= 0.93, f"seed-aware coverage {new / reps:.3f} with {n_seeds} seeds"
    assert old / reps < new / reps - 0.05, f"test-only {old / reps:.3f} vs seed-aware {new / reps:.3f}"


def test_no_difference_gives_p_one_and_a_clear_one_a_small_p():
    rng = np.random.default_rng(0)
    gold, variant, _ = _experiment(rng, 3)
    same = seed_aware_comparison("micro_f1", gold, variant, variant, n_resamples=100)
    assert same["diff"] == 0 and same["ci95"] == [0.0, 0.0] and same["p_value"] == 1.0
    good = [np.where(rng.random(len(gold)) < 0.95, gold, (gold + 1) % 4) for _ in range(3)]
    bad = [np.where(rng.random(len(gold)) < 0.5, gold, (gold + 1) % 4) for _ in range(3)]
    out = seed_aware_comparison("micro_f1", gold, good, bad, n_resamples=200)
    assert out["p_value"] < 0.01 and out["ci95"][0] > 0.3 and out["n_seeds"] == 3 and out["df"] >= 2


def test_unpaired_seeds_are_refused():
    g = np.zeros(5, dtype=int)
    with pytest.raises(ValueError, match="pair"):
        seed_aware_comparison("accuracy", g, [g, g], [g], n_resamples=10)


def test_power_figures():
    # With SE 0.01 and 3 seeds (t, 2 df): (4.303 + 1.061) * 0.01.
    assert minimum_detectable_difference(0.01, 3) == pytest.approx(0.05364, abs=1e-4)
    assert minimum_detectable_difference(0.01, 30) < minimum_detectable_difference(0.01, 3)
    k = seeds_needed(se_seeds=0.01, se_test=0.002, n_seeds=3, target=0.01)
    assert k is not None and k > 3
    se_k = np.sqrt(0.01**2 * 3 / k + 0.002**2)
    assert minimum_detectable_difference(se_k, k) <= 0.01
    assert seeds_needed(se_seeds=0.01, se_test=0.02, n_seeds=3, target=0.01) is None  # test noise alone too big


def test_a_difference_interval_never_leaves_minus_one_to_one():
    from dapt.evaluation.seed_interval import t_interval

    wide = t_interval(np.array([0.9, -0.9]), 0.0, bounds=(-1.0, 1.0))
    assert wide["ci95"] == [-1.0, 1.0] and wide["clipped"]
    raw = t_interval(np.array([0.9, -0.9]), 0.0)
    assert raw["ci95"][0] < -1 and not raw["clipped"]
    narrow = t_interval(np.array([0.10, 0.12, 0.11]), 1e-4, bounds=(-1.0, 1.0))
    assert narrow["ci95"] == t_interval(np.array([0.10, 0.12, 0.11]), 1e-4)["ci95"] and not narrow["clipped"]
