"""The report's transfer table (decoders): per task, rows = modes, columns = variants; each cell the score with
its seed-aware interval and its share of the same variant's full fine-tuning; then whether each variant moved each
mode against the baseline, with the same statistics and Holm family as every other comparison."""

from __future__ import annotations

from dapt.report.verdict import ci_text, judgement, stats_text

MODE_NAMES = {
    "zero_shot": "zero-shot (no training)",
    "few_shot_icl": "few-shot in context",
    "few_shot_ft": "few-shot fine-tuned",
    "full_ft": "fully fine-tuned",
}

ENCODER_NOTE = (
    "Transfer modes: this recipe's model is a masked-LM encoder, which has no next-token head to score a label's "
    "words after a prompt, so only the fine-tuning modes apply (the tables above); the zero-shot and in-context "
    "rows of the transfer table are measured for causal LMs (`transfer:` in a `clm` recipe)."
)


def _cell(c: dict) -> str:
    share = f" ({c['share_of_full_ft']:.0%})" if c.get("share_of_full_ft") is not None else ""
    cut = "*" if c.get("clipped") else ""
    return f"{c['mean']:.4f} {ci_text(c['ci95'], signed=False)}{cut}{share}"


def _mode_label(mode: str, cells: dict) -> str:
    seeds = max((c.get("n_seeds", 1) for c in cells.values()), default=1)
    return MODE_NAMES[mode] + (f", {seeds} seeds" if seeds > 1 else "")


def transfer_lines(results: dict) -> list[str]:
    transfer = results.get("transfer")
    if not transfer:
        return ["", ENCODER_NOTE] if results.get("objective") == "mlm" else []
    out = ["", "## Transfer table", ""]
    out.append(
        "Each cell: test score, 95% CI over seeds and test examples, and in brackets its share of the same variant's "
        "fully fine-tuned score on the same examples. Zero-shot is deterministic (one run); few-shot in context "
        "uses each seed's demonstrations (label-balanced, the same for every variant). Where "
        "`transfer.max_test_examples` caps test, it is one label-stratified subset per task, and every mode, the "
        "fine-tuning table above and the floors are scored on that subset."
    )
    seconds = results.get("transfer_seconds", {})
    for task, t in transfer.items():
        modes = t["modes"]
        variants = list(modes["full_ft"])
        out += ["", f"### {task} ({t['test_examples']:,} test examples)", ""]
        out.append("| mode | " + " | ".join(variants) + " | wall time |")
        out.append("|---|" + "---|" * len(variants) + "---:|")
        for mode, cells in modes.items():
            row = " | ".join(_cell(cells[v]) if v in cells else "-" for v in variants)
            secs = seconds.get(task, {}).get(mode)
            out.append(f"| {_mode_label(mode, cells)} | {row} | {f'{secs:,.0f} s' if secs is not None else '-'} |")
        verdicts = []
        for mode, cells in modes.items():
            for v, c in cells.items():
                if "vs_baseline" in c:
                    cmp = c["vs_baseline"]
                    verdicts.append(
                        f"- {MODE_NAMES[mode]}, {v} vs baseline: {cmp['diff']:+.4f}, {stats_text(cmp)}: "
                        f"**{judgement(cmp, c['n_seeds'])}**."
                    )
        if any(c.get("clipped") for cells in modes.values() for c in cells.values()):
            out += [
                "",
                "\\* The interval reached past [0, 1] (t over few seeds, or the test-set part alone for a score "
                "near 0 or 1); it is cut to the metric's range.",
            ]
        if verdicts:
            out += ["", *verdicts]
    return out + general_task_lines(results)


def general_task_lines(results: dict) -> list[str]:
    """Forgetting in task terms: each variant's zero-shot score on a general task, beside its general perplexity."""
    general = results.get("general_tasks")
    if not general:
        return []
    jobs = results.get("pretrain_jobs") or {}
    out = ["", "## Forgetting in task terms", ""]
    out.append(
        "Zero-shot on general-domain tasks, for the base model and after continued pretraining: a drop is forgetting "
        "the general task, which general-text perplexity (beside it) measures only indirectly."
    )
    for name, g in general.items():
        out += ["", f"### {name} ({g['test_examples']:,} examples, {g['metric']})", ""]
        out.append("| variant | zero-shot [95% CI] | Δ vs baseline | verdict | general perplexity |")
        out.append("|---|---|---|---|---:|")
        for v, c in g["variants"].items():
            cmp = c.get("vs_baseline")
            delta = f"{cmp['diff']:+.4f} ({stats_text(cmp)})" if cmp else "-"
            verdict = judgement(cmp, c["n_seeds"]) if cmp else "-"
            summary = (jobs.get(v) or {}).get("summary") or {}
            ppl = summary.get("general_ppl_after")
            if v == "baseline":
                ppl = next((j["summary"].get("general_ppl_before") for j in jobs.values() if j.get("summary")), None)
            out.append(
                f"| {v} | {c['mean']:.4f} {ci_text(c['ci95'], signed=False)} | {delta} | {verdict} | "
                f"{f'{ppl:,.1f}' if ppl is not None else '-'} |"
            )
    return out
