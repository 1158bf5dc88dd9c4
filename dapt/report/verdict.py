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


def fmt_p(p: float | None) -> str:
    """A p-value for a table cell; "-" where none was computed (a refused one-seed comparison)."""
    if p is None:
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def ci_text(ci: list[float] | None, digits: int = 4, signed: bool = True) -> str:
    """``[lo, hi]``, or why there is none (one fine-tuning seed)."""
    if ci is None:
        return "no interval (1 seed)"
    f = f"{{:+.{digits}f}}" if signed else f"{{:.{digits}f}}"
    return f"[{f.format(ci[0])}, {f.format(ci[1])}]"


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
    if cmp.get("p_value") is None:
        return "no inference: " + cmp.get("refused", "no p-value")
    lo, hi = cmp["ci95"]
    if p_for_verdict(cmp) < ALPHA:
        return "improved" if cmp["diff"] > 0 else "lowered"
    if lo > 0 or hi < 0:
        return f"not significant after correction for {cmp.get('n_comparisons', 1)} comparisons"
    mdd = cmp.get("mdd80")
    if mdd is not None and mdd > ONE_POINT:
        need = cmp.get("seeds_for_1pt")
        runs = "one run" if cmp.get("single_run") or n_seeds == 1 else f"{n_seeds} seeds"
        rng = cmp.get("mdd80_range")
        spread = (
            f" (range {rng[0]:.4f} to {rng[1]:.4f} given the seed spread's uncertainty)"
            if rng and rng[0] != rng[1]
            else ""
        )
        if cmp.get("single_run"):
            more = ""
        elif need:
            span = cmp.get("seeds_for_1pt_range")
            more = f"; a 1-point difference needs {need} seeds"
            if span and span[0] is not None:
                more += f" (plausibly {span[0]} to {'never' if span[1] is None else span[1]})"
        else:
            more = "; the test set alone is too small for 1 point"
        return f"inconclusive with {runs} (80% power only for differences of {mdd:.4f} or more{spread}{more})"
    return "no significant difference"


def short_judgement(cmp: dict, n_seeds: int) -> str:
    """The verdict's first words: improved, lowered, inconclusive with N seeds, no inference, ..."""
    return judgement(cmp, n_seeds).split(" (")[0].split(":")[0]


def stats_text(cmp: dict) -> str:
    if cmp.get("p_value") is None:
        return "no interval: one fine-tuning seed"
    lo, hi = cmp["ci95"]
    text = f"95% CI {lo:+.4f} to {hi:+.4f}, {p_phrase('p', cmp['p_value'])}"
    if cmp.get("single_run") and "McNemar" in cmp.get("method", ""):
        text += f" (exact McNemar, {sum(cmp['discordant'])} discordant examples)"
    if "p_adjusted" in cmp:
        family = f" {cmp['family']}" if cmp.get("family") else ""
        text += f", {p_phrase('Holm-adjusted p', cmp['p_adjusted'])} over {cmp['n_comparisons']}{family} comparisons"
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
    """What the intervals and p-values are, in words, for the reader of the report: exactly what was resampled,
    and what ran once."""
    mult = results.get("multiplicity") or {}
    out = [
        "Intervals and p-values: for fine-tuned results, a t-interval (n - 1 df) over the per-seed paired "
        "differences (seed s of every variant shares its data order and head initialisation), plus the test-set "
        "variance of the seed-mean difference from a paired bootstrap over test examples, less the seed x example "
        "part the seed spread already holds. What was resampled: fine-tuning seeds and test examples. What ran "
        "once: each variant's continued pretraining (one checkpoint per variant), so every claim is about that "
        "checkpoint, not about the pretraining recipe in general. A comparison with one fine-tuning seed gets no "
        "interval. Zero-shot results are one deterministic run: Clopper-Pearson for a score, an exact McNemar test "
        "for a difference."
    ]
    families = mult.get("families")
    if families is not None and not any(families.values()):
        out.append("No comparison has a p-value, so none is in a Holm family.")
    elif families:
        parts = " and ".join(f"{n} {f}" for f, n in families.items() if n)
        out.append(
            f"The verdict reads p-values Holm-adjusted within each family ({parts} comparisons): the primary family "
            "is each variant vs the baseline per task, the secondary everything else; a comparison listed twice "
            "counts once."
        )
    elif mult.get("n_comparisons"):
        out.append(
            f"The verdict reads p-values Holm-adjusted over all {mult['n_comparisons']} comparisons of this report."
        )
    return [" ".join(out)]
