"""Re-read a finished run's ``results.json`` with the seed-aware statistics, where its prediction files are gone.

The per-seed test scores are in every row (paired by seed index); the old test-only bootstrap interval gives the
test-set standard error back (its 95% width / 3.92, a normal approximation of the percentile interval). That is
all :func:`dapt.evaluation.seed_interval.t_interval` needs. Holm then runs over every comparison, as the evaluation
stage now does. Prints a markdown table of each comparison before (as shipped) and after.

    python -m dapt.report.reanalyse pipelines/results/dapt-biomed-tiny-2026-11-26/results.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dapt.evaluation import CONTRASTS, DIFF_RANGE, holm_adjust, t_interval
from dapt.report.verdict import fmt_p, judgement


def _rows(results: dict):
    """``(label, variant row, baseline row)`` for every variant-vs-baseline comparison, curve points included."""
    for task, rows in results["tasks"].items():
        for v, row in rows.items():
            if "vs_baseline" in row:
                yield f"{task} {v}", row, rows["baseline"]
    for task, points in (results.get("learning_curve") or {}).items():
        for frac, rows in points.items():
            for v, row in rows.items():
                if "vs_baseline" in row:
                    yield f"{task} {v} @ {float(frac):g}", row, rows["baseline"]


def reanalyse(results: dict) -> list[dict]:
    out = []
    for label, row, base in _rows(results):
        old = row["vs_baseline"]
        se_test = (old["ci95"][1] - old["ci95"][0]) / 3.92
        per_seed = np.asarray(row["scores"]) - np.asarray(base["scores"])
        out.append({"label": label, "old": old, "new": t_interval(per_seed, se_test**2, bounds=DIFF_RANGE)})
    for task, rows in results["tasks"].items():
        for a, b in CONTRASTS:
            if a in rows and b in rows and "vs_baseline" in rows[a] and "vs_baseline" in rows[b]:
                # Test-set SE of a contrast: not recoverable without predictions; the larger of the two is used.
                se = max(rows[x]["vs_baseline"]["ci95"][1] - rows[x]["vs_baseline"]["ci95"][0] for x in (a, b)) / 3.92
                per_seed = np.asarray(rows[a]["scores"]) - np.asarray(rows[b]["scores"])
                out.append(
                    {"label": f"{task} {a} vs {b}", "old": None, "new": t_interval(per_seed, se**2, bounds=DIFF_RANGE)}
                )
    for item, adj in zip(out, holm_adjust([x["new"]["p_value"] for x in out]), strict=True):
        item["new"]["p_adjusted"], item["new"]["n_comparisons"] = adj, len(out)
    return out


def _old_verdict(old: dict) -> str:
    lo, hi = old["ci95"]
    return "improved" if lo > 0 else "lowered" if hi < 0 else "no significant difference"


def table(items: list[dict], n_seeds: int) -> str:
    lines = [
        "| comparison | diff | before: CI (test bootstrap) | p | verdict "
        "| after: CI (seeds + test) | p | Holm p | verdict | MDD80 |",
        "|---|---:|---|---|---|---|---|---|---|---:|",
    ]
    for x in items:
        o, n = x["old"], x["new"]
        before = (
            f"[{o['ci95'][0]:+.4f}, {o['ci95'][1]:+.4f}] | {fmt_p(o['p_value'])} | {_old_verdict(o)}"
            if o
            else "- | - | (not compared)"
        )
        lines.append(
            f"| {x['label']} | {n['diff']:+.4f} | {before} | [{n['ci95'][0]:+.4f}, {n['ci95'][1]:+.4f}] | "
            f"{fmt_p(n['p_value'])} | {fmt_p(n['p_adjusted'])} | {judgement(n, n_seeds)} | {n['mdd80']:.4f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    args = ap.parse_args(argv)
    results = json.loads(args.results.read_text())
    print(table(reanalyse(results), len(results["seeds"])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
