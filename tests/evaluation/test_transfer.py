"""The transfer table on a real (tiny) run: in-context modes from the prompting stage, full fine-tuning from the
fine-tuning stage, every mode scored on the same stratified test subset, shares of full fine-tuning."""

import json

import numpy as np

from dapt.evaluation.transfer import score_interval
from tests.prompting.test_stage import transfer_run  # noqa: F401 - the shared run fixture


def test_transfer_table_scores_every_mode_on_the_same_examples(transfer_run):  # noqa: F811
    run, _ = transfer_run
    for job in run.prompting_jobs():
        run.prompting(*job)
    for task_name, variant, seed, fraction in run.finetune_jobs():
        run.finetune(task_name, variant, seed, progress=False, fraction=fraction)
    assert run.fewshot_finetune_jobs() == [("t", "baseline", 0, 2), ("t", "baseline", 1, 2)]
    few = [run.finetune(t, v, s, progress=False, shots=k) for t, v, s, k in run.fewshot_finetune_jobs()]
    assert [f["examples"]["train"] for f in few] == [4, 4] and few[0]["train_shots_per_label"] == 2
    assert few[0]["settings"]["learning_rate"] == 1.0e-3  # transfer.few_shot_finetune over the task's settings
    # With equal k, the few-shot fine-tuning set is the seed's demonstrations.
    demos = run.prompting("t", "few_shot_icl", "baseline", 0)["demonstrations"]
    assert few[0]["examples"]["train"] == len(demos)
    evaluation = run.evaluate()
    table = evaluation["transfer"]["t"]
    assert table["test_examples"] == 10
    assert set(table["modes"]) == {"zero_shot", "few_shot_icl", "few_shot_ft", "full_ft"}
    zs = table["modes"]["zero_shot"]["baseline"]
    icl = table["modes"]["few_shot_icl"]["baseline"]
    full = table["modes"]["full_ft"]["baseline"]
    assert zs["n_seeds"] == 1 and icl["n_seeds"] == 2 and full["n_seeds"] == 2

    # Zero-shot's score is the accuracy of its predictions file; full fine-tuning is read on the same 10 examples.
    rows = [json.loads(x) for x in (run.ctx.layout.prompting_dir("t", "zero_shot", "baseline", 0) /
                                    "predictions_test.jsonl").read_text().splitlines()]  # fmt: skip
    assert zs["scores"] == [np.mean([r["pred"] == r["gold"] for r in rows])]
    ft = [json.loads(x) for x in (run.ctx.layout.finetune_dir("t", "baseline", 0) /
                                  "predictions_test.jsonl").read_text().splitlines()]  # fmt: skip
    # Fine-tuning predicts exactly that subset (of 20 test examples), as few-shot fine-tuning and the floors score it.
    assert [r["id"] for r in ft] == [r["id"] for r in rows] and len(ft) == 10
    assert full["scores"][0] == np.mean([r["pred"] == r["gold"] for r in ft])
    assert few[0]["examples"]["test"] == 10
    floors = run.floors("t")
    assert floors["test_examples"] == 10 and floors["test_examples_total"] == 20
    if full["mean"] > 0:
        assert zs["share_of_full_ft"] == zs["mean"] / full["mean"]
    assert full["share_of_full_ft"] in (1.0, None)
    assert "vs_baseline" not in zs  # the baseline is the reference

    # The report's table: a row per mode, the wall time per mode, validated results.json.
    results = run.report()
    assert results["transfer"]["t"]["test_examples"] == 10
    assert set(results["transfer_seconds"]["t"]) == {"zero_shot", "few_shot_icl", "few_shot_ft", "full_ft"}
    g = results["general_tasks"]["g"]
    assert g["test_examples"] == 20 and set(g["variants"]) == {"baseline"}
    report = (run.out_dir / "report.md").read_text()
    assert "## Forgetting in task terms" in report and "### g (20 examples, accuracy)" in report
    assert "## Transfer table" in report and "### t (10 test examples)" in report
    assert "| zero-shot (no training) | " in report  # deterministic: one run, no seed count
    for mode in ("few-shot in context", "few-shot fine-tuned", "fully fine-tuned"):
        assert f"| {mode}, 2 seeds | " in report


def test_score_interval_is_over_seeds_and_examples():
    gold = np.array([0, 1] * 50)
    perfect = score_interval("accuracy", gold, [gold.copy(), gold.copy()])
    assert perfect["mean"] == 1.0 and perfect["ci95"] == [1.0, 1.0]
    rng = np.random.default_rng(0)
    noisy = [np.where(rng.random(100) < 0.3, 1 - gold, gold) for _ in range(3)]
    cell = score_interval("accuracy", gold, noisy)
    lo, hi = cell["ci95"]
    assert lo < cell["mean"] < hi and 0.5 < cell["mean"] < 0.9 and hi - lo > 0.05


def test_score_interval_stays_in_the_metric_range_and_says_when_cut():
    """Two seeds that disagree a lot: t with 1 df reaches far past [0, 1]; the interval is cut to the range (its
    coverage is kept: the true score lies in it) and flagged, and the report marks the cell."""
    from dapt.report.transfer_table import _cell

    gold = np.array([0, 1] * 50)
    cell = score_interval("accuracy", gold, [gold.copy(), 1 - gold])  # seed scores 1.0 and 0.0
    assert cell["mean"] == 0.5 and cell["ci95"] == [0.0, 1.0] and cell["clipped"]
    assert _cell(cell) == "0.5000 [0.0000, 1.0000]*"
    rng = np.random.default_rng(0)
    noisy = [np.where(rng.random(100) < 0.3, 1 - gold, gold) for _ in range(3)]
    assert not score_interval("accuracy", gold, noisy)["clipped"]
