"""Render ``report.md`` from the results document: tables first, then the verdict, cost and provenance."""

from __future__ import annotations

from dapt.report.cost import hours as _hours
from dapt.report.cost import variant_cost
from dapt.report.results import REFERENCE_ROWS, best_on_dev
from dapt.report.transfer_table import transfer_lines
from dapt.report.verdict import ci_text, fmt_p, method_lines, verdict_lines


def _fmt(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def cost_lines(results: dict) -> list[str]:
    """Cost per variant: continued-pretraining tokens, time, device, FLOPs, and fine-tuning time per seed."""
    tune_cost = results.get("finetune_cost") or {}
    out = [
        "| task | variant | pretraining tokens | pretraining time | FLOPs | fine-tune s/seed |",
        "|---|---|---:|---|---:|---:|",
    ]
    for task, rows in results["tasks"].items():
        for variant, r in rows.items():
            if r.get("reference"):
                continue
            c = variant_cost(results, task, variant)
            tune = tune_cost.get(task, {}).get(variant, {}).get("train_seconds_mean")
            tune_s = f"{tune:.0f}" if tune is not None else "-"
            if c is None:
                out.append(f"| {task} | {variant} | 0 | - | 0 | {tune_s} |")
            else:
                out.append(
                    f"| {task} | {variant} | {c['tokens']:,} | {c['seconds'] / 60:.1f} min = {_hours(c)} | "
                    f"{c['flops']:.3g} | {tune_s} |"
                )
    return out


def pretrain_lines(results: dict) -> list[str]:
    out = [
        "| run | tokens | tokens/s | MFU | domain ppl before -> after | general ppl before -> after |",
        "|---|---:|---:|---:|---|---|",
    ]
    for name, job in (results.get("pretrain_jobs") or {}).items():
        s = job.get("summary")
        if not s:
            continue
        gen = "-"
        if s.get("general_ppl_before") is not None:
            ch = s["general_ppl_after"] / s["general_ppl_before"] - 1
            gen = f"{s['general_ppl_before']:.1f} -> {s['general_ppl_after']:.1f} ({ch:+.0%})"
        # scratch's perplexity is per piece of its own vocabulary: not comparable with the base-vocabulary rows.
        own = " (own vocabulary)" if name == "scratch" else ""
        out.append(
            f"| {name} | {s['tokens_seen']:,} | {s['tokens_per_s']:,.0f} | {s['mfu']:.1%} | "
            f"{s['heldout_ppl_before']:.1f} -> {s['heldout_ppl_after']:.1f}{own} | {gen} |"
        )
    tok = (results.get("pretrain_jobs") or {}).get("scratch", {}).get("tokenizer")
    if tok:
        out += ["", scratch_tokenizer_line(tok)]
    return out


def scratch_tokenizer_line(tok: dict) -> str:
    """The domain vocabulary of ``scratch`` next to the base's: fertility (pieces per word) on each text."""
    fert = "; ".join(f"{name} {f['base']:.3f} -> {f['domain']:.3f}" for name, f in tok["fertility"].items())
    return (
        f"`scratch` vocabulary: {tok['vocab_size']['domain']:,} pieces learned from the domain training documents "
        f"(base: {tok['vocab_size']['base']:,}; {tok['domain_pieces_in_base_vocab']:.0%} of them in the base "
        f"vocabulary). Fertility, base -> domain vocabulary: {fert}."
    )


def learning_curve_lines(results: dict, figures: dict) -> list[str]:
    """Per task: each variant at each train fraction, with its difference from the baseline at that fraction."""
    from dapt.report.plots import curve_points

    out = ["", "## Learning curves", ""]
    out.append(
        "Fine-tuned on stratified subsets of the train set, the same subset for every variant (per seed; nested "
        "across fractions); dev and test are the full splits. Δ: paired bootstrap vs the baseline at the same "
        "fraction, over seeds and test examples."
    )
    for task in results["tasks"]:
        points = curve_points(results, task)
        if not points:
            continue
        out += ["", f"### {task}", ""]
        out.append("| train fraction | train examples | variant | mean ± std | Δ vs baseline [95% CI] | p | p (Holm) |")
        out.append("|---|---:|---|---|---|---|---|")
        for frac, rows in points.items():
            for v, r in rows.items():
                n = r.get("train_examples")
                cmp = r.get("vs_baseline")
                delta = f"{cmp['diff']:+.4f} {ci_text(cmp['ci95'])}" if cmp else "-"
                p = _p_cells(cmp)
                out.append(
                    f"| {frac:g} | {n[0] if n else 'all'} | {v} | {r['mean']:.4f} ± {r['std']:.4f} | {delta} | {p} |"
                )
        out += _figure(figures, f"curve-{task}", f"{task} learning curve")
    return out


def replay_lines(results: dict) -> list[str]:
    """What replay bought: general (forgetting) and domain perplexity after DAPT with and without replay."""
    jobs = results.get("pretrain_jobs") or {}
    plain, replay = ((jobs.get(k) or {}).get("summary") for k in ("dapt", "dapt-replay"))
    if not plain or not replay or plain.get("general_ppl_after") is None:
        return []
    share = replay.get("replay_blocks_per_batch")
    return [
        "",
        f"Replay ({share} general blocks in every batch, same token budget): held-out general perplexity "
        f"{plain['general_ppl_before']:.1f} before DAPT -> {plain['general_ppl_after']:.1f} after plain DAPT, "
        f"{replay['general_ppl_after']:.1f} with replay; held-out domain perplexity {plain['heldout_ppl_after']:.1f} "
        f"(plain) vs {replay['heldout_ppl_after']:.1f} (replay).",
    ]


def _p_cells(cmp: dict | None) -> str:
    """The raw and the Holm-adjusted p-value, as two table cells."""
    if not cmp:
        return "- | -"
    adj = fmt_p(cmp["p_adjusted"]) if "p_adjusted" in cmp else "-"
    return f"{fmt_p(cmp['p_value'])} | {adj}"


def _figure(figures: dict, key: str, alt: str) -> list[str]:
    return ["", f"![{alt}]({figures[key]})"] if key in figures else []


def render_report(results: dict, figures: dict | None = None) -> str:
    """``report.md``. ``figures`` maps figure names (``scores-<task>``, ``delta``, ``pretrain``, ``overlap``) to
    paths relative to the report (see :func:`dapt.report.plots.render_figures`)."""
    figures = figures or {}
    out = [f"# dapt report: {results['recipe']}", ""]
    if results.get("superseded"):
        out += [f"> **Superseded.** {results['superseded']}", ""]
    if results.get("restated"):
        out += [f"> Restated: {results['restated']}.", ""]
    out.append(f"Recipe `{results['recipe']}` (config hash `{results['config_hash']}`), seeds {results['seeds']}.")
    if results.get("wall_seconds") is not None:
        out.append(f"Wall time of the run: {results['wall_seconds'] / 60:.1f} min.")
    out.append("")
    out.append("## Verdict")
    out.append("")
    out += method_lines(results)
    out.append("")
    out += verdict_lines(results)
    out += _figure(figures, "delta", "difference vs baseline with 95% CI")
    if results.get("flags"):
        out.append("")
        for f in results["flags"]:
            out.append(
                f"- **Flag**: `{f['variant']}` on {f['task']} scores {f['mean']:.4f} <= {f['floor']} "
                f"{f['floor_score']:.4f}: {f['message']}."
            )
    for task, rows in results["tasks"].items():
        out += ["", f"## {task}", ""]
        metric = next(iter(rows.values()))["metric"]
        out.append(
            f"Test {metric}, mean ± std over seeds; difference vs baseline with a 95% CI over seeds and test examples; "
            "the best variant is chosen on dev."
        )
        out.append("")
        out.append(
            "| variant | mean ± std | per seed | dev (per seed) | Δ vs baseline [95% CI] | p | p (Holm) | note |"
        )
        out.append("|---|---|---|---|---|---|---|---|")
        best = best_on_dev(rows)
        for variant, r in rows.items():
            if r.get("reference"):
                out.append(
                    f"| {variant} (reference) | {_fmt(r['mean'])} | - | {_fmt(r.get('dev'))} | - | - | - | floor |"
                )
                continue
            cmp = r.get("vs_baseline")
            delta = f"{cmp['diff']:+.4f} {ci_text(cmp['ci95'])}" if cmp else "-"
            p = _p_cells(cmp)
            notes = []
            if variant == best:
                notes.append("**best on dev**")
            if r.get("negative_transfer"):
                notes.append("negative transfer")
            if r.get("below_floor"):
                notes.append("below tfidf-lr floor")
            out.append(
                f"| {variant} | {r['mean']:.4f} ± {r['std']:.4f} | {', '.join(_fmt(s) for s in r['scores'])} | "
                f"{', '.join(_fmt(s) for s in r.get('dev_scores', []))} | {delta} | {p} | {' '.join(notes)} |"
            )
        out += _figure(figures, f"scores-{task}", f"{task} test scores per variant")
        labels = results.get("labels", {}).get(task)
        if labels:
            out.append("")
            for split, info in labels["splits"].items():
                notes = []
                if info["not_in_train"]:
                    notes.append(f"labels never seen in train {info['not_in_train']} (kept; always scored wrong)")
                if info["train_labels_absent"]:
                    notes.append(f"train labels absent here {info['train_labels_absent']}")
                if notes:
                    out.append(f"- {split} ({info['examples']:,} examples): " + "; ".join(notes) + ".")
    if results.get("learning_curve"):
        out += learning_curve_lines(results, figures)
    out += transfer_lines(results)
    corpus = results.get("corpus")
    if corpus:
        out += _corpus_section(corpus, results.get("general_corpus"), results.get("diagnostics"))
        out += _figure(figures, "overlap", "vocabulary overlap heatmap")
    if results.get("pretrain_jobs"):
        out += ["", "## Continued pretraining", ""]
        what = (
            "Causal-LM perplexity (every next token of each held-out block)"
            if results.get("objective") == "clm"
            else "Masked-LM perplexity on held-out blocks with fixed masks"
        )
        out.append(f"{what}: the domain corpus's held-out split for every run, and held-out general text (forgetting).")
        out.append("")
        out += pretrain_lines(results)
        out += replay_lines(results)
        out += _figure(figures, "pretrain", "continued-pretraining curves")
    out += ["", "## Cost per variant", ""]
    out += cost_lines(results)
    prov = results.get("provenance")
    if prov:
        out += ["", "## Provenance", ""]
        for k, v in prov.items():
            if isinstance(v, dict):
                v = ", ".join(f"{a}={b}" for a, b in v.items())
            out.append(f"- {k}: `{v}`")
    out.append("")
    out.append(f"Reference rows ({', '.join(REFERENCE_ROWS)}) are computed by dapt on the same test split.")
    return "\n".join(out) + "\n"


def _corpus_section(corpus: dict, general: dict | None, diag: dict | None) -> list[str]:
    d = corpus["documents"]
    out = ["", "## Domain corpus", ""]
    dropped = ", ".join(f"{k} {v:,}" for k, v in sorted(d["dropped"].items(), key=lambda kv: -kv[1])) or "none"
    out.append(
        f"Documents read {d['read']:,}, kept {d['kept']:,}; dropped: {dropped}. "
        f"{corpus['content_tokens']:,} content tokens in {corpus['blocks']['total']:,} blocks of "
        f"{corpus['block_size']} ({corpus['blocks']['heldout']:,} held out); padding "
        f"{corpus['padding_fraction']:.4%}; ingest {corpus['seconds']} s"
        + (f", manifest `{corpus['manifest_hash']}`." if corpus.get("manifest_hash") else ".")
    )
    for name, s in corpus["sources"].items():
        out.append(f"- `{name}`: {s['files']} files, read {s['read']:,}, kept {s['kept']:,}, dropped {s['dropped']}")
    dc = corpus.get("decontamination")
    if dc and dc["mode"] != "off":
        per_task = ", ".join(f"{t} {n:,}" for t, n in dc["documents_per_task"].items()) or "no tasks"
        out.append(
            f"- decontamination ({dc['mode']}, {dc['ngram_words']}-word n-grams vs task {'/'.join(dc['splits'])}): "
            f"corpus documents sharing one: {per_task}."
        )
    if general:
        g = general["documents"]
        out.append(
            f"- general-domain corpus: read {g['read']:,}, kept {g['kept']:,}; {general['content_tokens']:,} tokens, "
            f"{general['blocks']['heldout']:,} blocks held out for the forgetting perplexity."
        )
    if diag:
        from dapt.ingest import diagnostics_markdown

        out += ["", "### Domain diagnostics", "", *diagnostics_markdown(diag)]
    return out
