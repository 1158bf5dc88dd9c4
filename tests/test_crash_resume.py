"""Kill the flow process during pretraining, run it again: ingestion is not redone and pretraining resumes from
its checkpoint (the run then completes). Marked slow (about 2 minutes)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

ARGS = ["--set", "pretrain.max_tokens=400000", "--set", "pretrain.checkpoint_every_steps=10", "--set", "seeds=[0]"]


@pytest.mark.slow
def test_killed_during_pretraining_resumes(tmp_path, data_root):
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
    }
    env.pop("PREFECT_API_URL", None)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "dapt.cli", "run", "smoke", "--data-dir", str(data_root), "--out", str(out), *ARGS]
    log1 = open(tmp_path / "first.log", "w")  # noqa: SIM115 - closed below
    first = subprocess.Popen(cmd, env=env, stdout=log1, stderr=subprocess.STDOUT, start_new_session=True)
    state = out / "pretrain" / "dapt" / "checkpoint" / "state.pt"
    deadline = time.time() + 400
    while not state.is_file():
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
        assert time.time() < deadline, "no pretraining checkpoint appeared"
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(first.pid, signal.SIGKILL)  # the flow process and the temporary Prefect server it started
    first.wait()
    log1.close()
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert "ingest" in stages and "pretrain/dapt" not in stages
    ingest_done = stages["ingest"]["finished_at"]
    killed_step = torch.load(state, weights_only=True)["step"]

    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    log = second.stdout + second.stderr
    assert second.returncode == 0, log[-3000:]
    assert "ingest: complete for this recipe hash, skipped" in log
    assert "resumed from the checkpoint at step" in log
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert stages["ingest"]["finished_at"] == ingest_done
    summary = json.loads((out / "pretrain" / "dapt" / "summary.json").read_text())
    assert summary["resumed_from_step"] >= killed_step
    assert (out / "results.json").is_file()
