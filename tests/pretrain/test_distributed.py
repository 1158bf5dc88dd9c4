"""Two CPU processes (gloo): plain DDP and DeepSpeed ZeRO 1/2/3 each train, each rank sees different data, the
consolidated export loads in plain transformers, and a SIGKILLed ZeRO run resumes to the same weights.

Marked ``distributed`` (not in the default run): the first DeepSpeed start JIT-compiles its CPU communication
op (1-3 minutes, cached in ``$TORCH_EXTENSIONS_DIR``). Run with ``pytest -m distributed``.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForMaskedLM

from dapt.pretrain import run_pretrain
from dapt.recipe import PretrainConfig

pytestmark = pytest.mark.distributed

ENGINES = [None, 1, 2, 3]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, data_root, splade_dir):
    from transformers import AutoTokenizer

    from dapt.ingest import run_ingest
    from dapt.recipe import CorpusConfig, CorpusSource

    cfg = CorpusConfig(
        sources=[CorpusSource(name="p", path="biomed_unlabelled/pubmedqa/abstracts.txt", max_documents=80)]
    )
    out = tmp_path_factory.mktemp("corpus")
    return run_ingest(
        cfg, data_root, out, AutoTokenizer.from_pretrained(splade_dir), 32, 0.1, progress=False
    ).dataset_dir


def _cfg(**kw) -> PretrainConfig:
    base = {"max_tokens": 32 * 4 * 2 * 12, "block_size": 32, "batch_size": 4, "num_processes": 2, "log_every_steps": 4}
    return PretrainConfig(**{**base, **kw})


def _rank_blocks(out: Path) -> list[dict[int, list[int]]]:
    ranks = []
    for r in (0, 1):
        rows = [json.loads(x) for x in (out / "data_order" / f"rank{r}.jsonl").read_text().splitlines()]
        ranks.append({m: blocks for m, blocks in rows})
    return ranks


def test_ddp_and_every_zero_stage_train_on_two_processes(tmp_path, corpus, tiny_mlm_dir):
    from transformers import AutoModelForMaskedLM

    weights = {}
    for stage in ENGINES:
        out = tmp_path / f"zero{stage}"
        # fp32: the engines' parity, not bf16's rounding, is what this checks (bf16 exports: the ZeRO-2 test below).
        cfg = _cfg(zero_stage=stage, mixed_precision="no")
        s = run_pretrain(cfg, tiny_mlm_dir, corpus, out, progress=False).summary
        assert s["processes"] == 2 and s["steps"] == 12
        assert s["engine"] == ("ddp" if stage is None else f"deepspeed zero-{stage}")
        assert s["heldout_ppl_after"] < s["heldout_ppl_before"]
        # Each rank trained on its own half of every global batch: disjoint, together the whole batch.
        r0, r1 = _rank_blocks(out)
        assert sorted(r0) == sorted(r1) == list(range(12))
        for m in r0:
            assert len(r0[m]) == len(r1[m]) == 4 and not set(r0[m]) & set(r1[m])
        if stage is not None:
            ds = json.loads((out / "deepspeed_config.json").read_text())
            assert ds["zero_optimization"]["stage"] == stage and ds["train_batch_size"] == 8
        # The export (ZeRO-3: shards gathered) is a plain Hugging Face folder.
        model = AutoModelForMaskedLM.from_pretrained(out / "model")
        assert model.config.num_hidden_layers == 2
        weights[stage] = model.state_dict()
    base = load_file(tiny_mlm_dir / "model.safetensors")
    key = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(weights[None][key], base[key])  # it trained
    # Same global batches, same masks per rank, fp32: every engine ends at the same weights.
    for stage in (1, 2, 3):
        for k, v in weights[None].items():
            torch.testing.assert_close(weights[stage][k], v, atol=2e-5, rtol=1e-4)


def test_zero2_sigkill_and_restart_gives_the_uninterrupted_weights(tmp_path, corpus, tiny_mlm_dir):
    cfg = _cfg(zero_stage=2, max_tokens=32 * 4 * 2 * 240, checkpoint_every_steps=20, log_every_steps=20)
    ref = run_pretrain(cfg, tiny_mlm_dir, corpus, tmp_path / "ref", progress=False)
    out = tmp_path / "killed"
    child = (
        "import sys; from pathlib import Path; from dapt.pretrain import run_pretrain; "
        "from dapt.recipe import PretrainConfig; "
        "run_pretrain(PretrainConfig.model_validate_json(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), "
        "Path(sys.argv[4]), progress=False)"
    )
    args = [sys.executable, "-c", child, cfg.model_dump_json(), str(tiny_mlm_dir), str(corpus), str(out)]
    proc = subprocess.Popen(args, start_new_session=True, env={**os.environ})
    deadline = time.time() + 300
    while not (out / "checkpoint" / "state.pt").is_file():
        assert proc.poll() is None and time.time() < deadline, "no checkpoint before the run ended"
        time.sleep(0.05)
    # Preemption kills everything at once: the launcher's group, and the workers (torchrun starts them in
    # sessions of their own; their command lines name the run's launch.json).
    os.killpg(proc.pid, signal.SIGKILL)
    subprocess.run(["pkill", "-9", "-f", str(out / "launch.json")], check=False)
    proc.wait()
    time.sleep(1)
    assert not (out / "summary.json").exists()
    s = run_pretrain(cfg, tiny_mlm_dir, corpus, out, progress=False).summary
    assert 0 < s["resumed_from_step"] < s["steps"] == 240
    a, b = load_file(ref.model_dir / "model.safetensors"), load_file(out / "model" / "model.safetensors")
    for k in a:
        torch.testing.assert_close(b[k], a[k], atol=1e-6, rtol=1e-5)
    # Where bf16 ran (auto on a CPU with AVX512_BF16), DeepSpeed held bf16 weights; the export is fp32 all the
    # same, and its config says so, so a plain from_pretrained reads fp32.
    if ref.summary["precision"]["dtype"] == "bf16":
        assert {t.dtype for t in a.values()} == {torch.float32}
        assert json.loads((ref.model_dir / "config.json").read_text())["dtype"] == "float32"
        assert AutoModelForMaskedLM.from_pretrained(ref.model_dir).dtype == torch.float32
