"""Paired bootstrap over test examples, pooled over seeds: is a variant's gain over the baseline more than noise?

Every resample draws the same test examples for both variants and all seeds (paired), scores each seed's
predictions on it, averages over seeds, and records the difference. The 95% interval is the 2.5-97.5 percentiles
of those differences; the two-sided p-value is twice the smaller tail mass beyond zero.
"""

from __future__ import annotations

import numpy as np

from dapt.evaluation.scores import score


def paired_bootstrap(
    metric: str,
    gold: np.ndarray,
    preds_variant: list[np.ndarray],
    preds_baseline: list[np.ndarray],
    n_resamples: int = 1000,
    seed: int = 0,
    tag_scheme: str = "BIO",
) -> dict:
    """Difference ``variant - baseline`` of the seed-mean metric with its 95% CI and p-value.

    Args:
        gold: ``[n]`` gold label ids of the test set (identical across seeds and variants), or for ``span_f1`` an
            object array of ``n`` tag sequences (resampling is over sentences).
        preds_variant, preds_baseline: one ``[n]`` prediction array per seed.
        tag_scheme: BIO or BIOES, for ``span_f1``.
    """
    rng = np.random.default_rng(seed)
    n = len(gold)

    def mean_score(preds: list[np.ndarray], idx: np.ndarray) -> float:
        return float(np.mean([score(metric, p[idx], gold[idx], tag_scheme) for p in preds]))

    full = np.arange(n)
    observed = mean_score(preds_variant, full) - mean_score(preds_baseline, full)
    diffs = np.empty(n_resamples)
    for b in range(n_resamples):
        idx = rng.integers(0, n, n)
        diffs[b] = mean_score(preds_variant, idx) - mean_score(preds_baseline, idx)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    p = 2 * min(float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0)))
    return {
        "diff": observed,
        "ci95": [float(lo), float(hi)],
        "p_value": min(1.0, p),
        "n_resamples": n_resamples,
    }
