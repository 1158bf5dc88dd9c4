"""Where the local ``evaluate`` metric modules live, and how to load one (imports ``evaluate``: ~9 s, so only
the evaluation stage calls this)."""

from __future__ import annotations

from pathlib import Path

METRICS_DIR = Path(__file__).resolve().parent / "metrics"


def metric_path(name: str) -> Path:
    path = METRICS_DIR / name
    if not (path / f"{name}.py").is_file():
        known = sorted(p.name for p in METRICS_DIR.iterdir() if p.is_dir())
        raise ValueError(f"no local evaluate module for metric {name!r}; known: {known}")
    return path


def load_metric(name: str):
    import evaluate

    return evaluate.load(str(metric_path(name)))
