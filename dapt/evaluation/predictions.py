"""Reading saved prediction files and scoring them with the task's local ``evaluate`` module."""

from __future__ import annotations

import json
from pathlib import Path


def read_predictions(path: Path) -> tuple[list[int], list[int], list[str]]:
    preds, gold, ids = [], [], []
    with path.open() as f:
        for line in f:
            row = json.loads(line)
            preds.append(row["pred"])
            gold.append(row["gold"])
            ids.append(row["id"])
    return preds, gold, ids


def score_predictions(
    metric_name: str, prediction_files: dict[str, dict[str, list[Path]]], metric_kwargs: dict | None = None
) -> dict:
    """``{task: {variant: [file per seed]}}`` -> ``{task: {variant: {"metric", "scores": [...]}}}``.

    Each file is scored with the local ``evaluate`` module of the task's metric (never the hub copy).
    """
    from dapt.evaluation.modules import load_metric

    out: dict = {}
    metrics: dict[str, object] = {}
    for task, variants in prediction_files.items():
        out[task] = {}
        for variant, files in variants.items():
            if metric_name not in metrics:
                metrics[metric_name] = load_metric(metric_name)
            scores = []
            for f in files:
                preds, gold, _ = read_predictions(f)
                result = metrics[metric_name].compute(predictions=preds, references=gold, **(metric_kwargs or {}))
                scores.append(result[metric_name])
            out[task][variant] = {"metric": metric_name, "scores": scores}
    return out
