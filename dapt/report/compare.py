"""``dapt compare RUN_DIR...``: several runs side by side (two base models, two corpora, two budgets...)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from dapt.report.plots import VARIANT_ORDER
from dapt.report.results import REFERENCE_ROWS, p_for_verdict
from dapt.report.verdict import fmt_p


def load_run(run_dir: Path) -> dict:
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no results.json (run `dapt report` there first)")
    results = json.loads(path.read_text())
    recipe_file = Path(run_dir) / "recipe.yaml"
    recipe = yaml.safe_load(recipe_file.read_text()) if recipe_file.is_file() else {}
    finetune = recipe.get("finetune") or {}
    return {
        "dir": str(run_dir),
        "results": results,
        "base_model": recipe.get("base_model", "?"),
        "strategy": f"{finetune.get('strategy', 'full')} (lr {finetune.get('learning_rate', '?')})",
    }


def _cell(row: dict | None) -> str:
    if row is None:
        return "-"
    cell = f"{row['mean']:.4f} ± {row['std']:.4f}" if not row.get("reference") else f"{row['mean']:.4f}"
    cmp = row.get("vs_baseline")
    if cmp:
        lo, hi = cmp["ci95"]
        # Marked only when significant after the run's own multiplicity correction (where it made one).
        sig = p_for_verdict(cmp) < 0.05
        mark = (" ▲" if cmp["diff"] > 0 else " ▼") if sig else ""
        adj = f", Holm p {fmt_p(cmp['p_adjusted'])}" if "p_adjusted" in cmp else ""
        cell += f" (Δ {cmp['diff']:+.4f} [{lo:+.4f}, {hi:+.4f}], p {fmt_p(cmp['p_value'])}{adj}{mark})"
    return cell


def compare_markdown(run_dirs: list[Path]) -> str:
    runs = [load_run(d) for d in run_dirs]
    names = [f"run {i + 1}" for i in range(len(runs))]
    out = [
        "# dapt comparison",
        "",
        "| | run dir | recipe | base model | fine-tuning | config hash | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in zip(names, runs, strict=True):
        res = r["results"]
        out.append(
            f"| {name} | `{r['dir']}` | {res['recipe']} | {r['base_model']} | {r['strategy']} | `{res['config_hash']}` "
            f"| {res['seeds']} |"
        )
    tasks = list(dict.fromkeys(t for r in runs for t in r["results"]["tasks"]))
    for task in tasks:
        rows = [r["results"]["tasks"].get(task, {}) for r in runs]
        metric = next((v["metric"] for rs in rows for v in rs.values()), "score")
        variants = list(dict.fromkeys(v for rs in rows for v in rs))
        variants.sort(key=lambda v: ((*VARIANT_ORDER, *REFERENCE_ROWS, v)).index(v))
        out += [
            "",
            f"## {task}: test {metric}",
            "",
            "| variant | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for v in variants:
            out.append(f"| {v} | " + " | ".join(_cell(rs.get(v)) for rs in rows) + " |")
    out += [
        "",
        "Mean ± std over seeds; Δ vs that run's baseline with its paired-bootstrap 95% CI and p-value (▲/▼: CI "
        "excludes 0).",
    ]
    return "\n".join(out) + "\n"
