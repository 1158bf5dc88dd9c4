"""`dapt run smoke`: the whole chain as the Prefect flow `dapt-pipeline`, on slices of the real data."""

import json
import os
import subprocess
import sys
from pathlib import Path


def test_dapt_run_smoke(tmp_path, data_root):
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
    }
    env.pop("PREFECT_API_URL", None)
    out = tmp_path / "run"
    r = subprocess.run(
        [sys.executable, "-m", "dapt.cli", "run", "smoke", "--data-dir", str(data_root), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "Finished in state Completed" in r.stderr + r.stdout

    results = json.loads((out / "results.json").read_text())
    assert results["recipe"] == "smoke"
    for task in ("chemprot", "nicta_piboso"):
        for variant in ("baseline", "dapt"):
            row = results["tasks"][task][variant]
            assert row["metric"] == "micro_f1" and len(row["scores"]) == 2
            assert {"mean", "std"} <= set(row)
        assert {"majority", "tfidf-lr"} <= set(results["tasks"][task])
        assert "vs_baseline" in results["tasks"][task]["dapt"]
    report = (out / "report.md").read_text()
    assert "## chemprot" in report and "## Continued pretraining" in report
    stats = json.loads((out / "corpus" / "stats.json").read_text())
    assert stats["documents"]["read"] == 2300

    # The DAPT checkpoint is a plain Hugging Face folder.
    from transformers import AutoModelForMaskedLM

    model = AutoModelForMaskedLM.from_pretrained(Path(out) / "pretrain" / "dapt" / "model")
    assert model.config.num_hidden_layers == 2
