"""The verdict generator on synthetic results, the figures report.md references, and the results.json schema."""

import re

import jsonschema
import pytest

from dapt.report import build_results, render_report, validate_results
from dapt.report.html import render_html
from dapt.report.markdown import verdict_lines
from dapt.report.plots import render_figures


def comparison(diff, lo, hi, p):
    return {"diff": diff, "ci95": [lo, hi], "p_value": p, "n_examples": 1000, "n_resamples": 1000}


def synthetic(comparisons: dict, pretrain_jobs: dict | None = None) -> dict:
    scores = {
        "baseline": [0.70, 0.71, 0.72],
        "dapt": [0.75, 0.76, 0.74],
        "tapt": [0.71, 0.70, 0.72],
        "dapt+tapt": [0.66, 0.65, 0.67],
    }
    test = {"chemprot": {v: {"metric": "micro_f1", "scores": s} for v, s in scores.items()}}
    floors = {
        "chemprot": {
            "majority": {"metric": "micro_f1", "test": 0.36, "dev": 0.33},
            "tfidf-lr": {"metric": "micro_f1", "test": 0.58, "dev": 0.6},
        }
    }
    return build_results(
        "syn", "abc", [0, 1, 2], test, {}, {"chemprot": comparisons}, floors, {"pretrain_jobs": pretrain_jobs or {}}
    )


def job(tokens, seconds, gen_before, gen_after, device="NVIDIA H100 80GB HBM3"):
    return {
        "summary": {
            "tokens_seen": tokens,
            "seconds": seconds,
            "total_flops": 6e9 * tokens,
            "device": device,
            "general_ppl_before": gen_before,
            "general_ppl_after": gen_after,
            "heldout_ppl_before": 50.0,
            "heldout_ppl_after": 20.0,
            "tokens_per_s": tokens / seconds,
            "mfu": 0.4,
        },
        "curve": [
            {"step": 0, "tokens": 0, "heldout_ppl": 50.0, "general_ppl": gen_before},
            {"step": 10, "tokens": tokens, "loss": 2.0, "heldout_ppl": 20.0, "general_ppl": gen_after},
        ],
    }


@pytest.fixture
def results():
    return synthetic(
        {
            "dapt": comparison(0.04, 0.02, 0.06, 0.001),
            "tapt": comparison(0.0, -0.01, 0.01, 0.9),
            "dapt+tapt": comparison(-0.05, -0.07, -0.03, 0.0),
        },
        {
            "dapt": job(24_000_000, 7200, 20.0, 25.0),
            "tapt/chemprot": job(2_000_000, 600, 20.0, 21.0),
            "dapt+tapt/chemprot": job(2_000_000, 600, 25.0, 26.0),
        },
    )


def test_verdict_says_what_the_ci_supports(results):
    lines = verdict_lines(results)
    gain, same, loss = lines
    assert "**dapt** improved chemprot micro_f1 by +0.0400 (95% CI +0.0200 to +0.0600, p = 0.001)" in gain
    assert "for 2.00 GPU-hours (NVIDIA H100 80GB HBM3)" in gain and "24,000,000 tokens" in gain
    assert "general-domain perplexity rose 25%" in gain
    assert "**tapt** made no significant difference" in same and "improved" not in same
    assert "**dapt+tapt** lowered chemprot micro_f1 by -0.0500" in loss
    # DAPT+TAPT's cost includes the DAPT it started from; forgetting is measured from the base model.
    assert "2.17 GPU-hours" in loss and "26,000,000 tokens" in loss and "rose 30%" in loss


def test_no_difference_is_never_called_a_gain():
    r = synthetic({"dapt": comparison(0.03, -0.001, 0.06, 0.06)})
    (line,) = verdict_lines(r)
    assert "no significant difference" in line and "improved" not in line


def test_every_figure_referenced_exists_and_html_is_self_contained(results, tmp_path):
    figures = render_figures(results, tmp_path / "figures")
    md = render_report(results, figures)
    refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert set(refs) == set(figures.values()) and {"delta", "pretrain", "scores-chemprot"} <= set(figures)
    assert all((tmp_path / r).is_file() and (tmp_path / r).stat().st_size > 5000 for r in refs)
    html = render_html(md, tmp_path, "t")
    assert html.count("data:image/png;base64,") == len(refs) and "figures/" not in html
    assert "<table>" in html


