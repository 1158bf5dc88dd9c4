import json

import pytest

from dapt.finetune.sweep import parse_grid, sweep_table


def test_parse_grid_types():
    assert parse_grid(["learning_rate=3e-4,1e-3", "epochs=3,6"]) == {"learning_rate": [3e-4, 1e-3], "epochs": [3, 6]}
    with pytest.raises(ValueError, match="KEY=V1"):
        parse_grid(["epochs"])


def test_sweep_table_marks_best_per_task():
    rows = [
        {"task": "t", "epochs": 3, "seed": 0, "best_epoch": 3, "dev": 0.5, "metric": "micro_f1", "seconds": 1},
        {"task": "t", "epochs": 6, "seed": 0, "best_epoch": 5, "dev": 0.7, "metric": "micro_f1", "seconds": 2},
    ]
    md = sweep_table("r", ["epochs"], rows, {"t": {"majority_dev": 0.3, "tfidf_lr_dev": 0.6}})
    best_line = next(line for line in md.splitlines() if "**best**" in line)
    assert "| 6 |" in best_line and "tfidf-lr 0.6000" in md


def _recipe(base_model, max_examples: int, **extra):
    """A one-task (chemprot) sweep recipe on the tiny base model; ``extra`` adds or replaces top-level keys."""
    from dapt.recipe import Recipe

    return Recipe.model_validate(
        {
            "name": "s",
            "base_model": str(base_model),
            "seeds": [0],
            "variants": ["baseline"],
            "corpus": {"sources": [{"name": "c", "path": "biomed_unlabelled/pubmedqa/abstracts.txt"}]},
            "pretrain": {"max_tokens": 100},
            "tasks": [
                {
                    "name": "chemprot",
                    "format": "jsonl",
                    "train": "chemprot/train.txt",
                    "dev": "chemprot/dev.txt",
                    "test": "chemprot/test.txt",
                    "max_examples": max_examples,
                }
            ],
            "finetune": {"epochs": 1, "max_length": 48},
            **extra,
        }
    )


def test_sweep_never_predicts_test(tmp_path, tiny_mlm_dir, data_root):
    from dapt.finetune.sweep import run_sweep

    recipe = _recipe(tiny_mlm_dir, 80)
    rows = run_sweep(recipe, {"learning_rate": [1e-3, 3e-3]}, data_root, tmp_path)
    assert len(rows) == 2 and all(0 <= r["dev"] <= 1 for r in rows)
    assert list(tmp_path.rglob("predictions_dev.jsonl")) and not list(tmp_path.rglob("predictions_test.jsonl"))
    assert "chemprot" in (tmp_path / "sweep.md").read_text()


def test_sweep_few_shot_trains_on_the_shots_with_the_transfer_settings(tmp_path, tiny_mlm_dir, data_root):
    """``--shots``: each point trains on k examples per label (the run's few-shot draw), under
    ``transfer.few_shot_finetune`` and its minimum step count; the grid's values win over both."""
    from dapt.finetune.sweep import run_sweep

    recipe = _recipe(
        tiny_mlm_dir,
        300,
        pretrain={"objective": "clm", "max_tokens": 100},  # transfer recipes are causal; the sweep reads base only
        finetune={"epochs": 1, "max_length": 48, "batch_size": 8, "max_eval_examples": 20},
        transfer={
            "modes": ["few_shot_ft", "full_ft"],
            "ft_shots_per_label": 2,
            "ft_min_train_steps": 6,
            "few_shot_finetune": {"batch_size": 4, "learning_rate": 5e-2},
        },
    )
    rows = run_sweep(recipe, {"learning_rate": [1e-3]}, data_root, tmp_path, shots=2)
    (row,) = rows
    labels = {json.loads(x)["label"] for x in (data_root / "chemprot/train.txt").read_text().splitlines()[:300]}
    assert row["shots_per_label"] == 2 and row["train_examples"] == 2 * len(labels)
    steps_per_epoch = -(-row["train_examples"] // 4)  # batch_size from few_shot_finetune, not the recipe's 8
    assert row["epochs_run"] * steps_per_epoch >= 6 > (row["epochs_run"] - 1) * steps_per_epoch
    summary = json.loads(next(tmp_path.rglob("summary.json")).read_text())
    assert summary["settings"]["learning_rate"] == 1e-3 and summary["settings"]["batch_size"] == 4
    assert "few-shot fine-tuning on 2 train examples per label" in (tmp_path / "sweep.md").read_text()
