import json

import pytest

from dapt.finetune import run_finetune
from dapt.finetune.batching import bucket_count
from dapt.recipe import FinetuneConfig, TaskConfig

TASK = TaskConfig(
    name="chemprot",
    format="jsonl",
    train="chemprot/train.txt",
    dev="chemprot/dev.txt",
    test="chemprot/test.txt",
    max_examples=120,
)


def test_finetune_is_deterministic_per_seed_and_selects_on_dev(tmp_path, tiny_mlm_dir, data_root):
    cfg = FinetuneConfig(learning_rate=1e-3, epochs=2, batch_size=16, max_length=64)
    a = run_finetune(TASK, tiny_mlm_dir, cfg, 0, data_root, tmp_path / "a", progress=False)
    b = run_finetune(TASK, tiny_mlm_dir, cfg, 0, data_root, tmp_path / "b", progress=False)
    assert (tmp_path / "a" / "predictions_test.jsonl").read_text() == (
        tmp_path / "b" / "predictions_test.jsonl"
    ).read_text()
    assert a.summary["history"] == b.summary["history"]
    s = a.summary
    devs = [h["dev_micro_f1"] for h in s["history"]]
    assert s["dev_micro_f1"] == max(devs) and s["best_epoch"] == devs.index(max(devs)) + 1
    rows = [json.loads(line) for line in (tmp_path / "a" / "predictions_test.jsonl").read_text().splitlines()]
    assert len(rows) == 120 and {"id", "gold", "pred", "gold_label", "pred_label"} <= set(rows[0])
    assert s["examples"] == {"train": 120, "dev": 120, "test": 120}


def test_real_model_learns_chemprot_slice(tmp_path, splade_dir, data_root):
    """The shipped 2-layer BERT at the recipe's learning rate beats the majority class on a dev slice."""
    task = TASK.model_copy(update={"max_examples": 600})
    cfg = FinetuneConfig(learning_rate=1e-3, epochs=2, batch_size=32, max_length=96)
    s = run_finetune(task, splade_dir, cfg, 0, data_root, tmp_path / "r", progress=False).summary
    counts = s["labels"]["splits"]["dev"]["counts"]
    majority_rate = max(counts.values()) / sum(counts.values())
    assert s["dev_micro_f1"] > majority_rate + 0.03


@pytest.mark.slow
def test_compiled_finetune_matches_eager_in_a_few_compiles(tmp_path, tiny_mlm_dir, data_root):
    """`finetune.compile`: the same training as eager (no dropout, so no RNG stream differs), compiled once per
    padded width and batch size (120 examples in batches of 16: 7 full and one of 8; widths 32 and 64)."""
    import torch._dynamo

    cfg = FinetuneConfig(learning_rate=1e-3, epochs=2, batch_size=16, max_length=64, dropout=0.0)
    eager = run_finetune(TASK, tiny_mlm_dir, cfg, 0, data_root, tmp_path / "e", progress=False).summary
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    comp_cfg = cfg.model_copy(update={"compile": True})
    comp = run_finetune(TASK, tiny_mlm_dir, comp_cfg, 0, data_root, tmp_path / "c", progress=False).summary
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    assert comp["compiled"] is True and eager["compiled"] is False
    assert 1 <= graphs <= 2 * bucket_count(64)
    for a, b in zip(eager["history"], comp["history"], strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-3)
    preds = [(tmp_path / d / "predictions_test.jsonl").read_text().splitlines() for d in ("e", "c")]
    same = sum(json.loads(x)["pred"] == json.loads(y)["pred"] for x, y in zip(*preds, strict=True))
    assert same >= 0.95 * len(preds[0])