def test_html_fails_on_a_missing_figure(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        render_html("![x](figures/missing.png)", tmp_path, "t")


def test_results_schema(results):
    validate_results(results)
    bad = {**results, "tasks": {"chemprot": {"baseline": {**results["tasks"]["chemprot"]["baseline"], "mean": 1.7}}}}
    with pytest.raises(jsonschema.ValidationError, match=r"1\.7"):
        validate_results(bad)
    with pytest.raises(jsonschema.ValidationError, match="config_hash"):
        validate_results({k: v for k, v in results.items() if k != "config_hash"})


def test_compare_puts_runs_side_by_side(results, tmp_path, capsys):
    import json

    from dapt.cli import main

    a, b, old = tmp_path / "a", tmp_path / "b", tmp_path / "old"
    lora = {"chemprot": {"settings": {"learning_rate": 0.003}, "variants": {"dapt": {"strategy": ["lora"]}}}}
    for d, extra in (
        (a, {"base_model": "splade-tiny", "finetune": lora}),
        (b, {"base_model": "all-minilm-l6-v2"}),
        (old, {}),  # a run from before results.json recorded either
    ):
        d.mkdir()
        (d / "results.json").write_text(json.dumps({**results, **extra}))
        # A recipe.yaml beside it is not consulted: compare reads what results.json recorded.
        (d / "recipe.yaml").write_text("base_model: something-else\nfinetune: {strategy: full}\n")
    assert main(["compare", str(a), str(b), str(old)]) == 0
    out = capsys.readouterr().out
    assert "| run 1 |" in out and "all-minilm-l6-v2" in out and "## chemprot: test micro_f1" in out
    run_rows = [x for x in out.splitlines() if x.startswith("| run ")]
    assert "| splade-tiny | lora (lr 0.003) |" in run_rows[0]
    assert "| all-minilm-l6-v2 | unknown |" in run_rows[1] and "| unknown | unknown |" in run_rows[2]
    assert "something-else" not in out
    # Every comparison of each run, with its verdict.
    assert out.count(": every comparison") == 3
    assert any(
        x.startswith("| chemprot | dapt vs baseline | +0.0400 |") and x.endswith("| improved |")
        for x in out.splitlines()
    )
    dapt_row = next(x for x in out.splitlines() if x.startswith("| dapt |"))
    assert dapt_row.count("▲") == 3 and "Δ +0.0400" in dapt_row
    assert main(["compare", str(tmp_path / "nope")]) == 2


def test_replay_effect_is_reported():
    from dapt.report.markdown import replay_lines

    def job(after_gen, after_dom, share=0):
        return {
            "summary": {
                "general_ppl_before": 20.0,
                "general_ppl_after": after_gen,
                "heldout_ppl_after": after_dom,
                "replay_blocks_per_batch": share,
            }
        }

    results = {"pretrain_jobs": {"dapt": job(35.0, 8.0), "dapt-replay": job(24.0, 8.6, 8)}}
    text = " ".join(replay_lines(results))
    assert "8 general blocks" in text and "35.0 after plain DAPT, 24.0 with replay" in text
    assert replay_lines({"pretrain_jobs": {"dapt": job(35.0, 8.0)}}) == []


def test_best_is_chosen_on_dev_not_test():
    test = {
        "t": {
            "baseline": {"metric": "accuracy", "scores": [0.9, 0.9]},
            "dapt": {"metric": "accuracy", "scores": [0.5, 0.5]},
        }
    }
    dev = {"t": {"baseline": [0.4, 0.4], "dapt": [0.8, 0.8]}}  # dapt wins on dev, loses on test
    r = build_results("x", "h", [0, 1], test, dev, {"t": {"dapt": comparison(-0.4, -0.5, -0.3, 0.001)}}, {})
    assert r["best_on_dev"] == {"t": "dapt"}
    assert "| dapt | 0.5000 ± 0.0000 |" in render_report(r) and "**best on dev**" in render_report(r)


def test_verdict_reads_the_adjusted_p_and_flags_negative_transfer():
    adjusted = {**comparison(0.03, 0.01, 0.05, 0.02), "p_adjusted": 0.08, "n_comparisons": 10}
    negative = {**comparison(-0.03, -0.05, -0.01, 0.001), "p_adjusted": 0.01, "n_comparisons": 10}
    r = synthetic({"dapt": adjusted, "tapt": negative})
    gain, loss = verdict_lines(r)
    assert "not significant after correction for 10 comparisons" in gain and "improved" not in gain
    assert "Holm-adjusted p = 0.080 over 10 comparisons" in gain
    assert "**tapt** lowered" in loss and "Negative transfer" in loss and "p = 0.001," in loss
    assert any(f["variant"] == "tapt" and "negative transfer" in f["message"] for f in r["flags"])


def test_a_wide_interval_is_inconclusive_not_no_difference():
    wide = {**comparison(0.01, -0.04, 0.06, 0.6), "mdd80": 0.07, "seeds_for_1pt": 40}
    (line,) = verdict_lines(synthetic({"dapt": wide}))
    assert "inconclusive with 3 seeds" in line and "needs 40 seeds" in line and "no significant" not in line


def test_contrasts_reach_the_verdict():
    r = synthetic({"dapt": comparison(0.04, 0.02, 0.06, 0.001)})
    r["contrasts"] = {"chemprot": {"dapt vs general": comparison(0.02, 0.005, 0.035, 0.01)}}
    line = verdict_lines(r)[-1]
    assert line.startswith("- **dapt vs general** on chemprot: dapt - general = +0.0200, improved")


def test_perplexity_of_a_base_without_an_lm_head_is_not_called_forgetting():
    r = synthetic({"dapt": comparison(0.04, 0.02, 0.06, 0.001)}, {"dapt": job(1000, 60, 4954.0, 277.0)})
    (line,) = verdict_lines(r)
    assert "fell 94%" in line and "4,954" in line and "no measure of forgetting" in line
    assert "(forgetting)" not in line
    lm = synthetic({"dapt": comparison(0.04, 0.02, 0.06, 0.001)}, {"dapt": job(1000, 60, 20.0, 25.0)})
    assert "general-domain perplexity rose 25% (forgetting)" in verdict_lines(lm)[0]


def test_perplexity_section_names_the_objective(results):
    """A causal LM's held-out perplexity is next-token, not masked: the section says which one the run measured."""
    assert "Masked-LM perplexity" in render_report({**results, "objective": "mlm"})
    clm = render_report({**results, "objective": "clm"})
    assert "Causal-LM perplexity" in clm and "Masked-LM" not in clm


def test_a_one_run_comparison_says_one_run():
    from dapt.report.verdict import judgement

    cmp = {"diff": -0.01, "ci95": [-0.03, 0.01], "p_value": 0.3, "mdd80": 0.027}
    assert judgement(cmp, 1).startswith("inconclusive with one run (") and "1 seeds" not in judgement(cmp, 1)
    assert judgement(cmp, 3).startswith("inconclusive with 3 seeds (")
