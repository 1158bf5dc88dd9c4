"""Holm-Bonferroni over every comparison a report makes (tasks x comparisons x learning-curve points): the
family-wise error stays at 5% however many rows the report has, and Holm is uniformly more powerful than plain
Bonferroni. The verdict reads the adjusted p; both are kept."""

from __future__ import annotations

from collections.abc import Iterator


def holm_adjust(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order: sort ascending, multiply the i-th smallest (0-based)
    by ``m - i``, take the running maximum so the order is kept, cap at 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def comparisons_in(evaluation: dict) -> Iterator[dict]:
    """Every comparison dict of an ``evaluation.json``: variants vs baseline, the contrasts between variants, and
    each learning-curve point's variants vs baseline, and each transfer mode's variants vs baseline, and
    each variant vs baseline on the general tasks (forgetting)."""
    for per_task in evaluation.get("comparisons", {}).values():
        yield from per_task.values()
    for per_task in evaluation.get("contrasts", {}).values():
        yield from per_task.values()
    for points in evaluation.get("learning_curve", {}).values():
        for variants in points.values():
            for entry in variants.values():
                if "vs_baseline" in entry:
                    yield entry["vs_baseline"]
    for per_task in evaluation.get("general_tasks", {}).values():
        for cell in per_task["variants"].values():
            if "vs_baseline" in cell:
                yield cell["vs_baseline"]
    for per_task in evaluation.get("transfer", {}).values():
        for cells in per_task["modes"].values():
            for cell in cells.values():
                if "vs_baseline" in cell:
                    yield cell["vs_baseline"]


def adjust_all(evaluation: dict) -> int:
    """Add ``p_adjusted`` (Holm over all of them) and ``n_comparisons`` to every comparison, in place; returns the
    number of comparisons."""
    found = list(comparisons_in(evaluation))
    for cmp, adj in zip(found, holm_adjust([c["p_value"] for c in found]), strict=True):
        cmp["p_adjusted"] = adj
        cmp["n_comparisons"] = len(found)
    return len(found)
