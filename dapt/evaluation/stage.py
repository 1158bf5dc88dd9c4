"""The evaluation stage of a run: score every test prediction file with the local evaluate modules, and bootstrap
each variant against the baseline (full train sets, then each learning-curve point)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dapt.run.context import RunContext


def evaluation_inputs(ctx: RunContext) -> dict:
    return {"recipe": ctx.recipe.model_dump(mode="json")}  # cheap, and it reads everything


def _as_array(values: list) -> np.ndarray:
    """Label ids as an int array; tag sequences (lists of varying length) as a 1-D object array."""
    if values and isinstance(values[0], list):
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr
    return np.asarray(values)


def score_variants(task, files: dict[str, list[Path]]) -> tuple[dict, dict]:
    """Score each variant's per-seed test predictions; paired bootstrap of each variant against baseline."""
    from dapt.evaluation.bootstrap import paired_bootstrap
    from dapt.evaluation.predictions import read_predictions, score_predictions

    missing = [str(f) for fs in files.values() for f in fs if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"evaluate: missing predictions (run `dapt finetune` first): {missing[:3]}")
    kwargs = {"scheme": task.tag_scheme} if task.is_tagging else {}
    scores = score_predictions(task.metric, {task.name: files}, kwargs)[task.name]
    preds = {v: [_as_array(read_predictions(f)[0]) for f in fs] for v, fs in files.items()}
    gold = _as_array(read_predictions(files["baseline"][0])[1])
    comparisons = {
        v: paired_bootstrap(task.metric, gold, preds[v], preds["baseline"], tag_scheme=task.tag_scheme)
        for v in files
        if v != "baseline"
    }
    return scores, comparisons


def evaluate_stage(ctx: RunContext) -> dict:
    lay, r = ctx.layout, ctx.recipe
    # Always recomputed (never skipped): it is cheap and reads every fine-tuning output.
    with ctx.stage("evaluate", evaluation_inputs(ctx)) as st:
        st.done = False
        evaluation: dict = {"test": {}, "comparisons": {}, "learning_curve": {}}
        for task in r.tasks:
            files = {
                v: [lay.finetune_dir(task.name, v, s) / "predictions_test.jsonl" for s in r.seeds] for v in r.variants
            }
            scores, comparisons = score_variants(task, files)
            evaluation["test"][task.name] = scores
            evaluation["comparisons"][task.name] = comparisons
        points: dict[tuple[str, float], list[str]] = {}
        for task_name, variant, fraction in r.curve_points():  # one scoring per (task, fraction), baseline once
            points.setdefault((task_name, fraction), []).append(variant)
        for (task_name, fraction), variants in points.items():
            files = {
                v: [lay.finetune_dir(task_name, v, s, fraction) / "predictions_test.jsonl" for s in r.seeds]
                for v in variants
            }
            scores, comparisons = score_variants(ctx.task(task_name), files)
            evaluation["learning_curve"].setdefault(task_name, {})[f"{fraction:g}"] = {
                v: {**scores[v], **({"vs_baseline": comparisons[v]} if v in comparisons else {})} for v in variants
            }
        lay.evaluation_json.write_text(json.dumps(evaluation, indent=2))
        return evaluation
