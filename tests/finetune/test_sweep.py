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
