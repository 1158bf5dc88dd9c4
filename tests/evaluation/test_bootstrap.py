import numpy as np

from dapt.evaluation.bootstrap import paired_bootstrap


def test_identical_predictions_no_difference():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 5, 300)
    preds = [np.where(rng.random(300) < 0.7, gold, 0) for _ in range(3)]
    out = paired_bootstrap("micro_f1", gold, preds, preds, n_resamples=200)
    assert out["diff"] == 0 and out["ci95"] == [0.0, 0.0] and out["p_value"] == 1.0


def test_clear_gain_is_significant_and_clear_loss_negative():
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 5, 500)
    good = [np.where(rng.random(500) < 0.9, gold, (gold + 1) % 5) for _ in range(3)]
    bad = [np.where(rng.random(500) < 0.6, gold, (gold + 1) % 5) for _ in range(3)]
    up = paired_bootstrap("micro_f1", gold, good, bad, n_resamples=300)
    assert up["ci95"][0] > 0.2 and up["p_value"] < 0.01
    down = paired_bootstrap("micro_f1", gold, bad, good, n_resamples=300)
    assert down["ci95"][1] < 0 and down["diff"] < 0


def test_ci_covers_a_known_difference():
    """Test sets drawn from a population where the variant is right on 80% of examples and the baseline on 72%
    (micro-F1 = accuracy for one label per example): the 95% CI should contain the true +0.08 about 95% of the
    time over repeated draws."""
    rng = np.random.default_rng(7)
    covered, reps, n = 0, 60, 400
    for r in range(reps):
        gold = rng.integers(0, 4, n)
        wrong = (gold + 1) % 4

        good = [np.where(rng.random(n) < 0.80, gold, wrong) for _ in range(3)]
        base = [np.where(rng.random(n) < 0.72, gold, wrong) for _ in range(3)]
        out = paired_bootstrap("micro_f1", gold, good, base, n_resamples=300, seed=r)
        covered += out["ci95"][0] <= 0.08 <= out["ci95"][1]
    assert covered / reps >= 0.85


def test_weighted_scorers_match_the_metrics_on_explicit_resamples():
    """The bootstrap's count-based scorers equal scikit-learn / seqeval on the resampled examples themselves."""
    from dapt.evaluation.bootstrap import weighted_scorer
    from dapt.metrics import score

    rng = np.random.default_rng(3)
    gold = rng.integers(0, 6, 200)
    pred = np.where(rng.random(200) < 0.6, gold, rng.integers(0, 7, 200))
    types = ["O", "B-A", "I-A", "B-B", "I-B"]
    tag_gold = np.empty(80, dtype=object)
    tag_pred = np.empty(80, dtype=object)
    for i in range(80):
        n = int(rng.integers(1, 9))
        tag_gold[i] = [types[j] for j in rng.integers(0, 5, n)]
        tag_pred[i] = [t if rng.random() < 0.7 else types[int(rng.integers(0, 5))] for t in tag_gold[i]]
    for _ in range(20):
        for metric in ("micro_f1", "macro_f1", "accuracy"):
            idx = rng.integers(0, len(gold), len(gold))
            w = np.bincount(idx, minlength=len(gold)).astype(float)
            assert weighted_scorer(metric, gold, pred)(w) == score(metric, pred[idx], gold[idx])
        idx = rng.integers(0, 80, 80)
        w = np.bincount(idx, minlength=80).astype(float)
        got = weighted_scorer("span_f1", tag_gold, tag_pred, "BIO")(w)
        assert abs(got - score("span_f1", list(tag_pred[idx]), list(tag_gold[idx]), "BIO")) < 1e-12
