"""`dapt run smoke`: the whole chain as the Prefect flow `dapt-pipeline`, on slices of the real data; then the
stage cache: a rerun skips every stage, and a changed fine-tuning key reruns only fine-tune, evaluate and report."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def dapt_run(out: Path, data_root: Path, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
    }
    env.pop("PREFECT_API_URL", None)
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "dapt.cli", "run", "smoke", "--data-dir", str(data_root), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "Finished in state Completed" in r.stderr + r.stdout
    return r, time.perf_counter() - t0


def finished(out: Path) -> dict[str, float]:
    return {k: v["finished_at"] for k, v in json.loads((out / "run.json").read_text())["stages"].items()}


def test_dapt_run_smoke_then_cached_reruns(tmp_path, data_root):
    out = tmp_path / "run"
    _, first_s = dapt_run(out, data_root, tmp_path)

    results = json.loads((out / "results.json").read_text())
    assert results["recipe"] == "smoke"
    for task in ("chemprot", "nicta_piboso"):
        for variant in ("baseline", "dapt"):
            row = results["tasks"][task][variant]
            assert row["metric"] == "micro_f1" and len(row["scores"]) == 2
            assert {"mean", "std"} <= set(row)
        assert {"majority", "tfidf-lr"} <= set(results["tasks"][task])
        assert "vs_baseline" in results["tasks"][task]["dapt"]
    # Portable evidence: no path of this machine, the base model by name, how each variant was fine-tuned.
    text = (out / "results.json").read_text()
    assert str(tmp_path) not in text and str(data_root) not in text and str(Path.home()) + "/" not in text
    assert results["base_model"] == "splade-tiny"
    assert results["finetune"]["chemprot"]["variants"]["dapt"]["strategy"] == ["full"]
    assert results["finetune"]["chemprot"]["settings"]["learning_rate"] > 0
    report = (out / "report.md").read_text()
    assert "## chemprot" in report and "## Continued pretraining" in report
    assert "only the fine-tuning modes apply" in report  # an encoder: no in-context transfer rows, and why
    assert (out / "report.html").is_file() and (out / "figures" / "delta.png").is_file()
    stats = json.loads((out / "corpus" / "stats.json").read_text())
    assert stats["documents"]["read"] == 2300

    # The DAPT checkpoint is a plain Hugging Face folder.
    from transformers import AutoModelForMaskedLM

    model = AutoModelForMaskedLM.from_pretrained(Path(out) / "pretrain" / "dapt" / "model")
    assert model.config.num_hidden_layers == 2

    # Rerun: every expensive stage is skipped (same inputs).
    before = finished(out)
    _, rerun_s = dapt_run(out, data_root, tmp_path)
    after = finished(out)
    expensive = [k for k in before if k.split("/")[0] in ("ingest", "pretrain", "floors", "finetune")]
    assert len(expensive) >= 12 and all(after[k] == before[k] for k in expensive)
    print(f"first run {first_s:.1f} s, rerun {rerun_s:.1f} s")
    assert rerun_s < first_s

    # A changed fine-tuning key: only fine-tune (all jobs), evaluate and report run again.
    dapt_run(out, data_root, tmp_path, "--set", "finetune.warmup_ratio=0.2")
    again = finished(out)
    redone = {k for k in again if again[k] != after.get(k)}
    assert redone == {k for k in again if k.split("/")[0] in ("finetune", "evaluate", "report")}
    assert any(k.startswith("finetune/") for k in redone)
