import json

from dapt.finetune.train import run_finetune
from dapt.floors import compute_floors
from dapt.recipe import FinetuneConfig, TaskConfig
from dapt.tasks.formats import read_conll
from tests.finetune.conll_fixture import write_conll


def task(scheme="BIO"):
    return TaskConfig(
        name="ner",
        format="conll",
        train="train.tsv",
        dev="dev.tsv",
        test="test.tsv",
        metric="span_f1",
        token_column=0,
        tag_column=2,
        tag_scheme=scheme,
    )


def test_read_conll_columns_docstart_and_quarantine(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("-DOCSTART- O\n\nEGFR NN B-GENE\nbinds VB O\n\nbroken\nline NN O\n\ngefitinib\tNN\tB-CHEM\n")
    d = read_conll(p, 0, -1)
    assert [(e.tokens, e.tags) for e in d.examples] == [
        (["EGFR", "binds"], ["B-GENE", "O"]),
        (["gefitinib"], ["B-CHEM"]),
    ]
    assert d.quarantined == {"malformed_line": 1}


def test_token_floors(tmp_path):
    write_conll(tmp_path)
    f = compute_floors(task(), tmp_path)
    assert f["majority"]["test"] == 0.0  # all-O finds no spans
    assert f["tfidf-lr"]["test"] > 0.8  # word features solve this synthetic task


def test_token_finetune_learns_and_aligns_words(tmp_path, splade_dir):
    write_conll(tmp_path / "d", scheme="BIOES")
    cfg = FinetuneConfig(learning_rate=1e-3, epochs=3, batch_size=16, max_length=64)
    res = run_finetune(task("BIOES"), splade_dir, cfg, 0, tmp_path / "d", tmp_path / "o", progress=False)
    s = res.summary
    assert s["dev_span_f1"] > 0.5 and s["tags"][0] == "O"
    rows = [json.loads(line) for line in (tmp_path / "o" / "predictions_test.jsonl").read_text().splitlines()]
    assert len(rows) == 60 and all(len(r["pred"]) == len(r["tokens"]) == len(r["gold"]) for r in rows)


def test_truncated_words_are_predicted_o_and_counted(tmp_path, tiny_mlm_dir):
    write_conll(tmp_path / "d", sizes=(20, 10, 10))
    cfg = FinetuneConfig(learning_rate=1e-3, epochs=1, batch_size=8, max_length=6)
    s = run_finetune(task(), tiny_mlm_dir, cfg, 0, tmp_path / "d", tmp_path / "o", progress=False).summary
    assert s["words_truncated"]["test"] > 0
    rows = [json.loads(line) for line in (tmp_path / "o" / "predictions_test.jsonl").read_text().splitlines()]
    assert all(len(r["pred"]) == len(r["tokens"]) for r in rows)
