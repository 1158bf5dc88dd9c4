"""The `scratch` variant: a domain vocabulary learned from training documents only, the base's shape with fresh
weights, and the variant through every stage to the report's tables and cost."""

import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoTokenizer

from dapt.ingest import heldout_ids
from dapt.pretrain import scratch
from dapt.run import PretrainJob, Run

RECIPE = """
name: scratch-test
base_model: {base}
seeds: [0]
variants: [baseline, dapt, scratch]
corpus:
  sources:
    - {{name: c, path: biomed_unlabelled/pubmedqa/abstracts.txt, max_documents: 300}}
pretrain: {{max_tokens: 20000, block_size: 64, batch_size: 16, learning_rate: 3.0e-3, heldout_fraction: 0.1,
           checkpoint_every_steps: null}}
scratch: {{vocab_size: 600, budget_multiple: 2.0, learning_rate: 5.0e-3}}
tasks:
  - {{name: chemprot, format: jsonl, train: chemprot/train.txt, dev: chemprot/dev.txt, test: chemprot/test.txt,
     max_examples: 64}}
finetune: {{learning_rate: 1.0e-3, epochs: 1, max_length: 64}}
floors: false
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory, tiny_mlm_dir, data_root):
    tmp = tmp_path_factory.mktemp("scratch")
    recipe = tmp / "r.yaml"
    recipe.write_text(RECIPE.format(base=tiny_mlm_dir))
    seen: list[str] = []
    real = scratch.train_domain_tokenizer

    def spying(base_tokenizer, docs, cfg):
        def recorded():
            for d in docs:
                seen.append(d["id"])
                yield d

        return real(base_tokenizer, recorded(), cfg)

    scratch.train_domain_tokenizer = spying
    try:
        with Run.open(recipe, data_dir=str(data_root), out=str(tmp / "run")) as run:
            run.ingest(progress=False)
            run.pretrain(progress=False)
            for task, variant, seed, fraction in run.finetune_jobs():
                run.finetune(task, variant, seed, progress=False, fraction=fraction)
            run.evaluate()
            results = run.report()
    finally:
        scratch.train_domain_tokenizer = real
    return run, results, seen


def test_the_domain_vocabulary_never_sees_held_out_documents(finished):
    run, _, seen = finished
    held = heldout_ids(run.layout.corpus_dir)
    assert seen and held and not held & set(seen)
    stats = json.loads((run.layout.corpus_dir / "stats.json").read_text())
    assert len(seen) == stats["documents"]["kept"] - len(held)  # every training document, each once
    job = run.layout.job_dir(PretrainJob("scratch"))
    tok = AutoTokenizer.from_pretrained(job / "model")
    assert len(tok) <= 600 and tok.mask_token is not None
    report = json.loads((job / "scratch" / "tokenizer.json").read_text())
    assert report["vocab_size"]["domain"] == len(tok)
    assert {"domain (held-out)", "chemprot train"} <= set(report["fertility"])


def test_scratch_starts_from_fresh_weights_in_the_base_shape(finished, tiny_mlm_dir):
    run, _, _ = finished
    job = run.layout.job_dir(PretrainJob("scratch"))
    base_cfg, init_cfg = AutoConfig.from_pretrained(tiny_mlm_dir), AutoConfig.from_pretrained(job / "scratch" / "init")
    for key in ("num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size"):
        assert getattr(init_cfg, key) == getattr(base_cfg, key)
    assert init_cfg.vocab_size != base_cfg.vocab_size
    base_w, init_w = (
        load_file(tiny_mlm_dir / "model.safetensors"),
        load_file(job / "scratch" / "init" / "model.safetensors"),
    )
    key = next(k for k in base_w if k.endswith("layer.0.attention.self.query.weight"))
    assert base_w[key].shape == init_w[key].shape and not torch.equal(base_w[key], init_w[key])


def test_scratch_reaches_the_report_tables_and_cost(finished):
    run, results, _ = finished
    row = results["tasks"]["chemprot"]["scratch"]
    assert len(row["scores"]) == 1 and "vs_baseline" in row
    summary = results["pretrain_jobs"]["scratch"]["summary"]
    assert summary["tokens_seen"] >= 0.95 * 40_000 and summary["general_ppl_before"] is None
    assert results["contrasts"]["chemprot"]["scratch vs dapt"]
    md = (run.out_dir / "report.md").read_text()
    assert "(own vocabulary)" in md and "`scratch` vocabulary: " in md and "chemprot train" in md
    cost_rows = [line for line in md.splitlines() if line.startswith("| scratch |")]
    assert len(cost_rows) >= 2  # the task table and the cost table
