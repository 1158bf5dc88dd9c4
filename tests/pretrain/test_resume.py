"""Kill -9 mid-run, restart: the run resumes from its last checkpoint (no replay) and ends with the same weights
as an uninterrupted run (fp32, CPU)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from dapt.pretrain import run_pretrain
from dapt.pretrain.data import batch_at
from dapt.recipe import PretrainConfig

# The child slows every optimizer step down (in the test only), so the kill lands between checkpoints.
CHILD = """
import sys, time, torch
from pathlib import Path
from dapt.pretrain import run_pretrain
from dapt.recipe import PretrainConfig
_step = torch.optim.AdamW.step
def slow_step(self, *a, **k):
    time.sleep(0.25)
    return _step(self, *a, **k)
torch.optim.AdamW.step = slow_step
cfg = PretrainConfig.model_validate_json(sys.argv[1])
run_pretrain(cfg, Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), progress=False)
"""


def _corpus(tmp_path, data_root, splade_dir):
    from transformers import AutoTokenizer

    from dapt.ingest import run_ingest
    from dapt.recipe import CorpusConfig, CorpusSource

    cfg = CorpusConfig(
        sources=[CorpusSource(name="p", path="biomed_unlabelled/pubmedqa/abstracts.txt", max_documents=40)]
    )
    return run_ingest(
        cfg, data_root, tmp_path / "c", AutoTokenizer.from_pretrained(splade_dir), 32, 0.1, progress=False
    ).dataset_dir


def test_batches_are_a_function_of_the_step():
    ids = torch.arange(100 * 4).reshape(100, 4)
    real = torch.full((100,), 4)
    a = [batch_at(s, ids, real, 8, seed=3)[0] for s in range(30)]
    assert torch.equal(batch_at(17, ids, real, 8, seed=3)[0], a[17])
    epoch0 = torch.cat(a[:12])  # 100 // 8 = 12 full batches per epoch, no block twice within an epoch
    assert len(set(epoch0[:, 0].tolist())) == 96
    assert batch_at(12, ids, real, 8, seed=3)[2] == 1


def test_sigkill_and_restart_gives_the_uninterrupted_weights(tmp_path, data_root, splade_dir, tiny_mlm_dir):
    dataset = _corpus(tmp_path, data_root, splade_dir)
    cfg = PretrainConfig(
        max_tokens=32 * 4 * 16,
        block_size=32,
        batch_size=4,
        checkpoint_every_steps=4,
        log_every_steps=1,
        warmup_ratio=0.2,
    )
    ref = run_pretrain(cfg, tiny_mlm_dir, dataset, tmp_path / "ref", progress=False)
    assert ref.summary["steps"] == 16 and not (tmp_path / "ref" / "checkpoint").exists()

    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, cfg.model_dump_json(), str(tiny_mlm_dir), str(dataset), str(out)], env=env
    )
    state = out / "checkpoint" / "state.pt"
    deadline = time.time() + 120
    while time.time() < deadline:
        if state.is_file() and torch.load(state, weights_only=True)["step"] >= 8:
            break
        assert child.poll() is None, "the child finished before it could be killed"
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not (out / "summary.json").exists()  # it really died mid-run
    killed_at = torch.load(state, weights_only=True)["step"]
    assert 8 <= killed_at < 16

    t0 = time.perf_counter()
    res = run_pretrain(cfg, tiny_mlm_dir, dataset, out, progress=False)
    assert res.summary["resumed_from_step"] == killed_at
    a = load_file(tmp_path / "ref" / "model" / "model.safetensors")
    b = load_file(out / "model" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)
    # The curve has no duplicated steps after the resume.
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    logged = [s for s in steps if s not in (0,)]
    assert logged == sorted(logged) and len(logged) == len(set(logged)) + 1  # the final step logs loss and ppl
    assert time.perf_counter() - t0 < 60
