import json

from dapt.finetune import run_finetune
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
