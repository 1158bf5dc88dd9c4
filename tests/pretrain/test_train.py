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


def test_mixed_batches_take_the_replay_share_from_their_own_stream():
    from dapt.pretrain.data import batch_at, mixed_batch_at

    domain = (torch.arange(100 * 8).view(100, 8), torch.full((100,), 8))
    general = (torch.arange(10_000, 10_000 + 40 * 8).view(40, 8), torch.full((40,), 8))
    seen_general = set()
    for step in range(30):
        ids, attn, _, idx = mixed_batch_at(step, domain, general, 16, 4, seed=3)
        assert (idx[:12] >= 0).all() and (idx[12:] < 0).all()
        assert ids.shape == (16, 8) and attn.all()
        assert (ids[:12] < 10_000).all() and (ids[12:] >= 10_000).all()
        # The domain part is exactly the plain stream with the smaller batch: a pure function of the step.
        assert torch.equal(ids[:12], batch_at(step, *domain, 12, 3)[0])
        seen_general |= {int(r[0]) for r in ids[12:]}
    assert len(seen_general) == 40  # 30 steps x 4 blocks cycle through all 40 general blocks


def test_replay_pretraining_records_the_mixture(tmp_path, tiny_mlm_dir, data_root):
    tok = AutoTokenizer.from_pretrained(tiny_mlm_dir)
    src = CorpusSource(name="c", path="biomed_unlabelled/pubmedqa/abstracts.txt", max_documents=60)
    gen = CorpusSource(name="g", path="general/wikitext-2/valid.txt", max_documents=200, format="text")
    ing = run_ingest(CorpusConfig(sources=[src]), data_root, tmp_path / "corpus", tok, 64, 0.1, progress=False)
    gen_ing = run_ingest(CorpusConfig(sources=[gen]), data_root, tmp_path / "gen", tok, 64, 0.1, progress=False)
    pcfg = PretrainConfig(
        max_tokens=64 * 8 * 6, block_size=64, batch_size=8, replay_ratio=0.25, whole_word_mask=True, log_every_steps=2
    )
    s = run_pretrain(
        pcfg, tiny_mlm_dir, ing.dataset_dir, tmp_path / "pre", progress=False, replay_dir=gen_ing.dataset_dir
    ).summary
    assert s["replay_blocks_per_batch"] == 2 and s["steps"] == 6
    assert "replay: 2 of 8 blocks" in (tmp_path / "pre" / "model" / "README.md").read_text()


def test_lora_domain_adapters_train_only_adapters_and_export_merged(tmp_path, tiny_mlm_dir, data_root):
    from safetensors.torch import load_file

    tok = AutoTokenizer.from_pretrained(tiny_mlm_dir)
    src = CorpusSource(name="c", path="biomed_unlabelled/pubmedqa/abstracts.txt", max_documents=60)
    ing = run_ingest(CorpusConfig(sources=[src]), data_root, tmp_path / "corpus", tok, 64, 0.1, progress=False)
    pcfg = PretrainConfig(max_tokens=64 * 8 * 10, block_size=64, batch_size=8, learning_rate=1e-2, lora_r=4)
    s = run_pretrain(pcfg, tiny_mlm_dir, ing.dataset_dir, tmp_path / "pre", progress=False).summary
    # Rank 4 on query and value of 2 layers: 2 x 2 x (32 x 4 + 4 x 32) adapter weights, nothing else.
    assert s["trainable_params"] == 2 * 2 * (32 * 4 + 4 * 32) and s["lora_r"] == 4
    out = load_file(tmp_path / "pre" / "model" / "model.safetensors")
    base = load_file(tiny_mlm_dir / "model.safetensors")
    assert not any("lora" in k for k in out)  # merged: a plain checkpoint
    q = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(out[q], base[q])  # the adapter's update is in the merged weight
    key = "bert.encoder.layer.0.attention.self.key.weight"
    assert torch.equal(out[key], base[key])  # untouched where there was no adapter
    AutoModelForMaskedLM.from_pretrained(tmp_path / "pre" / "model")


def test_training_curves_reach_tensorboard(tmp_path, tiny_mlm_dir, data_root):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tok = AutoTokenizer.from_pretrained(tiny_mlm_dir)
    src = CorpusSource(name="c", path="biomed_unlabelled/pubmedqa/abstracts.txt", max_documents=40)
    ing = run_ingest(CorpusConfig(sources=[src]), data_root, tmp_path / "corpus", tok, 64, 0.1, progress=False)
    pcfg = PretrainConfig(max_tokens=64 * 8 * 6, block_size=64, batch_size=8, log_every_steps=2, eval_every_steps=3)
    run_pretrain(pcfg, tiny_mlm_dir, ing.dataset_dir, tmp_path / "pre", progress=False)
    ev = EventAccumulator(str(tmp_path / "pre" / "tensorboard"))
    ev.Reload()
    tags = set(ev.Tags()["scalars"])
    assert {"pretrain/loss", "pretrain/tokens_per_s", "pretrain/mfu", "pretrain/heldout_ppl"} <= tags
    assert [e.step for e in ev.Scalars("pretrain/loss")] == [1, 2, 4, 6]
