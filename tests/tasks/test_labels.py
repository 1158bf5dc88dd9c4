from dapt.metrics.classification import micro_f1
from dapt.recipe import TaskConfig
from dapt.tasks.formats import load_split
from dapt.tasks.labels import LabelSpace, label_report


def test_unseen_label_is_kept_and_always_wrong():
    space = LabelSpace.from_train(["A", "A", "B"])
    assert space.labels == ["A", "B"]
    gold = [space.encode(x) for x in ["A", "B", "NEW", "NEW"]]
    assert gold[2] == gold[3] == 2 and space.unseen == ["NEW"] and space.name(2) == "NEW"
    # A model can only predict trainable ids, so the unseen examples count as errors (none are dropped).
    preds = [0, 1, 0, 1]
    assert micro_f1(preds, gold) == 0.5


def test_label_report_on_real_chemprot(data_root):
    task = TaskConfig(
        name="chemprot",
        format="jsonl",
        train="chemprot/train.txt",
        dev="chemprot/dev.txt",
        test="chemprot/test.txt",
    )
    splits = {s: [e.label for e in load_split(task, s, data_root).examples] for s in ("train", "dev", "test")}
    space = LabelSpace.from_train(splits["train"])
    assert space.num_labels == 13
    rep = label_report(space, splits)
    # PROVENANCE.md: dev lacks AGONIST-INHIBITOR, test lacks SUBSTRATE_PRODUCT-OF.
    assert rep["splits"]["dev"]["train_labels_absent"] == ["AGONIST-INHIBITOR"]
    assert rep["splits"]["test"]["train_labels_absent"] == ["SUBSTRATE_PRODUCT-OF"]
    assert rep["splits"]["test"]["not_in_train"] == []
    assert rep["splits"]["test"]["examples"] == 3469


def test_label_order_is_deterministic():
    assert LabelSpace.from_train(["b", "a", "c", "c"]).labels == ["c", "a", "b"]
