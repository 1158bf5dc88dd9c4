"""Paired bootstrap over test examples, pooled over seeds: is a variant's gain over the baseline more than noise?

Every resample draws the same test examples for both variants and all seeds (paired), scores each seed's
predictions on it, and records each seed's difference and their mean. The 95% interval is the 2.5-97.5
percentiles of the seed-mean differences; the two-sided p-value is twice the smaller tail mass beyond zero. The
bootstrap variances of the seed-mean difference and of each seed's own difference are what the seed-aware interval
(:mod:`dapt.evaluation.seed_interval`) reads: their gap is the seed x example interaction, which the seed spread
already carries and must not be counted twice.

Speed: scikit-learn's ``f1_score`` costs about 3 ms a call on 3,400 examples and seqeval re-extracts every span
each call, so 1,000 resamples x seeds x variants would take minutes per task. A resample is a multiset of
examples, so each metric is computed from per-example counts weighted by how often the resample drew each example
(per-label true/false positives and negatives, per-sentence span counts from seqeval's extraction), and all
resamples at once as one matrix product over a ``[resamples, examples]`` weight matrix.
``tests/evaluation/test_bootstrap.py`` checks these against :func:`dapt.metrics.score` on explicit resamples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dapt.metrics.spans import span_counts

CHUNK_RESAMPLES = 256  # weight-matrix rows per product: 256 x 3,469 float64 examples is 7 MB


def weighted_scorer(metric: str, gold: np.ndarray, preds: np.ndarray, tag_scheme: str = "BIO") -> Callable:
    """``f(weights)``: the metric of ``preds`` on the multiset of examples where example ``i`` appears
    ``weights[..., i]`` times; ``weights`` is ``[n]`` (one score) or ``[resamples, n]`` (one score per row)."""
    if metric == "span_f1":
        c = np.asarray(span_counts(list(preds), list(gold), tag_scheme), dtype=np.float64).reshape(-1, 3)

        def span(w: np.ndarray):
            counts = w @ c
            tp, n_pred, n_gold = counts[..., 0], counts[..., 1], counts[..., 2]
            p = np.divide(tp, n_pred, out=np.zeros_like(tp), where=n_pred > 0)
            r = np.divide(tp, n_gold, out=np.zeros_like(tp), where=n_gold > 0)
            f = np.divide(2 * p * r, p + r, out=np.zeros_like(tp), where=(p + r) > 0)
            return float(f) if f.ndim == 0 else f

        return span
    gold, preds = np.asarray(gold), np.asarray(preds)
    correct = (gold == preds).astype(np.float64)
    if metric in ("accuracy", "micro_f1"):
        # Single-label data: every wrong prediction is one false positive and one false negative, so micro-F1
        # equals accuracy.
        def acc(w: np.ndarray):
            out = (w @ correct) / w.sum(-1)
            return float(out) if np.ndim(out) == 0 else out

        return acc
    if metric != "macro_f1":
        raise ValueError(f"unknown metric {metric!r}")
    labels = np.unique(np.concatenate([gold, preds]))
    k = len(labels)
    g_onehot = np.eye(k)[np.searchsorted(labels, gold)]
    p_onehot = np.eye(k)[np.searchsorted(labels, preds)]
    tp_onehot = g_onehot * correct[:, None]

    def macro(w: np.ndarray):
        n_gold, n_pred, tp = w @ g_onehot, w @ p_onehot, w @ tp_onehot
        present = (n_gold + n_pred) > 0  # labels present in this resample only
        denom = n_gold + n_pred  # 2tp + fp + fn
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
        out = (f1 * present).sum(-1) / present.sum(-1)
        return float(out) if np.ndim(out) == 0 else out

    return macro


def resample_weights(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """``[n_resamples, n]``: how often each resample drew each of ``n`` examples (with replacement)."""
    rng = np.random.default_rng(seed)
    flat = rng.integers(0, n, (n_resamples, n)) + n * np.arange(n_resamples)[:, None]
    return np.bincount(flat.ravel(), minlength=n_resamples * n).reshape(n_resamples, n).astype(np.float64)


def per_seed_resampled(scorers_a: list[Callable], scorers_b: list[Callable], w: np.ndarray) -> np.ndarray:
    """``[resamples, seeds]``: each seed's ``a - b`` on every resample (row of ``w``), in chunks of rows."""
    out = np.empty((w.shape[0], len(scorers_a)))
    for start in range(0, w.shape[0], CHUNK_RESAMPLES):
        rows = w[start : start + CHUNK_RESAMPLES]
        for s, (fa, fb) in enumerate(zip(scorers_a, scorers_b, strict=True)):
            out[start : start + len(rows), s] = fa(rows) - fb(rows)
    return out


def paired_bootstrap(
    metric: str,
    gold: np.ndarray,
    preds_variant: list[np.ndarray],
    preds_baseline: list[np.ndarray],
    n_resamples: int = 1000,
    seed: int = 0,
    tag_scheme: str = "BIO",
) -> dict:
    """Difference ``variant - baseline`` of the seed-mean metric with its 95% CI and p-value (seeds paired by
    index: a seed fixes data order and head init for every variant).

    Args:
        gold: ``[n]`` gold label ids of the test set (identical across seeds and variants), or for ``span_f1`` an
            object array of ``n`` tag sequences (resampling is over sentences).
        preds_variant, preds_baseline: one ``[n]`` prediction array per seed.
        tag_scheme: BIO or BIOES, for ``span_f1``.
    """
    if len(preds_variant) != len(preds_baseline):
        raise ValueError(f"{len(preds_variant)} variant seeds but {len(preds_baseline)} baseline seeds: pair them")
    n = len(gold)
    variant = [weighted_scorer(metric, gold, p, tag_scheme) for p in preds_variant]
    baseline = [weighted_scorer(metric, gold, p, tag_scheme) for p in preds_baseline]
    ones = np.ones(n)
    per_seed = [v(ones) - b(ones) for v, b in zip(variant, baseline, strict=True)]
    resampled = per_seed_resampled(variant, baseline, resample_weights(n, n_resamples, seed))
    diffs = resampled.mean(axis=1)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    p = 2 * min(float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0)))
    ddof = 1 if n_resamples > 1 else 0
    return {
        "diff": float(np.mean(per_seed)),
        "ci95": [float(lo), float(hi)],
        "p_value": min(1.0, p),
        "n_resamples": n_resamples,
        # The test-set parts of the seed-aware interval (dapt.evaluation.seed_interval): the variance of the
        # seed-mean difference, and each seed's own difference's.
        "test_variance": float(diffs.var(ddof=ddof)),
        "per_seed_test_variance": resampled.var(axis=0, ddof=ddof).tolist(),
        "per_seed_diff": [float(d) for d in per_seed],
    }
