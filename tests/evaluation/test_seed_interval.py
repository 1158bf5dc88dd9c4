"""The seed-aware interval's parts: the interaction correction, the one-seed refusal, the single-run exact path,
paired seeds, and the range cut. Coverage is measured in ``test_coverage.py``."""

import numpy as np
import pytest
from scipy import stats

from dapt.evaluation.seed_interval import ONE_SEED, interaction_free_variance, seed_aware_comparison, t_interval


def _preds(rng, gold, acc, n_seeds):
    return [np.where(rng.random(len(gold)) < acc, gold, (gold + 1) % 4) for _ in range(n_seeds)]


def test_the_interaction_is_not_counted_twice():
    # V_m = 1e-4 (seed mean), V_bar = 4e-4 (each seed's own): with 3 seeds the interaction part of V_m is
    # (4e-4 - 1e-4)/2 = 1.5e-4 > V_m, so the test part floors at 0; with V_bar = 1.6e-4 it is 1e-4 - 0.3e-4.
    assert interaction_free_variance(3, 1e-4, [4e-4] * 3) == 0.0
    assert interaction_free_variance(3, 1e-4, [1.6e-4] * 3) == pytest.approx(0.7e-4)
    assert interaction_free_variance(3, 1e-4, None) == 1e-4  # not recorded: the whole V_m, wider
    per_seed = np.array([0.01, 0.03, 0.02])
    corrected = t_interval(per_seed, 1e-4, per_seed_test_variance=[1.6e-4] * 3)
    whole = t_interval(per_seed, 1e-4)
    assert corrected["se"] == pytest.approx(np.sqrt(per_seed.var(ddof=1) / 3 + 0.7e-4))
    assert corrected["ci95"][1] - corrected["ci95"][0] < whole["ci95"][1] - whole["ci95"][0]
    assert corrected["interaction_corrected"] and not whole["interaction_corrected"]


def test_df_is_seeds_minus_one_and_the_p_value_comes_from_the_same_t():
    out = t_interval(np.array([0.02, 0.04, 0.03]), 1e-5)
    assert out["df"] == 2.0
    t = out["diff"] / out["se"]
    assert out["p_value"] == pytest.approx(2 * stats.t.sf(t, 2))
    assert out["ci95"][0] == pytest.approx(out["diff"] - stats.t.ppf(0.975, 2) * out["se"])


def test_one_fine_tuning_seed_is_refused():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 4, 200)
    out = seed_aware_comparison("accuracy", gold, _preds(rng, gold, 0.9, 1), _preds(rng, gold, 0.5, 1))
    # Even a 40-point gap is not "improved" from one seed: the seed spread is unobservable.
    assert out["diff"] > 0.3 and out["ci95"] is None and out["p_value"] is None and out["refused"] == ONE_SEED


def test_a_single_deterministic_run_gets_the_exact_mcnemar_test():
    gold = np.zeros(101, dtype=int)
    base = np.ones(101, dtype=int)
    better = base.copy()
    better[:4] = 0  # 4 discordant examples, all for the variant
    out = seed_aware_comparison("accuracy", gold, [better], [base], single_run=True)
    assert out["p_value"] == pytest.approx(0.125) and out["discordant"] == [4, 0]
    assert out["ci95"][0] < 0 < out["ci95"][1]  # the normal approximation (p 0.047) excludes 0
    macro = seed_aware_comparison("macro_f1", gold, [better], [base], n_resamples=200, single_run=True)
    assert "bootstrap" in macro["method"] and macro["single_run"]


def test_seeds_are_paired():
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 4, 300)
    base = _preds(rng, gold, 0.6, 3)
    # Each variant seed = its baseline seed with 10% of the examples flipped to right: a constant paired gain.
    variant = [np.where(rng.random(300) < 0.1, gold, b) for b in base]
    paired = seed_aware_comparison("accuracy", gold, variant, base, n_resamples=300)
    unpaired = seed_aware_comparison("accuracy", gold, variant, base[::-1], n_resamples=300)
    assert paired["se_seeds"] < unpaired["se_seeds"]
    with pytest.raises(ValueError, match="pair"):
        seed_aware_comparison("accuracy", gold, variant, base[:2], n_resamples=10)


def test_no_difference_gives_p_one_and_a_clear_one_a_small_p():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 4, 300)
    variant = _preds(rng, gold, 0.6, 3)
    same = seed_aware_comparison("micro_f1", gold, variant, variant, n_resamples=100)
    assert same["diff"] == 0 and same["ci95"] == [0.0, 0.0] and same["p_value"] == 1.0
    out = seed_aware_comparison("micro_f1", gold, _preds(rng, gold, 0.95, 3), _preds(rng, gold, 0.5, 3))
    assert out["p_value"] < 0.01 and out["ci95"][0] > 0.3 and out["n_seeds"] == 3 and out["df"] == 2


def test_a_difference_interval_never_leaves_minus_one_to_one():
    wide = t_interval(np.array([0.9, -0.9]), 0.0, bounds=(-1.0, 1.0))
    assert wide["ci95"] == [-1.0, 1.0] and wide["clipped"]
    raw = t_interval(np.array([0.9, -0.9]), 0.0)
    assert raw["ci95"][0] < -1 and not raw["clipped"]
    narrow = t_interval(np.array([0.10, 0.12, 0.11]), 1e-4, bounds=(-1.0, 1.0))
    assert narrow["ci95"] == t_interval(np.array([0.10, 0.12, 0.11]), 1e-4)["ci95"] and not narrow["clipped"]
