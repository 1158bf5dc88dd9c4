"""Restate a finished run's ``results.json`` with the current statistics, where its prediction files are gone,
and re-render its report from it (the report stage alone: no number but the statistics changes).

What each comparison keeps is enough for the seed-aware interval: the per-seed paired differences and the
test-set SE of their mean (``se_test``; runs older than that give it back through their test-only bootstrap CI,
width / 3.92). The per-seed bootstrap variances were not kept, so the seed x example interaction cannot be taken
out: the whole test-set variance is used, which is wider, never narrower. One fine-tuning seed: refused. A
zero-shot (single-run) comparison keeps its stored test-set interval: the discordant counts an exact test needs
were not kept. Holm then runs per family with duplicates counted once, as the evaluation stage now does.

    python -m dapt.report.restate pipelines/results/dapt-biomed-cpu-3seed [--superseded "why"] [--table F.md]
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dapt.evaluation import DIFF_RANGE, adjust_all, t_interval
from dapt.report.results import NEGATIVE_TRANSFER, p_for_verdict
from dapt.report.verdict import ci_text, fmt_p, short_judgement


def _score_gap(rows: dict, a: str, b: str) -> list[float] | None:
    """Per-seed ``a - b`` from two rows' per-seed scores (paired by seed index), where both have them."""
    if a in rows and b in rows and len(rows[a].get("scores", [])) == len(rows[b].get("scores", [])) > 0:
        return (np.asarray(rows[a]["scores"]) - np.asarray(rows[b]["scores"])).tolist()
    return None


def _labelled(results: dict) -> Iterator[tuple[str, dict, bool, list[float] | None]]:
    """``(label, comparison, single_run, per-seed differences from the rows)`` for every comparison."""
    for task, rows in results["tasks"].items():
        for v, row in rows.items():
            if "vs_baseline" in row:
                yield f"{task}: {v} vs baseline", row["vs_baseline"], False, _score_gap(rows, v, "baseline")
    for task, cs in (results.get("contrasts") or {}).items():
        for name, cmp in cs.items():
            yield f"{task}: {name}", cmp, False, _score_gap(results["tasks"][task], *name.split(" vs "))
    for task, points in (results.get("learning_curve") or {}).items():
        for frac, rows in points.items():
            for v, row in rows.items():
                if "vs_baseline" in row:
                    gap = _score_gap(rows, v, "baseline")
                    yield f"{task} @ {float(frac):g}: {v} vs baseline", row["vs_baseline"], False, gap
    for task, t in (results.get("transfer") or {}).items():
        for mode, cells in t["modes"].items():
            for v, cell in cells.items():
                if "vs_baseline" in cell:
                    yield f"{task} {mode}: {v} vs baseline", cell["vs_baseline"], mode == "zero_shot", None
    for task, g in (results.get("general_tasks") or {}).items():
        for v, cell in g["variants"].items():
            if "vs_baseline" in cell:
                yield f"{task} (general, zero-shot): {v} vs baseline", cell["vs_baseline"], True, None


def restate_comparison(cmp: dict, single_run: bool, gap: list[float] | None) -> dict:
    """The comparison recomputed from what it kept (a new dict)."""
    if single_run:
        return {**cmp, "single_run": True, "n_seeds": 1, "method": cmp.get("method", "") + " (restated as kept)"}
    per_seed = cmp.get("per_seed_diff", gap)
    if per_seed is None:
        raise ValueError(f"no per-seed differences for {cmp}")
    se_test = cmp.get("se_test")
    if se_test is None:
        se_test = (cmp["ci95"][1] - cmp["ci95"][0]) / 3.92
    new = t_interval(np.asarray(per_seed), se_test**2, bounds=DIFF_RANGE)
    return {**new, "restated": "per-seed variances not kept: whole test-set variance used (wider)"}


def restate(results: dict) -> tuple[dict, list[dict]]:
    """``(restated results, [{label, before, after}])``; the input is not changed."""
    before = copy.deepcopy(results)
    out = copy.deepcopy(results)
    found = list(_labelled(out))
    for _, cmp, single, gap in found:
        new = restate_comparison(cmp, single, gap)
        cmp.clear()
        cmp.update(new)
    ev = {
        "comparisons": {
            t: {v: r["vs_baseline"] for v, r in rows.items() if "vs_baseline" in r} for t, rows in out["tasks"].items()
        },
        "contrasts": out.get("contrasts") or {},
        "learning_curve": out.get("learning_curve") or {},
        "transfer": out.get("transfer") or {},
        "general_tasks": out.get("general_tasks") or {},
    }
    families = adjust_all(ev)
    out["multiplicity"] = {"method": "holm", "families": families, "n_comparisons": sum(families.values())}
    _reflatten(out)
    pairs = [
        {"label": a[0], "before": a[1], "after": b[1]} for a, b in zip(_labelled(before), _labelled(out), strict=True)
    ]
    return out, pairs


