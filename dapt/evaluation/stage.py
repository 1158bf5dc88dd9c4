"""The evaluation stage of a run: score every test prediction file with the local evaluate modules, and bootstrap
each variant against the baseline (full train sets, then each learning-curve point)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dapt.evaluation.multiplicity import adjust_all
from dapt.evaluation.seed_interval import seed_aware_comparison
from dapt.run.context import RunContext

CONTRASTS = (
    ("dapt", "general"),
    ("dapt+tapt", "dapt"),
    ("dapt-replay", "dapt"),
    ("dapt+tapt", "tapt"),
    ("scratch", "dapt"),
)
"""Comparisons between variants, besides each vs the baseline: is it the domain or just more training (DAPT vs
the budget-matched general control); does TAPT add to DAPT; what replay costs on the task; does DAPT add to TAPT;
does pretraining from scratch with a domain vocabulary beat continuing the general model (the PubMedBERT question)."""


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
    """Score each variant's per-seed test predictions; compare each variant with the baseline, and the contrasts
    that answer "domain or just more training?" (``CONTRASTS``), over seeds and test examples."""
    from dapt.evaluation.predictions import read_predictions, score_predictions

    missing = [str(f) for fs in files.values() for f in fs if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"evaluate: missing predictions (run `dapt finetune` first): {missing[:3]}")
    kwargs = {"scheme": task.tag_scheme} if task.is_tagging else {}
    scores = score_predictions(task.metric, {task.name: files}, kwargs)[task.name]
    preds = {v: [_as_array(read_predictions(f)[0]) for f in fs] for v, fs in files.items()}
    gold = _as_array(read_predictions(files["baseline"][0])[1])

    def compare(a: str, b: str) -> dict:
        return seed_aware_comparison(task.metric, gold, preds[a], preds[b], tag_scheme=task.tag_scheme)

    comparisons = {v: compare(v, "baseline") for v in files if v != "baseline"}
    contrasts = {f"{a} vs {b}": compare(a, b) for a, b in CONTRASTS if a in files and b in files}
    return scores, comparisons, contrasts


def evaluate_stage(ctx: RunContext) -> dict:
    lay, r = ctx.layout, ctx.recipe
    # Always recomputed (never skipped): it is cheap and reads every fine-tuning output.
    with ctx.stage("evaluate", evaluation_inputs(ctx), reuse=False):
        evaluation: dict = {"test": {}, "comparisons": {}, "contrasts": {}, "learning_curve": {}}
        for task in r.tasks:
            files = {
                v: [lay.finetune_dir(task.name, v, s) / "predictions_test.jsonl" for s in r.seeds] for v in r.variants
            }
            scores, comparisons, contrasts = score_variants(task, files)
            evaluation["test"][task.name] = scores
            evaluation["comparisons"][task.name] = comparisons
            evaluation["contrasts"][task.name] = contrasts
        points: dict[tuple[str, float], list[str]] = {}
        for task_name, variant, fraction in r.curve_points():  # one scoring per (task, fraction), baseline once
            points.setdefault((task_name, fraction), []).append(variant)
        for (task_name, fraction), variants in points.items():
            files = {
                v: [lay.finetune_dir(task_name, v, s, fraction) / "predictions_test.jsonl" for s in r.seeds]
                for v in variants
            }
            scores, comparisons, _ = score_variants(ctx.task(task_name), files)
            evaluation["learning_curve"].setdefault(task_name, {})[f"{fraction:g}"] = {
                v: {**scores[v], **({"vs_baseline": comparisons[v]} if v in comparisons else {})} for v in variants
            }
        from dapt.evaluation.transfer import general_task_table, transfer_table

        evaluation["transfer"] = transfer_table(ctx)
        evaluation["general_tasks"] = general_task_table(ctx)
        # Holm per family: the primary (each variant vs baseline per task) and the secondary (contrasts,
        # learning-curve points, transfer modes, general tasks).
        families = adjust_all(evaluation)
        evaluation["multiplicity"] = {"method": "holm", "families": families, "n_comparisons": sum(families.values())}
        lay.evaluation_json.write_text(json.dumps(evaluation, indent=2))
        return evaluation
