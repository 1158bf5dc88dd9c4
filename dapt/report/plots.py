"""Report figures as PNG (matplotlib, Agg backend): labelled axes with units, error bars where there is spread."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dapt.report.results import REFERENCE_ROWS

VARIANT_ORDER = ("baseline", "dapt", "dapt-replay", "tapt", "dapt+tapt", "knn-tapt", "general", "scratch")


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # no display on workers
    import matplotlib.pyplot as plt

    return plt


def _variants(rows: dict) -> list[str]:
    return sorted((v for v in rows if v not in REFERENCE_ROWS), key=lambda v: (*VARIANT_ORDER, v).index(v))


def scores_figure(task: str, rows: dict, path: Path) -> Path:
    """Test score per variant: mean over seeds, error bar = std, dots = seeds; the floors as horizontal lines."""
    plt = _plt()
    variants = _variants(rows)
    metric = rows[variants[0]]["metric"]
    fig, ax = plt.subplots(figsize=(1.3 * len(variants) + 2.5, 3.6))
    x = np.arange(len(variants))
    means = [rows[v]["mean"] for v in variants]
    stds = [rows[v]["std"] for v in variants]
    # Points, not bars: the axis does not start at 0 (the differences are a few points), and bars would exaggerate.
    ax.errorbar(x, means, yerr=stds, fmt="o", markersize=8, capsize=5, color="#4C72B0", label="mean ± std over seeds")
    for i, v in enumerate(variants):
        ax.scatter(
            [i + 0.12] * len(rows[v]["scores"]),
            rows[v]["scores"],
            color="black",
            s=10,
            zorder=3,
            label="one seed" if i == 0 else None,
        )
    for ref, style in zip(REFERENCE_ROWS, (":", "--"), strict=True):
        if ref in rows:
            ax.axhline(rows[ref]["mean"], color="#C44E52", linestyle=style, label=f"{ref} floor")
    lo = min([*means, *(rows[r]["mean"] for r in REFERENCE_ROWS if r in rows)])
    ax.set_ylim(max(0.0, lo - 0.1), min(1.0, max(m + s for m, s in zip(means, stds, strict=True)) + 0.05))
    ax.set_xticks(x, variants)
    ax.set_xlim(-0.5, len(variants) - 0.5)
    ax.set_ylabel(f"test {metric}")
    ax.set_title(f"{task}: test {metric} per variant")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def delta_figure(tasks: dict, path: Path) -> Path | None:
    """Difference vs baseline with its paired-bootstrap 95% CI, one row per (task, variant): a forest plot."""
    items = [
        (t, v, r["vs_baseline"])
        for t, rows in tasks.items()
        for v, r in rows.items()
        if r.get("vs_baseline") and r["vs_baseline"].get("ci95") is not None  # one seed: no interval to draw
    ]
    if not items:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(items) + 1.4))
    y = np.arange(len(items))[::-1]
    for yi, (_, _, c) in zip(y, items, strict=True):
        lo, hi = c["ci95"]
        color = "#55A868" if lo > 0 else "#C44E52" if hi < 0 else "#8C8C8C"
        ax.errorbar(c["diff"], yi, xerr=[[c["diff"] - lo], [hi - c["diff"]]], fmt="o", color=color, capsize=4)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [f"{t} / {v}" for t, v, _ in items])
    metric = next(iter(tasks.values()))[items[0][1]]["metric"]
    ax.set_xlabel(f"Δ test {metric} vs baseline (95% CI over seeds and test examples)")
    ax.set_title("What each adaptation bought\n(green: CI above 0, red: CI below 0, grey: CI includes 0)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def pretrain_figure(jobs: dict, path: Path) -> Path | None:
    """Continued-pretraining curves vs tokens seen: training loss, held-out domain perplexity, held-out general
    perplexity (forgetting), one line per pretraining job."""
    jobs = {k: j for k, j in jobs.items() if j.get("curve")}
    if not jobs:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = (
        ("loss", "training MLM loss"),
        ("heldout_ppl", "held-out domain perplexity"),
        ("general_ppl", "held-out general perplexity"),
    )
    # DAPT+TAPT continues from the DAPT model: its curve starts where DAPT's ends.
    dapt_tokens = ((jobs.get("dapt") or {}).get("summary") or {}).get("tokens_seen", 0)
    for ax, (key, label) in zip(axes, panels, strict=True):
        drawn = False
        for name, job in jobs.items():
            offset = dapt_tokens if name.startswith("dapt+tapt/") else 0
            pts = [
                (r["tokens"] + offset, r[key]) for r in job["curve"] if r.get(key) is not None and np.isfinite(r[key])
            ]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(np.asarray(xs) / 1e6, ys, marker="." if len(pts) < 30 else None, label=name)
                drawn = True
        if key != "loss" and drawn:
            ax.set_yscale("log")
        ax.set_xlabel("tokens seen (millions)")
        ax.set_ylabel(label)
        ax.set_title(label)
        if drawn:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def overlap_figure(diag: dict, path: Path) -> Path | None:
    """Vocabulary overlap heatmap (the DAPT paper's Figure 2): % of top-k words two texts share."""
    names = list(diag.get("vocab_overlap", {}))
    if len(names) < 2:
        return None
    plt = _plt()
    m = np.array([[100 * diag["vocab_overlap"][a][b] for b in names] for a in names])
    fig, ax = plt.subplots(figsize=(1.1 * len(names) + 2, 1.0 * len(names) + 1.2))
    im = ax.imshow(m, cmap="Blues", vmin=0, vmax=100)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{m[i, j]:.0f}", ha="center", va="center", color="white" if m[i, j] > 60 else "black")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names)
    fig.colorbar(im, ax=ax, label=f"% of top-{diag['top_k']:,} words shared")
    ax.set_title("Vocabulary overlap")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def curve_points(results: dict, task: str) -> dict[float, dict]:
    """``{fraction: {variant: row}}`` for a task's learning curve, the full-train rows as fraction 1."""
    points = {float(f): rows for f, rows in (results.get("learning_curve") or {}).get(task, {}).items()}
    if not points:
        return {}
    variants = {v for rows in points.values() for v in rows}
    points[1.0] = {v: r for v, r in results["tasks"][task].items() if v in variants}
    return dict(sorted(points.items()))


def learning_curve_figure(task: str, points: dict[float, dict], path: Path) -> Path:
    """Test score vs fraction of the train set (log axis), one line per variant, error bars = std over seeds."""
    plt = _plt()
    fracs = list(points)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for v in _variants({v: None for rows in points.values() for v in rows}):
        xs = [f for f in fracs if v in points[f]]
        ax.errorbar(
            [x * 100 for x in xs],
            [points[f][v]["mean"] for f in xs],
            yerr=[points[f][v]["std"] for f in xs],
            fmt="o-",
            capsize=4,
            label=v,
        )
    metric = next(iter(points[fracs[-1]].values()))["metric"]
    ax.set_xscale("log")
    ax.set_xticks([x * 100 for x in fracs], [f"{x * 100:g}%" for x in fracs])
    ax.set_xlabel("train examples used (% of the train set, log scale)")
    ax.set_ylabel(f"test {metric}")
    ax.set_title(f"{task}: learning curve (mean ± std over seeds)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def render_figures(results: dict, fig_dir: Path) -> dict[str, str]:
    """Every figure the results support, as ``{name: path relative to the report}``."""
    fig_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    for task, rows in results["tasks"].items():
        if _variants(rows):
            out[f"scores-{task}"] = scores_figure(task, rows, fig_dir / f"scores-{task}.png")
    for task in results["tasks"]:
        points = curve_points(results, task)
        if points:
            out[f"curve-{task}"] = learning_curve_figure(task, points, fig_dir / f"curve-{task}.png")
    made = {
        "delta": delta_figure(results["tasks"], fig_dir / "delta.png"),
        "pretrain": pretrain_figure(results.get("pretrain_jobs") or {}, fig_dir / "pretrain.png"),
        "overlap": overlap_figure(results.get("diagnostics") or {}, fig_dir / "overlap.png"),
    }
    out.update({k: v for k, v in made.items() if v is not None})
    return {k: f"{fig_dir.name}/{Path(v).name}" for k, v in out.items()}
