"""The transfer table (decoders): per task, each mode (zero-shot, few-shot in context, few-shot fine-tuned, fully
fine-tuned) x each variant, scored on the same test examples, with a seed-aware interval per cell, its share of the
same variant's full fine-tuning, and each variant vs the baseline within a mode (the verdict: did DAPT help this
mode?). The in-context modes may run on a stratified test subset; every mode is then scored on that subset, so a
row's cells and their shares compare like with like."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dapt.evaluation.bootstrap import resample_weights, weighted_scorer
from dapt.evaluation.exact import EXACT_METRICS, clopper_pearson
from dapt.evaluation.predictions import read_predictions
from dapt.evaluation.seed_interval import SCORE_RANGE, seed_aware_comparison, t_interval
from dapt.run.context import RunContext
from dapt.run.plan import fewshot_finetune_jobs, prompting_jobs

MODES = ("zero_shot", "few_shot_icl", "few_shot_ft", "full_ft")
# Deterministic modes: one run, no seed (greedy label scoring of a fixed model); the rest are seeded (demonstration
# draws, fine-tuning seeds). General-task forgetting is zero-shot too.
SINGLE_RUN_MODES = ("zero_shot",)


def score_interval(
    metric: str, gold: np.ndarray, preds: list[np.ndarray], n_resamples: int = 1000, single_run: bool = False
) -> dict:
    """A score's mean over seeds with its 95% interval over seeds and test examples (as the comparisons' intervals:
    seed spread plus the bootstrap variance of the seed mean, less the seed x example part).

    ``single_run``: one deterministic run (zero-shot): Clopper-Pearson for accuracy-like metrics (honest at 0/101),
    the bootstrap percentile interval otherwise. One seed of a seeded mode: no interval (``ci95`` None)."""
    scorers = [weighted_scorer(metric, gold, p) for p in preds]
    n = len(gold)
    per_seed = np.asarray([f(np.ones(n)) for f in scorers])
    cell = {"scores": per_seed.tolist(), "n_seeds": len(preds)}
    if single_run and metric in EXACT_METRICS:
        k = int(np.sum(np.asarray(preds[0]) == np.asarray(gold)))
        return {
            **cell,
            "mean": float(per_seed[0]),
            "ci95": list(clopper_pearson(k, n)),
            "clipped": False,
            "method": "Clopper-Pearson (one run)",
        }
    w = resample_weights(n, n_resamples, 0)
    boot = np.stack([f(w) for f in scorers], axis=1)  # [resamples, seeds]
    if single_run:
        lo, hi = np.percentile(boot[:, 0], [2.5, 97.5])
        return {
            **cell,
            "mean": float(per_seed[0]),
            "ci95": [float(lo), float(hi)],
            "clipped": False,
            "method": "bootstrap percentile (one run)",
        }
    t = t_interval(
        per_seed,
        float(boot.mean(1).var(ddof=1)),
        bounds=SCORE_RANGE,
        per_seed_test_variance=boot.var(axis=0, ddof=1).tolist(),
    )
    return {
        **cell,
        "mean": t["diff"],
        "ci95": t["ci95"],
        "clipped": t["clipped"],
        "method": t["method"],
        **({"refused": t["refused"]} if "refused" in t else {}),
    }


def _files(ctx: RunContext, task_name: str) -> dict[str, dict[str, list[Path]]]:
    r, lay = ctx.recipe, ctx.layout
    out: dict[str, dict[str, list[Path]]] = {}
    for t, mode, variant, seed in prompting_jobs(r):
        if t == task_name:
            out.setdefault(mode, {}).setdefault(variant, []).append(
                lay.prompting_dir(t, mode, variant, seed) / "predictions_test.jsonl"
            )
    for t, v, seed, shots in fewshot_finetune_jobs(r):
        if t == task_name:
            f = lay.finetune_dir(t, v, seed, shots=shots) / "predictions_test.jsonl"
            out.setdefault("few_shot_ft", {}).setdefault(v, []).append(f)
    variants = sorted({v for m in out.values() for v in m}, key=r.variants.index)
    out["full_ft"] = {
        v: [lay.finetune_dir(task_name, v, s) / "predictions_test.jsonl" for s in r.seeds] for v in variants
    }
    return out


def _read(path: Path, ids: list[str] | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Predictions and gold of a file, restricted to ``ids`` (in their order) when given."""
    pred, gold, file_ids = read_predictions(path)
    if ids is None:
        return np.asarray(pred), np.asarray(gold), file_ids
    at = {i: k for k, i in enumerate(file_ids)}
    if missing := [i for i in ids if i not in at]:
        raise ValueError(f"{path}: no prediction for test examples {missing[:3]} of the transfer subset")
    idx = [at[i] for i in ids]
    return np.asarray(pred)[idx], np.asarray(gold)[idx], ids


def transfer_table(ctx: RunContext) -> dict:
    """``{task: {"test_examples", "modes": {mode: {variant: cell}}}}``; a cell has the score interval,
    ``share_of_full_ft`` and, for every variant but the baseline, ``vs_baseline``."""
    r = ctx.recipe
    if r.transfer is None:
        return {}
    table: dict = {}
    for task in r.tasks:
        if task.prompt is None:
            continue
        files = _files(ctx, task.name)
        in_context = [f for mode in ("zero_shot", "few_shot_icl") if mode in files for f in files[mode]["baseline"]]
        first = in_context[0] if in_context else files["full_ft"]["baseline"][0]
        _, gold, ids = _read(first, None)
        modes: dict = {}
        for mode in MODES:
            if mode not in files:
                continue
            preds = {v: [_read(f, ids)[0] for f in fs] for v, fs in files[mode].items()}
            single = mode in SINGLE_RUN_MODES
            cells = {v: score_interval(task.metric, gold, p, single_run=single) for v, p in preds.items()}
            for v, cell in cells.items():
                if v != "baseline" and len(preds[v]) == len(preds["baseline"]):
                    cell["vs_baseline"] = seed_aware_comparison(
                        task.metric, gold, preds[v], preds["baseline"], single_run=single
                    )
            modes[mode] = cells
        for cells in modes.values():
            for v, cell in cells.items():
                full = modes["full_ft"][v]["mean"]
                cell["share_of_full_ft"] = cell["mean"] / full if full > 0 else None
        table[task.name] = {"test_examples": len(ids), "modes": modes}
    return table


def general_task_table(ctx: RunContext) -> dict:
    """Forgetting in task terms: ``{general task: {"test_examples", "variants": {variant: cell}}}``, each variant's
    zero-shot score with its interval and, but for the baseline, its difference from the baseline's."""
    r = ctx.recipe
    if r.transfer is None or not r.transfer.general_tasks:
        return {}
    jobs = [j for j in prompting_jobs(r) if j[0] in {g.name for g in r.transfer.general_tasks}]
    out: dict = {}
    for g in r.transfer.general_tasks:
        files = {
            v: ctx.layout.prompting_dir(t, m, v, s) / "predictions_test.jsonl" for t, m, v, s in jobs if t == g.name
        }
        read = {v: _read(f, None) for v, f in files.items()}
        gold = read["baseline"][1]
        cells = {v: score_interval(g.metric, gold, [p], single_run=True) for v, (p, _, _) in read.items()}
        for v, cell in cells.items():
            if v != "baseline":
                cell["vs_baseline"] = seed_aware_comparison(
                    g.metric, gold, [read[v][0]], [read["baseline"][0]], single_run=True
                )
        out[g.name] = {"metric": g.metric, "test_examples": len(gold), "variants": cells}
    return out
