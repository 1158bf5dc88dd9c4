"""The verdict: one sentence per comparison, saying no more than the interval and the corrected p-value allow.

A difference is "improved"/"lowered" only when its Holm-adjusted p is below 0.05 (then its 95% CI excludes 0 too).
A CI that excludes 0 before correction but not after says so. A CI that spans 0 while the seeds used could not
have detected a 1-point difference (minimum detectable difference at 80% power above 0.01) is "inconclusive with
N seeds", not "no difference".
"""

from __future__ import annotations

from dapt.report.cost import hours as _hours
from dapt.report.cost import variant_cost
from dapt.report.results import BELOW_FLOOR, p_for_verdict

ALPHA = 0.05
ONE_POINT = 0.01


def fmt_p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_phrase(name: str, p: float) -> str:
    """``p = 0.012`` or ``p < 0.001``."""
    return f"{name} < 0.001" if p < 0.001 else f"{name} = {p:.3f}"


def _forgetting(cost: dict, max_base_ppl: float) -> str:
    """General-text perplexity: a forgetting verdict only when the base is a language model on general text."""
    change, base = cost["general_ppl_change"], cost.get("base_general_ppl")
    if change is None:
        return ""
    verb = "rose" if change > 0 else "fell"
    if base is not None and base > max_base_ppl:
        return (
            f"; general-text perplexity {verb} {abs(change):.0%}, but the base model's is {base:,.0f} (above "
            f"{max_base_ppl:g}: it has no usable LM head), so this is no measure of forgetting"
        )
    return f"; general-domain perplexity {verb} {abs(change):.0%}" + (" (forgetting)" if change > 0 else "")


def judgement(cmp: dict, n_seeds: int) -> str:
    """``improved`` / ``lowered`` / a reason it is neither, from the adjusted p, the CI and the power."""
    lo, hi = cmp["ci95"]
    if p_for_verdict(cmp) < ALPHA:
        return "improved" if cmp["diff"] > 0 else "lowered"
    if lo > 0 or hi < 0:
        return f"not significant after correction for {cmp.get('n_comparisons', 1)} comparisons"
    mdd = cmp.get("mdd80")
    if mdd is not None and mdd > ONE_POINT:
        need = cmp.get("seeds_for_1pt")
        more = f"; a 1-point difference needs {need} seeds" if need else "; the test set alone is too small for 1 point"
        runs = "one run" if n_seeds == 1 else f"{n_seeds} seeds"
        return f"inconclusive with {runs} (80% power only for differences of {mdd:.4f} or more{more})"
    return "no significant difference"


def stats_text(cmp: dict) -> str:
    lo, hi = cmp["ci95"]
    text = f"95% CI {lo:+.4f} to {hi:+.4f}, {p_phrase('p', cmp['p_value'])}"
    if "p_adjusted" in cmp:
        text += f", {p_phrase('Holm-adjusted p', cmp['p_adjusted'])} over {cmp['n_comparisons']} comparisons"
    return text


def verdict_lines(results: dict) -> list[str]:
    """One sentence per (task, variant vs baseline), then one per contrast between variants; each with what the
    variant cost and how general-domain perplexity moved."""
    n_seeds = len(results.get("seeds") or [])
    lines = []
    for task, rows in results["tasks"].items():
        for variant, row in rows.items():
            cmp = row.get("vs_baseline")
            if cmp is None:
                continue
            metric, verdict = row["metric"], judgement(cmp, n_seeds)
            if verdict in ("improved", "lowered"):
                what = f"{verdict} {task} {metric} by {cmp['diff']:+.4f}"
            elif verdict == "no significant difference":
                what = f"made no significant difference to {task} {metric} ({cmp['diff']:+.4f})"
            else:
                what = f"changed {task} {metric} by {cmp['diff']:+.4f}: {verdict}"
            line = f"- **{variant}** {what} ({stats_text(cmp)})"
            cost = variant_cost(results, task, variant)
            if cost:
                line += f" for {_hours(cost)} of continued pretraining ({cost['tokens']:,} tokens)"
                line += _forgetting(cost, results.get("forgetting_max_base_ppl", 100.0))
            line += "."
            if row.get("negative_transfer"):
                line += " **Negative transfer.**"
            if row.get("below_floor") or rows.get("baseline", {}).get("below_floor"):
                line += f" Caution: a variant is {BELOW_FLOOR}."
            lines.append(line)
    for task, contrasts in (results.get("contrasts") or {}).items():
        for name, cmp in contrasts.items():
            verdict = judgement(cmp, n_seeds)
            a, b = name.split(" vs ")
            lines.append(f"- **{name}** on {task}: {a} - {b} = {cmp['diff']:+.4f}, {verdict} ({stats_text(cmp)}).")
    return lines or ["- Only the baseline was run: nothing to compare."]


def method_lines(results: dict) -> list[str]:
    """What the intervals and p-values are, in words, for the reader of the report."""
    mult = results.get("multiplicity") or {}
    out = [
        "Intervals and p-values: a t-interval over the per-seed paired differences (seeds paired across variants), "
        "with the test-set variance of the seed-mean difference (paired bootstrap over test examples) added, so "
        "both the seeds and the test set are resampled in effect."
    ]
    if mult.get("n_comparisons"):
        out.append(
            f"The verdict reads p-values Holm-adjusted over all {mult['n_comparisons']} comparisons of this report."
        )
    return [" ".join(out)]
