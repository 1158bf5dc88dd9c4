"""A small dev-set sweep of fine-tuning settings on the base model (the baseline variant).

The shipped recipes' fine-tuning settings are chosen from this table, on dev only; the test split is not read.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

from dapt.finetune.train import run_finetune
from dapt.floors import compute_floors
from dapt.models import resolve_model
from dapt.recipe import FinetuneConfig, Recipe


def parse_grid(items: list[str]) -> dict[str, list]:
    """``["learning_rate=3e-4,1e-3", "epochs=3,6"]`` -> ``{"learning_rate": [3e-4, 1e-3], "epochs": [3, 6]}``."""
    grid: dict[str, list] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep:
            raise ValueError(f"--grid {item!r}: expected KEY=V1,V2,...")
        grid[key.strip()] = [
            json.loads(v) if v.strip()[0].isdigit() or v.strip()[0] == "-" else v for v in values.split(",")
        ]
    return grid


def run_sweep(
    recipe: Recipe,
    grid: dict[str, list],
    data_root: Path,
    out_dir: Path,
    seed: int | None = None,
    tasks: list[str] | None = None,
    shots: int | None = None,
) -> list[dict]:
    """Fine-tune the base model for every grid point and task; return and save rows of dev scores.

    ``shots``: sweep the transfer table's few-shot fine-tuning instead: ``shots`` train examples per label (the
    seed's draw, as the run's few-shot jobs), the recipe's few-shot settings under the grid's values and at least
    ``transfer.ft_min_train_steps`` steps."""
    if shots is not None and recipe.transfer is None:
        raise ValueError(f"--shots: recipe {recipe.name!r} has no transfer section (few-shot fine-tuning)")
    seed = recipe.seeds[0] if seed is None else seed
    model_dir = resolve_model(recipe.base_model)
    keys = list(grid)
    meta = {"recipe": recipe.name, "base_model": recipe.base_model, "grid": grid, "shots": shots}
    rows = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for values in itertools.product(*(grid[k] for k in keys)):
        overrides = dict(zip(keys, values, strict=True))
        for task in [t for t in recipe.tasks if tasks is None or t.name in tasks]:
            # Re-validated: a grid value of the wrong type or an unknown key fails here, naming the key.
            base = recipe.finetune_for(task.name) if shots is None else recipe.few_shot_finetune_for(task.name)
            cfg = FinetuneConfig.model_validate({**base.model_dump(), **overrides})
            t0 = time.perf_counter()
            tag = "_".join(f"{k}{v}" for k, v in overrides.items())
            res = run_finetune(
                task,
                model_dir,
                cfg,
                seed,
                data_root,
                out_dir / "runs" / task.name / tag,
                trust_remote_code=recipe.trust_remote_code,
                progress=False,
                predict_test=False,
                train_shots=shots,
                min_train_steps=recipe.transfer.ft_min_train_steps if shots is not None else 0,
            )
            row = {
                "task": task.name,
                **overrides,
                "seed": seed,
                "shots_per_label": shots,
                "train_examples": res.summary["examples"]["train"],
                "epochs_run": res.summary["settings"]["epochs"],
                "best_epoch": res.summary["best_epoch"],
                f"dev_{task.metric}": res.summary[f"dev_{task.metric}"],
                "metric": task.metric,
                "dev": res.summary[f"dev_{task.metric}"],
                "seconds": round(time.perf_counter() - t0, 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            (out_dir / "sweep.json").write_text(json.dumps({**meta, "rows": rows}, indent=2))
    floors = {}
    for task in [t for t in recipe.tasks if tasks is None or t.name in tasks]:
        f = compute_floors(task, data_root)
        floors[task.name] = {"majority_dev": f["majority"]["dev"], "tfidf_lr_dev": f["tfidf-lr"]["dev"]}
    (out_dir / "sweep.json").write_text(json.dumps({**meta, "rows": rows, "floors_dev": floors}, indent=2))
    (out_dir / "sweep.md").write_text(sweep_table(recipe.name, keys, rows, floors, shots))
    return rows


def sweep_table(
    recipe_name: str, keys: list[str], rows: list[dict], floors: dict | None = None, shots: int | None = None
) -> str:
    what = "" if shots is None else f", few-shot fine-tuning on {shots} train examples per label"
    lines = [
        f"# Dev sweep: {recipe_name} (baseline model, seed {rows[0]['seed'] if rows else '-'}{what}; dev only)",
        "",
    ]
    header = ["task", *keys, "best epoch", "dev score", "seconds"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    best_per_task: dict[str, float] = {}
    for r in rows:
        best_per_task[r["task"]] = max(best_per_task.get(r["task"], -1), r["dev"])
    for r in rows:
        mark = " **best**" if r["dev"] == best_per_task[r["task"]] else ""
        lines.append(
            "| "
            + " | ".join(
                [
                    r["task"],
                    *(str(r[k]) for k in keys),
                    str(r["best_epoch"]),
                    f"{r['dev']:.4f} ({r['metric']}){mark}",
                    str(r["seconds"]),
                ]
            )
            + " |"
        )
    for task, f in (floors or {}).items():
        lines.append(f"\nFloors on {task} dev: majority {f['majority_dev']:.4f}, tfidf-lr {f['tfidf_lr_dev']:.4f}.")
    return "\n".join(lines) + "\n"
