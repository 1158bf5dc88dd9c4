"""The CUDA paths, on a GPU only (marker ``gpu``; skipped elsewhere): bf16 autocast chosen by ``auto``, fused AdamW,
TF32, pinned non-blocking copies, an fp32 export that fine-tunes on the GPU. The CPU halves of each are in the
default suite (tests/pretrain/test_precision.py, tests/test_precision.py)."""

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_pretrain_and_finetune_on_the_gpu(tmp_path, tiny_mlm_dir, data_root):
    from dapt.device import to_device
    from dapt.finetune import run_finetune
    from dapt.ingest import run_ingest
    from dapt.optim import adamw
    from dapt.pretrain import run_pretrain
    from dapt.recipe import CorpusConfig, CorpusSource, FinetuneConfig, PretrainConfig
    from tests.finetune.test_train import TASK

    cuda = torch.device("cuda")
    assert adamw([{"params": [torch.zeros(2, device=cuda, requires_grad=True)]}], 1e-3, cuda).defaults["fused"]
    moved = to_device(torch.arange(4), cuda)
    assert moved.device.type == "cuda" and moved.tolist() == [0, 1, 2, 3]

    tok = AutoTokenizer.from_pretrained(tiny_mlm_dir)
    src = CorpusSource(name="c", path="biomed_unlabelled/pubmedqa/abstracts.txt", max_documents=80)
    corpus = run_ingest(CorpusConfig(sources=[src]), data_root, tmp_path / "c", tok, 64, 0.1, progress=False)
    cfg = PretrainConfig(max_tokens=64 * 16 * 10, block_size=64, batch_size=16, log_every_steps=5)
    res = run_pretrain(cfg, tiny_mlm_dir, corpus.dataset_dir, tmp_path / "pre", progress=False)
    s = res.summary
    expected = "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    assert s["precision"]["dtype"] == expected and s["device"] == torch.cuda.get_device_name(0)
    assert torch.backends.cuda.matmul.allow_tf32 and 0 < s["mfu"] < 1
    assert {t.dtype for t in load_file(res.model_dir / "model.safetensors").values()} == {torch.float32}

    task = TASK.model_copy(update={"max_examples": 64})
    ft = FinetuneConfig(learning_rate=1e-3, epochs=1, batch_size=16, max_length=64)
    summary = run_finetune(task, res.model_dir, ft, 0, data_root, tmp_path / "ft", progress=False).summary
    assert summary["precision"]["dtype"] == expected and summary["device"] == torch.cuda.get_device_name(0)
