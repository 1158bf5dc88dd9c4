"""Holm-Bonferroni over the comparisons a report makes, in two families: the primary one (each variant vs the
baseline per task: the question the product answers) and the secondary one (contrasts between variants,
learning-curve points, transfer modes, general tasks). Each family's error rate stays at 5% however many rows it
has; Holm is uniformly more powerful than plain Bonferroni. The verdict reads the adjusted p; both are kept.

A comparison that appears twice (the transfer table's full fine-tuning cell is the main comparison when both are
scored on the same examples) counts once and shares its adjusted p. A refused comparison (one fine-tuning seed:
no p-value) is not in any family. After Holm, each comparison's power figures are computed at its own Holm
threshold (``alpha / (m - rank)``), the test it actually faces.
"""

from __future__ import annotations

from collections.abc import Iterator

from dapt.evaluation.power import ALPHA, power_figures

PRIMARY, SECONDARY = "primary", "secondary"


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


def comparisons_in(evaluation: dict) -> Iterator[tuple[str, dict]]:
    """``(family, comparison)`` for every comparison dict of an ``evaluation.json``: variants vs baseline
    (primary); the contrasts between variants, each learning-curve point's and each transfer mode's variants vs
    baseline, and each variant vs baseline on the general tasks (forgetting) (secondary)."""
    for per_task in evaluation.get("comparisons", {}).values():
        for cmp in per_task.values():
            yield PRIMARY, cmp
    for per_task in evaluation.get("contrasts", {}).values():
        for cmp in per_task.values():
            yield SECONDARY, cmp
    for points in evaluation.get("learning_curve", {}).values():
        for variants in points.values():
            for entry in variants.values():
                if "vs_baseline" in entry:
                    yield SECONDARY, entry["vs_baseline"]
    for per_task in evaluation.get("general_tasks", {}).values():
        for cell in per_task["variants"].values():
            if "vs_baseline" in cell:
                yield SECONDARY, cell["vs_baseline"]
    for per_task in evaluation.get("transfer", {}).values():
        for cells in per_task["modes"].values():
            for cell in cells.values():
                if "vs_baseline" in cell:
                    yield SECONDARY, cell["vs_baseline"]


def _fingerprint(cmp: dict) -> tuple:
    """Equal for two comparisons computed from the same predictions (same per-seed differences, SE and method);
    a comparison without per-seed differences is its own."""
    if "per_seed_diff" not in cmp:
        return ("object", id(cmp))
    return (tuple(round(d, 12) for d in cmp["per_seed_diff"]), round(cmp.get("se", 0.0), 12), cmp.get("method"))


def adjust_all(evaluation: dict) -> dict:
    """Add ``p_adjusted``, ``family``, ``n_comparisons`` (in its family) and the power figures at its Holm threshold
    to every comparison with a p-value, in place; returns ``{family: number of distinct comparisons}``."""
    unique: dict[str, dict[tuple, list[dict]]] = {PRIMARY: {}, SECONDARY: {}}
    seen: set[tuple] = set()
    for family, cmp in comparisons_in(evaluation):
        if cmp.get("p_value") is None:
            cmp["family"] = None  # refused: no seed-level inference from one seed
            continue
        key = _fingerprint(cmp)
        if key in seen and key not in unique[family]:
            family = next(f for f, groups in unique.items() if key in groups)  # a duplicate keeps its first family
        seen.add(key)
        unique[family].setdefault(key, []).append(cmp)
    counts = {}
    for family, groups in unique.items():
        reps = [copies[0] for copies in groups.values()]
        m = len(reps)
        counts[family] = m
        adjusted = holm_adjust([c["p_value"] for c in reps])
        ranks = {id(c): r for r, c in enumerate(sorted(reps, key=lambda c: c["p_value"]))}
        for copies, adj in zip(groups.values(), adjusted, strict=True):
            rep = copies[0]
            figures = power_figures(rep, ALPHA / (m - ranks[id(rep)])) if "se" in rep else {}
            for k, cmp in enumerate(copies):
                cmp.update(figures)
                cmp.update({"p_adjusted": adj, "family": family, "n_comparisons": m})
                if k:
                    cmp["duplicate"] = True
    return counts