def _reflatten(results: dict) -> None:
    """The row fields that copy a row's comparison, and the negative-transfer flags, from the new comparisons."""
    results["flags"] = [f for f in results.get("flags", []) if f.get("message") != NEGATIVE_TRANSFER]
    for task, rows in results["tasks"].items():
        for v, row in rows.items():
            cmp = row.get("vs_baseline")
            if cmp is None:
                continue
            row.update(diff_vs_baseline=cmp["diff"], ci95=cmp["ci95"], p_vs_baseline=cmp["p_value"])
            row.pop("negative_transfer", None)
            if "p_adjusted" in cmp:
                row["p_adjusted_vs_baseline"] = cmp["p_adjusted"]
            if cmp["diff"] < 0 and p_for_verdict(cmp) < 0.05:
                row["negative_transfer"] = True
                base = float(np.mean(rows["baseline"]["scores"]))
                results["flags"].append(
                    {
                        "task": task,
                        "variant": v,
                        "mean": row["mean"],
                        "floor": "baseline",
                        "floor_score": base,
                        "message": NEGATIVE_TRANSFER,
                    }
                )


def _old_verdict(cmp: dict, n_seeds: int) -> str:
    """What the shipped report concluded: its own rule (a CI that excluded 0 read "improved" in the oldest runs)."""
    if "p_adjusted" in cmp or "se" in cmp:
        return short_judgement(cmp, n_seeds)
    lo, hi = cmp["ci95"]
    return "improved" if lo > 0 else "lowered" if hi < 0 else "no significant difference"


def verdict_table(pairs: list[dict], n_seeds: int) -> str:
    lines = [
        "| comparison | Δ | before: CI | Holm p | verdict | after: CI | Holm p | verdict |",
        "|---|---:|---|---|---|---|---|---|",
    ]
    for x in pairs:
        b, a = x["before"], x["after"]
        p_before = fmt_p(b.get("p_adjusted", b.get("p_value")))
        lines.append(
            f"| {x['label']} | {a['diff']:+.4f} | {ci_text(b.get('ci95'))} | {p_before} "
            f"| {_old_verdict(b, n_seeds)} | {ci_text(a.get('ci95'))} "
            f"| {fmt_p(a.get('p_adjusted'))} | {short_judgement(a, n_seeds)} |"
        )
    return "\n".join(lines)


def rerender(run_dir: Path, results: dict) -> None:
    """report.md, report.html and the figures of ``run_dir`` from ``results`` (as the report stage writes them)."""
    from dapt.report.html import render_html
    from dapt.report.markdown import render_report
    from dapt.report.plots import render_figures
    from dapt.report.results import validate_results

    validate_results(results)
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    md = render_report(results, render_figures(results, run_dir / "figures"))
    (run_dir / "report.md").write_text(md)
    (run_dir / "report.html").write_text(render_html(md, run_dir, f"dapt report: {results['recipe']}"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path, help="a folder with results.json (a run's, or shipped evidence)")
    ap.add_argument("--superseded", help="a banner for the report's top: why this evidence is superseded")
    ap.add_argument("--table", type=Path, help="append the before/after verdict table to this markdown file")
    args = ap.parse_args(argv)
    results = json.loads((args.run_dir / "results.json").read_text())
    new, pairs = restate(results)
    new["restated"] = (
        "statistics restated from the kept per-seed differences (dapt.report.restate), no rerun; the per-seed "
        "bootstrap variances were not kept, so the test-set part is the whole bootstrap variance (wider than a new "
        "run's, never narrower), and zero-shot rows keep their stored test-set interval"
    )
    if args.superseded:
        new["superseded"] = args.superseded
    rerender(args.run_dir, new)
    table = verdict_table(pairs, len(results.get("seeds") or []))
    if args.table:
        with args.table.open("a") as f:
            f.write(f"\n## {args.run_dir.name}\n\n{table}\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
