"""Assemble ``results.json``.

Contract (keys other tools rely on; more are welcome)::

    {"recipe": "...", "tasks": {"<task>": {"<variant>": {"metric": "micro_f1", "scores": [<one per seed>],
      "mean": <float>, "std": <float>}}}}

Besides the variants, each task carries the reference rows ``majority`` and ``tfidf-lr`` (``"reference": true``),
and each variant other than the baseline a ``vs_baseline`` paired-bootstrap comparison, also flattened into
``diff_vs_baseline``, ``ci95``, ``p_vs_baseline`` and ``p_adjusted_vs_baseline`` (Holm over the report's
comparisons). ``contrasts`` holds the comparisons between variants (``"dapt vs general"``...), ``best_on_dev`` the
variant each task would pick on dev. With a learning curve, ``learning_curve`` holds the same rows
per task, train fraction and variant: ``{"<task>": {"<fraction>": {"<variant>": row}}}``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")

FLOOR_ROW = "tfidf-lr"
REFERENCE_ROWS = ("majority", "tfidf-lr")
BELOW_FLOOR = "below the bag-of-words floor: the comparison is not informative"


def _mean_std(scores: list[float]) -> tuple[float, float]:
    arr = np.asarray(scores, dtype=float)
    # Sample std (ddof=1) across seeds: the spread a rerun with new seeds would show; 0 for a single seed.
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def variant_row(entry: dict, seeds: list[int], dev_scores: list[float], comparison: dict | None) -> dict:
    """One variant's row: per-seed test scores, mean/std, dev scores and (not for the baseline) the comparison."""
    mean, std = _mean_std(entry["scores"])
    row = {
        "metric": entry["metric"],
        "scores": entry["scores"],
        "mean": mean,
        "std": std,
        "seeds": seeds,
        "dev_scores": dev_scores,
    }
    if comparison is not None:
        row["vs_baseline"] = comparison
        row["diff_vs_baseline"] = comparison["diff"]
        row["ci95"] = comparison["ci95"]
        row["p_vs_baseline"] = comparison["p_value"]
        if "p_adjusted" in comparison:
            row["p_adjusted_vs_baseline"] = comparison["p_adjusted"]
    return row


NEGATIVE_TRANSFER = "significantly worse than the baseline after correction for multiplicity: negative transfer"


def p_for_verdict(comparison: dict) -> float:
    """The p-value a verdict reads: Holm-adjusted where the evaluation made several comparisons; 1 (no evidence)
    for a refused one-seed comparison, which has none."""
    p = comparison.get("p_adjusted", comparison.get("p_value"))
    return 1.0 if p is None else p


def best_on_dev(rows: dict) -> str | None:
    """The variant with the highest mean dev score (choices are made on dev; test is only reported)."""
    scored = {v: r for v, r in rows.items() if not r.get("reference") and r.get("dev_scores")}
    return max(scored, key=lambda v: float(np.mean(scored[v]["dev_scores"]))) if scored else None


def build_results(
    recipe_name: str,
    config_hash: str,
    seeds: list[int],
    test_scores: dict,
    dev_scores: dict,
    comparisons: dict,
    floors: dict,
    extra: dict | None = None,
) -> dict:
    """Combine per-seed test scores, dev scores, bootstrap comparisons and floors into the results document.

    Args:
        test_scores: ``{task: {variant: {"metric", "scores"}}}`` from the evaluation stage.
        dev_scores: ``{task: {variant: [dev score per seed]}}``.
        comparisons: ``{task: {variant: paired_bootstrap(...) result}}`` for non-baseline variants.
        floors: ``{task: compute_floors(...) result}`` (may be empty when the recipe turns floors off).
    """
    tasks: dict = {}
    flags: list[dict] = []
    for task, variants in test_scores.items():
        rows: dict = {}
        floor = floors.get(task, {}).get(FLOOR_ROW)
        for variant, entry in variants.items():
            row = variant_row(
                entry, seeds, dev_scores.get(task, {}).get(variant, []), comparisons.get(task, {}).get(variant)
            )
            mean = row["mean"]
            if floor is not None:
                row["below_floor"] = bool(mean <= floor["test"])
                if row["below_floor"]:
                    flags.append(
                        {
                            "task": task,
                            "variant": variant,
                            "mean": mean,
                            "floor": FLOOR_ROW,
                            "floor_score": floor["test"],
                            "message": BELOW_FLOOR,
                        }
                    )
            cmp = row.get("vs_baseline")
            if cmp is not None and cmp["diff"] < 0 and p_for_verdict(cmp) < 0.05:
                row["negative_transfer"] = True
                flags.append(
                    {
                        "task": task,
                        "variant": variant,
                        "mean": mean,
                        "floor": "baseline",
                        "floor_score": float(np.mean(variants["baseline"]["scores"])),
                        "message": NEGATIVE_TRANSFER,
                    }
                )
            rows[variant] = row
        for ref in REFERENCE_ROWS:
            if ref in floors.get(task, {}):
                f = floors[task][ref]
                rows[ref] = {
                    "metric": f["metric"],
                    "scores": [f["test"]],
                    "mean": f["test"],
                    "std": 0.0,
                    "reference": True,
                    "dev": f.get("dev"),
                }
        tasks[task] = rows
    best = {task: best_on_dev(rows) for task, rows in tasks.items()}
    return {
        "recipe": recipe_name,
        "config_hash": config_hash,
        "seeds": seeds,
        "tasks": tasks,
        "flags": flags,
        "best_on_dev": best,
        **(extra or {}),
    }


def validate_results(results: dict) -> None:
    """Raise ``jsonschema.ValidationError`` (with the failing path) if ``results`` breaks the contract."""
    import jsonschema

    jsonschema.validate(results, json.loads(SCHEMA_PATH.read_text()))
