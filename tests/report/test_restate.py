"""Restating shipped evidence: the statistics change, nothing else; a one-seed run loses its claims; the report
carries the banners and still renders."""

import copy

import numpy as np
import pytest

from dapt.evaluation.seed_interval import t_interval
from dapt.report import build_results, render_report, validate_results
from dapt.report.restate import restate, verdict_table


def _run(seeds, per_seed_scores):
    test = {"chemprot": {v: {"metric": "micro_f1", "scores": s} for v, s in per_seed_scores.items()}}
    comparisons = {}
    for v, s in per_seed_scores.items():
        if v == "baseline":
            continue
        d = (np.asarray(s) - np.asarray(per_seed_scores["baseline"])).tolist()
        # As the shipped runs kept it: the old test-only interval (this one says "improved").
        comparisons[v] = {"diff": float(np.mean(d)), "ci95": [0.01, 0.05], "p_value": 0.001, "per_seed_diff": d,
                          "se": 0.005, "se_seeds": 0.004, "se_test": 0.003, "n_seeds": len(d)}
    return build_results("syn", "abc", seeds, test, {}, {"chemprot": comparisons}, {})


def test_restate_recomputes_from_the_kept_parts_and_changes_nothing_else():
    results = _run([0, 1, 2], {"baseline": [0.70, 0.71, 0.72], "dapt": [0.73, 0.72, 0.76]})
    kept = copy.deepcopy(results)
    new, pairs = restate(results)
    assert results == kept  # the input is untouched
    cmp = new["tasks"]["chemprot"]["dapt"]["vs_baseline"]
    want = t_interval(np.array([0.03, 0.01, 0.04]), 0.003**2, bounds=(-1, 1))
    assert cmp["ci95"] == pytest.approx(want["ci95"]) and cmp["df"] == 2.0
    assert new["tasks"]["chemprot"]["dapt"]["p_vs_baseline"] == cmp["p_value"]
    assert new["tasks"]["chemprot"]["dapt"]["scores"] == kept["tasks"]["chemprot"]["dapt"]["scores"]
    assert new["multiplicity"]["families"] == {"primary": 1, "secondary": 0}
    assert len(pairs) == 1 and "chemprot: dapt vs baseline" in verdict_table(pairs, 3)
    validate_results(new)


def test_a_one_seed_run_loses_its_claims_and_says_why():
    results = _run([0], {"baseline": [0.70], "dapt": [0.75]})
    new, pairs = restate(results)
    cmp = new["tasks"]["chemprot"]["dapt"]["vs_baseline"]
    assert cmp["ci95"] is None and cmp["p_value"] is None
    validate_results(new)
    table = verdict_table(pairs, 1)
    assert "| improved |" in table and "no inference" in table  # before and after
    new["superseded"] = "older statistics"
    md = render_report(new)
    assert "**Superseded.** older statistics" in md and "no interval: one fine-tuning seed" in md
    assert "improved" not in md.split("## Verdict")[1].split("##")[0]
