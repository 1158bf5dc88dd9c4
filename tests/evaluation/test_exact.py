import numpy as np
import pytest
from scipy import stats

from dapt.evaluation.exact import clopper_pearson, mcnemar_exact, paired_exact_interval


def test_clopper_pearson_at_the_edges_and_against_scipy():
    lo, hi = clopper_pearson(0, 101)
    assert lo == 0.0 and hi == pytest.approx(0.0359, abs=1e-4)  # not [0, 0]
    assert clopper_pearson(101, 101)[1] == 1.0
    ref = stats.binomtest(37, 120).proportion_ci(0.95, method="exact")
    assert clopper_pearson(37, 120) == pytest.approx((ref.low, ref.high))


def test_mcnemar_matches_the_binomial_on_the_discordant_pairs():
    rng = np.random.default_rng(3)
    gold = rng.integers(0, 3, 400)
    a = np.where(rng.random(400) < 0.7, gold, (gold + 1) % 3)
    b = np.where(rng.random(400) < 0.6, gold, (gold + 1) % 3)
    out = mcnemar_exact(gold, a, b)
    only_a, only_b = out["discordant"]
    assert out["p_value"] == pytest.approx(stats.binomtest(only_a, only_a + only_b).pvalue)
    assert out["diff"] == pytest.approx(np.mean(a == gold) - np.mean(b == gold))
    assert out["ci95"][0] < out["diff"] < out["ci95"][1]


def test_the_paired_interval_agrees_with_the_exact_test_and_keeps_width_at_zero_discordant():
    lo, hi = paired_exact_interval(0, 0, 101)
    assert hi == pytest.approx(0.0359, abs=1e-4) and lo == -hi  # not [0, 0]
    for b, c in [(4, 0), (9, 1), (30, 12), (12, 30), (6, 6)]:
        lo, hi = paired_exact_interval(b, c, 300)
        p = stats.binomtest(b, b + c).pvalue
        assert lo <= (b - c) / 300 <= hi
        assert (lo > 0 or hi < 0) == (p < 0.05), (b, c, p, lo, hi)


def test_the_paired_interval_covers_at_small_counts():
    # 5% of examples won by a, 3% by b (a true difference of +2 points), 200 examples a draw.
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(2000):
        cell = rng.multinomial(200, [0.05, 0.03, 0.92])
        lo, hi = paired_exact_interval(int(cell[0]), int(cell[1]), 200)
        hits += lo <= 0.02 <= hi
    assert hits / 2000 >= 0.93
