"""``dapt compare RUN_DIR...``: several runs side by side (two base models, two corpora, two budgets...)."""

from __future__ import annotations

import json
from pathlib import Path

from dapt.report.plots import VARIANT_ORDER
from dapt.report.results import REFERENCE_ROWS, p_for_verdict
from dapt.report.verdict import ci_text, fmt_p


def load_run(run_dir: Path) -> dict:
    """A run's results and how it was made, as its ``results.json`` records them ("unknown" where an older run did
    not record it; never guessed from defaults)."""
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no results.json (run `dapt report` there first)")
    results = json.loads(path.read_text())
    return {
        "dir": str(run_dir),
        "results": results,
        "base_model": results.get("base_model", "unknown"),
        "strategy": fine_tuning(results.get("finetune")),
    }


def fine_tuning(how: dict | None) -> str:
    """``full (lr 0.0003)``, per task where tasks differ (``chemprot: lora (lr 0.003); ...``)."""
    if not how:
        return "unknown"
    per_task = {}
    for task, h in how.items():
        ran = sorted({s for v in h.get("variants", {}).values() for s in v.get("strategy", [])}) or ["unknown"]
        per_task[task] = f"{'/'.join(ran)} (lr {h.get('settings', {}).get('learning_rate', 'unknown')})"
    values = set(per_task.values())
    return values.pop() if len(values) == 1 else "; ".join(f"{t}: {v}" for t, v in per_task.items())


def _cell(row: dict | None) -> str:
    if row is None:
        return "-"
    cell = f"{row['mean']:.4f} ± {row['std']:.4f}" if not row.get("reference") else f"{row['mean']:.4f}"
    cmp = row.get("vs_baseline")
    if cmp:
        # Marked only when significant after the run's own multiplicity correction (where it made one).
        sig = cmp.get("p_value") is not None and p_for_verdict(cmp) < 0.05
        mark = (" ▲" if cmp["diff"] > 0 else " ▼") if sig else ""
        adj = f", Holm p {fmt_p(cmp['p_adjusted'])}" if "p_adjusted" in cmp else ""
        cell += f" (Δ {cmp['diff']:+.4f} {ci_text(cmp['ci95'])}, p {fmt_p(cmp['p_value'])}{adj}{mark})"
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
        "Mean ± std over seeds; Δ vs that run's baseline with its 95% CI and p-value, and the Holm-adjusted p where "
        "the run made that correction (▲/▼: significant after it).",
    ]
    for name, r in zip(names, runs, strict=True):
        out += ["", f"## {name}: every comparison", "", *comparison_table(r["results"])]
    return "\n".join(out) + "\n"


def comparison_table(results: dict) -> list[str]:
    """Each comparison of a run (every variant vs the baseline, then the contrasts between variants): difference,
    95% CI, raw and Holm-adjusted p, and the verdict the report draws from them (a run that predates the
    correction shows "-" for the adjusted p, and its verdict reads the raw p)."""
    from dapt.report.verdict import judgement

    n_seeds = len(results.get("seeds") or [])
    rows = [
        (task, f"{v} vs baseline", row["vs_baseline"])
        for task, variants in results["tasks"].items()
        for v, row in variants.items()
        if row.get("vs_baseline")
    ]
    rows += [(task, name, cmp) for task, cs in (results.get("contrasts") or {}).items() for name, cmp in cs.items()]
    out = ["| task | comparison | Δ | 95% CI | p | p (Holm) | verdict |", "|---|---|---:|---|---|---|---|"]
    for task, name, cmp in rows:
        adj = fmt_p(cmp["p_adjusted"]) if "p_adjusted" in cmp else "-"
        out.append(
            f"| {task} | {name} | {cmp['diff']:+.4f} | {ci_text(cmp['ci95'])} | {fmt_p(cmp['p_value'])} | {adj} "
            f"| {judgement(cmp, n_seeds)} |"
        )
    return out
