"""bf16 autocast against fp32 on the same tiny run, and a bf16 run's export read back as fp32."""

import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer

from dapt.finetune import run_finetune
from dapt.ingest import run_ingest
from dapt.precision import cpu_bf16_flags
from dapt.pretrain import run_pretrain
from dapt.recipe import CorpusConfig, CorpusSource, FinetuneConfig, PretrainConfig
from tests.finetune.test_train import TASK

STEPS = 24


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, tiny_mlm_dir, data_root):
    tok = AutoTokenizer.from_pretrained(tiny_mlm_dir)
    src = CorpusSource(name="c", path="biomed_unlabelled/pubmedqa/abstracts.txt", max_documents=80)
    out = tmp_path_factory.mktemp("precision_corpus")
    return run_ingest(CorpusConfig(sources=[src]), data_root, out, tok, 64, 0.1, progress=False).dataset_dir


def pretrain(tiny_mlm_dir, corpus, out, mixed_precision):
    cfg = PretrainConfig(
        max_tokens=64 * 16 * STEPS,
        block_size=64,
        batch_size=16,
        learning_rate=3e-3,
        warmup_ratio=0.1,
        log_every_steps=4,
        mixed_precision=mixed_precision,
        checkpoint_every_steps=None,
    )
    res = run_pretrain(cfg, tiny_mlm_dir, corpus, out, progress=False)
    losses = [r["loss"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if "loss" in r]
    return res, losses


# On a CPU without native bf16 (AVX2-only machines of this project's pool) bf16 is refused, not emulated at ~1% of
# fp32's speed; this comparison then runs where the hardware has it (a bf16 CPU or the GPU script's machine).
@pytest.mark.skipif(not cpu_bf16_flags(), reason="this CPU has no native bf16 (avx512_bf16/amx_bf16)")
def test_bf16_and_fp32_losses_track_each_other_and_the_export_is_fp32(tmp_path, tiny_mlm_dir, corpus, data_root):
    fp32, fp32_losses = pretrain(tiny_mlm_dir, corpus, tmp_path / "fp32", "no")
    bf16, bf16_losses = pretrain(tiny_mlm_dir, corpus, tmp_path / "bf16", "bf16")
    assert fp32.summary["precision"]["dtype"] == "fp32" and bf16.summary["precision"]["dtype"] == "bf16"
    assert bf16.summary["attention"] == "sdpa"
    assert len(fp32_losses) == len(bf16_losses) >= STEPS // 4
    assert fp32_losses != bf16_losses  # autocast did run in bf16
    # Same data, masks and init: bf16 rounding moves each logged loss by well under 3% over the run ...
    for a, b in zip(fp32_losses, bf16_losses, strict=True):
        assert abs(a - b) / a < 0.03, (fp32_losses, bf16_losses)
    # ... while the model did learn (so the tolerance is not wider than the training signal).
    assert fp32_losses[-1] < 0.9 * fp32_losses[0]
    for s in (fp32.summary, bf16.summary):
        assert s["heldout_ppl_after"] < s["heldout_ppl_before"]
    assert abs(fp32.summary["heldout_ppl_after"] / bf16.summary["heldout_ppl_after"] - 1) < 0.05

    # The bf16 run's export is fp32 on disk, says so, and fine-tunes (in fp32 and in bf16) from fp32 masters.
    weights = load_file(bf16.model_dir / "model.safetensors")
    assert {t.dtype for t in weights.values() if t.is_floating_point()} == {torch.float32}
    assert json.loads((bf16.model_dir / "config.json").read_text())["dtype"] == "float32"
    task = TASK.model_copy(update={"max_examples": 64})
    for mp in ("no", "bf16"):
        cfg = FinetuneConfig(learning_rate=1e-3, epochs=1, batch_size=16, max_length=64, mixed_precision=mp)
        s = run_finetune(task, bf16.model_dir, cfg, 0, data_root, tmp_path / f"ft-{mp}", progress=False).summary
        assert s["precision"]["dtype"] == ("fp32" if mp == "no" else "bf16")
        assert s["history"][0]["train_loss"] > 0 and s["attention"] == "sdpa"


def test_a_bf16_checkpoint_loads_as_fp32_masters(tmp_path, tiny_mlm_dir):
    from transformers import AutoModelForMaskedLM

    from dapt.finetune.model import load_encoder
    from dapt.pretrain.lm import load_lm

    AutoModelForMaskedLM.from_pretrained(tiny_mlm_dir).to(torch.bfloat16).save_pretrained(tmp_path / "bf16")
    AutoTokenizer.from_pretrained(tiny_mlm_dir).save_pretrained(tmp_path / "bf16")
    assert {p.dtype for p in load_encoder(tmp_path / "bf16", None).parameters()} == {torch.float32}
    assert {p.dtype for p in load_lm(tmp_path / "bf16", "mlm").parameters()} == {torch.float32}


def test_auto_resolves_to_what_this_machine_has(tmp_path, tiny_mlm_dir, corpus):
    res, _ = pretrain(tiny_mlm_dir, corpus, tmp_path / "auto", "auto")
    if torch.cuda.is_available():
        pytest.skip("the CUDA case is tests/test_gpu_paths.py")
    assert res.summary["precision"]["dtype"] == ("bf16" if cpu_bf16_flags() else "fp32")
    assert res.summary["peak_flops_source"] in {"measured", "cached"} and res.summary["peak_flops"] > 1e9


@pytest.mark.slow
def test_a_compiled_encoder_trains_like_the_eager_one(tmp_path, tiny_mlm_dir, corpus):
    """torch.compile (inductor: tens of seconds on 2 cores, hence slow) changes speed, not what is learned."""
    _, eager = pretrain(tiny_mlm_dir, corpus, tmp_path / "eager", "no")
    cfg = PretrainConfig(
        max_tokens=64 * 16 * STEPS, block_size=64, batch_size=16, learning_rate=3e-3, warmup_ratio=0.1,
        log_every_steps=4, mixed_precision="no", checkpoint_every_steps=None, compile=True,
    )  # fmt: skip
    res = run_pretrain(cfg, tiny_mlm_dir, corpus, tmp_path / "compiled", progress=False)
    compiled = [
        r["loss"]
        for r in map(json.loads, (tmp_path / "compiled" / "metrics.jsonl").read_text().splitlines())
        if "loss" in r
    ]
    for a, b in zip(eager, compiled, strict=True):
        assert abs(a - b) / a < 0.01, (eager, compiled)
    # The export is a plain model: no compile wrapper in its weight names.
    weights = load_file(res.model_dir / "model.safetensors")
    assert not any("_orig_mod" in k for k in weights)
