"""The report stage of a run: gathers evaluation, fine-tuning summaries, floors, corpus stats and pretraining
curves into ``results.json`` (schema-validated), then ``report.md``, ``report.html`` and the figures.

It holds the stage lock but is never recorded in the ledger: it is rebuilt on every call from what the recorded
stages left (so ``wall_seconds``, the sum of the recorded stages' times, never counts a report)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dapt.report.portable import portable_paths
from dapt.run.context import RunContext
from dapt.run.plan import PretrainJob, pretrain_jobs
from dapt.run.provenance import DAPT_DIR, file_sha256


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.is_file() else []


def model_hashes(ctx: RunContext) -> dict[str, str]:
    """sha256 (first 16 hex digits) of the weights of the base model and of every adapted model."""
    dirs = {"baseline": ctx.model_dir("baseline")}
    dirs.update(
        {job.key.removeprefix("pretrain/"): ctx.layout.job_dir(job) / "model" for job in pretrain_jobs(ctx.recipe)}
    )
    out = {}
    for name, d in dirs.items():
        weights = sorted(Path(d).glob("*.safetensors"))
        if weights:
            out[name] = file_sha256(weights[0])[:16]
    return out


def _summaries(ctx: RunContext, task: str, variant: str, fraction: float = 1.0) -> list[dict]:
    return [
        json.loads((ctx.layout.finetune_dir(task, variant, s, fraction) / "summary.json").read_text())
        for s in ctx.recipe.seeds
    ]


def _finetune_tables(ctx: RunContext) -> tuple[dict, dict, dict, dict]:
    """Per task and variant: dev scores per seed, training cost, the label report, and how it was fine-tuned (the
    recipe's settings; the strategy and precision each seed's summary says ran)."""
    dev, cost, labels, how = {}, {}, {}, {}
    for task in ctx.recipe.tasks:
        dev[task.name], cost[task.name] = {}, {}
        how[task.name] = {"settings": ctx.recipe.finetune_for(task.name).model_dump(mode="json"), "variants": {}}
        for v in ctx.recipe.variants:
            sums = _summaries(ctx, task.name, v)
            dev[task.name][v] = [s[f"dev_{task.metric}"] for s in sums]
            cost[task.name][v] = {
                "train_seconds_mean": float(np.mean([s["train_seconds"] for s in sums])),
                "best_epochs": [s["best_epoch"] for s in sums],
            }
            labels[task.name] = sums[0]["labels"]
            how[task.name]["variants"][v] = {
                "strategy": sorted({s["strategy"]["name"] for s in sums if "strategy" in s}) or ["unknown"],
                "precision": sorted({s["precision"]["dtype"] for s in sums if "precision" in s}) or ["unknown"],
            }
    return dev, cost, labels, how


def _curve_rows(ctx: RunContext, evaluation: dict, floors: dict) -> dict:
    from dapt.report.results import variant_row

    curve: dict = {}
    for task_name, points in evaluation.get("learning_curve", {}).items():
        metric = ctx.task(task_name).metric
        for frac, variants in points.items():
            for v, entry in variants.items():
                sums = _summaries(ctx, task_name, v, float(frac))
                row = variant_row(
                    entry, list(ctx.recipe.seeds), [x[f"dev_{metric}"] for x in sums], entry.get("vs_baseline")
                )
                row["train_fraction"] = float(frac)
                row["train_examples"] = [x["examples"]["train"] for x in sums]
                row["train_seconds_mean"] = float(np.mean([x["train_seconds"] for x in sums]))
                floor = floors.get(task_name, {}).get("tfidf-lr")
                if floor is not None:  # a curve point is held to the same floor as the full-train rows
                    row["below_floor"] = bool(row["mean"] <= floor["test"])
                curve.setdefault(task_name, {}).setdefault(frac, {})[v] = row
    return curve


def report_stage(ctx: RunContext) -> dict:
    with ctx.ledger.lock("report"):
        return _report(ctx)


def _report(ctx: RunContext) -> dict:
    from dapt.report.html import render_html
    from dapt.report.markdown import render_report
    from dapt.report.plots import render_figures
    from dapt.report.results import build_results, validate_results

    lay, r = ctx.layout, ctx.recipe
    if not lay.evaluation_json.is_file():
        raise FileNotFoundError(f"report needs {lay.evaluation_json}: run `dapt evaluate` first")
    evaluation = json.loads(lay.evaluation_json.read_text())
    dev, cost, labels, how = _finetune_tables(ctx)
    floors = {
        t.name: json.loads(lay.floors_file(t.name).read_text()) for t in r.tasks if lay.floors_file(t.name).is_file()
    }
    curve = _curve_rows(ctx, evaluation, floors)
    info = ctx.ledger.read()
    corpus_stats = _read_json(lay.corpus_dir / "stats.json")
    extra = {
        "base_model": r.base_model,
        "finetune": how,
        "corpus": corpus_stats,
        "general_corpus": _read_json(lay.general_dir / "stats.json"),
        "diagnostics": _read_json(lay.corpus_dir / "diagnostics.json"),
        "pretrain": _read_json(lay.job_dir(PretrainJob("dapt")) / "summary.json"),
        "pretrain_jobs": {
            job.key.removeprefix("pretrain/"): {
                "summary": _read_json(lay.job_dir(job) / "summary.json"),
                "curve": _read_jsonl(lay.job_dir(job) / "metrics.jsonl"),
                **(
                    {"tokenizer": _read_json(lay.job_dir(job) / "scratch" / "tokenizer.json")}
                    if job.variant == "scratch"
                    else {}
                ),
            }
            for job in pretrain_jobs(r)
        },
        "finetune_cost": cost,
        "forgetting_max_base_ppl": r.forgetting_max_base_ppl,
        "contrasts": evaluation.get("contrasts", {}),
        "multiplicity": evaluation.get("multiplicity"),
        **({"learning_curve": curve} if curve else {}),
        "objective": r.pretrain.objective,
        **({"general_tasks": evaluation["general_tasks"]} if evaluation.get("general_tasks") else {}),
        **(
            {"transfer": evaluation["transfer"], "transfer_seconds": _transfer_seconds(ctx, info)}
            if evaluation.get("transfer")
            else {}
        ),
        "labels": labels,
        "floors": floors,
        "wall_seconds": sum(s.get("seconds", 0) for s in info["stages"].values()),
        "provenance": {
            **info.get("provenance", {}),
            "recipe_file": info.get("recipe_file"),
            "data_root": info.get("data_root"),
            "corpus_manifest_hash": (corpus_stats or {}).get("manifest_hash"),
            "model_sha256": model_hashes(ctx),
            # Every commit any recorded stage was built at: more than one means the results span code versions.
            "stage_commits": sorted({st.get("git_commit") for st in info["stages"].values()} - {None}),
        },
    }
    results = build_results(
        r.name, r.config_hash(), list(r.seeds), evaluation["test"], dev, evaluation["comparisons"], floors, extra
    )
    results = portable_paths(
        results,
        {"<run>": lay.out_dir, "<data>": ctx.data_root, "<repo>": DAPT_DIR.parent},
        exact={str(ctx.model_dir("baseline")): r.base_model},
    )
    validate_results(results)
    lay.results_json.write_text(json.dumps(results, indent=2))
    figures = render_figures(results, lay.figures_dir)
    md = render_report(results, figures)
    lay.report_md.write_text(md)
    lay.report_html.write_text(render_html(md, lay.out_dir, f"dapt report: {r.name}"))
    return results


def _transfer_seconds(ctx: RunContext, info: dict) -> dict:
    """Wall time per task and transfer mode: the prompting stages', and full fine-tuning's (every variant and
    seed of the table)."""
    out: dict = {}
    variants = set(ctx.recipe.transfer.variants or ctx.recipe.variants)
    for key, st in info["stages"].items():
        parts = key.split("/")
        if parts[0] == "prompting":
            task, mode = parts[1], parts[2]
        elif parts[0] == "finetune" and len(parts) == 4 and parts[2] in variants:
            task, mode = parts[1], "full_ft"
        elif parts[0] == "finetune" and len(parts) == 5 and parts[3].startswith("shots") and parts[2] in variants:
            task, mode = parts[1], "few_shot_ft"
        else:
            continue
        out.setdefault(task, {})[mode] = out.get(task, {}).get(mode, 0.0) + st.get("seconds", 0.0)
    return out
