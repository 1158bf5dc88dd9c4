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


def test_sweep_never_predicts_test(tmp_path, tiny_mlm_dir, data_root):
    from dapt.finetune.sweep import run_sweep
    from dapt.recipe import Recipe

    recipe = Recipe.model_validate(
        {
            "name": "s",
            "base_model": str(tiny_mlm_dir),
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
                    "max_examples": 80,
                }
            ],
            "finetune": {"epochs": 1, "max_length": 48},
        }
    )
    rows = run_sweep(recipe, {"learning_rate": [1e-3, 3e-3]}, data_root, tmp_path)
    assert len(rows) == 2 and all(0 <= r["dev"] <= 1 for r in rows)
    assert list(tmp_path.rglob("predictions_dev.jsonl")) and not list(tmp_path.rglob("predictions_test.jsonl"))
    assert "chemprot" in (tmp_path / "sweep.md").read_text()
