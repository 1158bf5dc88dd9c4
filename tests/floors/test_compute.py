import json

from dapt.floors import compute_floors
from dapt.recipe import TaskConfig


def test_floors_on_a_task_bag_of_words_solves(tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    rows = [
        {"text": f"the {w} sample number {i}", "label": lab}
        for i in range(40)
        for w, lab in (("kinase", "K"), ("receptor", "R"), ("kinase", "K"))
    ]
    for split in ("train", "dev", "test"):
        (root / f"{split}.txt").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    task = TaskConfig(name="toy", format="jsonl", train="train.txt", dev="dev.txt", test="test.txt")
    f = compute_floors(task, root, tmp_path / "out")
    assert f["majority"]["label"] == "K" and abs(f["majority"]["test"] - 2 / 3) < 1e-9
    assert f["tfidf-lr"]["test"] == 1.0
    assert len(f["tfidf-lr"]["dev_sweep"]) >= 3
    assert json.loads((tmp_path / "out" / "toy.json").read_text())["tfidf-lr"]["test"] == 1.0
