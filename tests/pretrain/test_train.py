import json

import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from dapt.ingest import run_ingest
from dapt.pretrain import run_pretrain
from dapt.recipe import CorpusConfig, CorpusSource, PretrainConfig


def test_pretrain_learns_and_saves_a_plain_hf_folder(tmp_path, tiny_mlm_dir, data_root):
    tok = AutoTokenizer.from_pretrained(tiny_mlm_dir)
    cfg = CorpusConfig(
        sources=[CorpusSource(name="c", path="biomed_unlabelled/pubmedqa/abstracts.txt", max_documents=60)]
    )
    ing = run_ingest(cfg, data_root, tmp_path / "corpus", tok, 64, 0.1, progress=False)
    pcfg = PretrainConfig(
        max_tokens=64 * 16 * 30,
        block_size=64,
        batch_size=16,
        learning_rate=3e-3,
        warmup_ratio=0.1,
        log_every_steps=5,
    )
    res = run_pretrain(pcfg, tiny_mlm_dir, ing.dataset_dir, tmp_path / "pre", progress=False)
    s = res.summary
    assert s["steps"] == 30 and s["tokens_seen"] > 0.95 * pcfg.max_tokens
    assert s["heldout_ppl_after"] < s["heldout_ppl_before"]
    assert s["tokens_per_s"] > 0 and 0 < s["mfu"] < 1
    records = [json.loads(line) for line in (tmp_path / "pre" / "metrics.jsonl").read_text().splitlines()]
    assert any("tokens_per_s" in r and "mfu" in r for r in records)
    # Plain transformers loads it; weights are safetensors only (no pickle).
    files = {p.name for p in res.model_dir.iterdir()}
    assert "model.safetensors" in files and not any(f.endswith(".bin") for f in files)
    model = AutoModelForMaskedLM.from_pretrained(res.model_dir)
    assert isinstance(model.bert.embeddings.word_embeddings.weight, torch.nn.Parameter)
    AutoTokenizer.from_pretrained(res.model_dir)
