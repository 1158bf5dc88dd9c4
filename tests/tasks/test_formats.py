import json

import pytest

from dapt.recipe import TaskConfig
from dapt.tasks.formats import load_split, read_jsonl_task, read_piboso


def test_piboso_format(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("###111\nbackground\tFirst sentence .\noutcome\tSecond .\n\n###222\nother\tThird .\nno tab here\n\n")
    d = read_piboso(p)
    assert [(e.example_id, e.label, e.text) for e in d.examples] == [
        ("111/1", "background", "First sentence ."),
        ("111/2", "outcome", "Second ."),
        ("222/1", "other", "Third ."),
    ]
    assert d.quarantined == {"no_tab_separated_sentence": 1}


def test_jsonl_quarantine(tmp_path):
    p = tmp_path / "x.jsonl"
    rows = [
        {"text": "a b", "label": "X"},
        {"text": "", "label": "X"},
        {"text": "c", "label": None},
        {"text": "d", "label": ""},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n")
    d = read_jsonl_task(p)
    assert [e.text for e in d.examples] == ["a b"]
    assert d.quarantined == {"missing_text": 1, "missing_label": 2, "invalid_json": 1}


def test_real_task_counts(data_root):
    chem = TaskConfig(
        name="chemprot",
        format="jsonl",
        train="chemprot/train.txt",
        dev="chemprot/dev.txt",
        test="chemprot/test.txt",
    )
    assert [len(load_split(chem, s, data_root).examples) for s in ("train", "dev", "test")] == [
        4169,
        2427,
        3469,
    ]
    nicta = TaskConfig(
        name="n",
        format="piboso",
        train="nicta_piboso/train_clean.txt",
        dev="nicta_piboso/dev_clean.txt",
        test="nicta_piboso/test_clean.txt",
    )
    assert [len(load_split(nicta, s, data_root).examples) for s in ("train", "dev", "test")] == [
        6979,
        801,
        1991,
    ]


def test_piboso_context_stays_inside_the_abstract(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("###1\nbackground\tA .\nother\tB .\noutcome\tC .\n\n###2\noutcome\tD .\n\n")
    ex = read_piboso(p, context_sentences=1).examples
    assert ex[0].context == "sentence 1 of 3 . before :  . after : B ."
    assert ex[1].context == "sentence 2 of 3 . before : A . . after : C ."
    assert ex[3].context == "sentence 1 of 1 . before :  . after : "
    assert all(e.context == "" for e in read_piboso(p).examples)


def test_context_only_for_piboso():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="context_sentences"):
        TaskConfig(name="c", format="jsonl", train="a", dev="b", test="c", context_sentences=1)


@pytest.mark.parametrize(
    ("task", "extra"),
    [
        ("citation_intent", {}),  # sentence classification
        ("sciie", {"entity_markers": [["<<", ">>"], ["[[", "]]"]], "pooling": "entity_start"}),  # relations
    ],
)
def test_other_tasks_by_configuration_only(tmp_path, tiny_mlm_dir, data_root, task, extra):
    """The other two labelled datasets run through the same code, from a task config alone."""
    from dapt.finetune import run_finetune
    from dapt.recipe import FinetuneConfig, TaskConfig

    cfg = TaskConfig(
        name=task,
        format="jsonl",
        train=f"{task}/train.txt",
        dev=f"{task}/dev.txt",
        test=f"{task}/test.txt",
        metric="macro_f1",
        max_examples=64,
        **extra,
    )
    s = run_finetune(
        cfg,
        tiny_mlm_dir,
        FinetuneConfig(epochs=1, batch_size=16, max_length=64),
        0,
        data_root,
        tmp_path,
        progress=False,
    ).summary
    assert s["examples"]["test"] == 64 and 0 <= s["dev_macro_f1"] <= 1
    assert s["labels"]["train_labels"]
    assert (tmp_path / "predictions_test.jsonl").read_text().count("\n") == 64
