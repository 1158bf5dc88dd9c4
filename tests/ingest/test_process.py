import json

import datasets
import numpy as np
from transformers import AutoTokenizer

from dapt.ingest import run_ingest
from dapt.ingest.pack import unpack_stream
from dapt.ingest.shards import load_blocks
from dapt.recipe import CorpusConfig, CorpusSource, DedupConfig


def test_ingest_counts_every_drop_and_keeps_every_token(tmp_path, splade_dir):
    root = tmp_path / "data"
    (root / "corp").mkdir(parents=True)
    (root / "corp" / "a.txt").write_bytes(
        b"Cells were stained with an antibody against nucleolin.\n"
        b"short\n"
        b"CELLS were   stained with an antibody against nucleolin.\n"  # duplicate after normalisation
        b"bad \xff byte in this line of text\n"
        b"The protein kinase phosphorylates its substrate in vitro.\n"
    )
    (root / "corp" / "b.jsonl").write_text(
        json.dumps({"text": "Gefitinib inhibits the epidermal growth factor receptor."}) + "\n{broken\n"
    )
    cfg = CorpusConfig(
        sources=[
            CorpusSource(name="txt", path="corp", glob="*.txt"),
            CorpusSource(name="json", path="corp/b.jsonl", format="jsonl"),
        ],
        min_chars=10,
    )
    tok = AutoTokenizer.from_pretrained(splade_dir)
    res = run_ingest(cfg, root, tmp_path / "out", tok, block_size=16, heldout_fraction=0.0, progress=False)
    s = res.stats
    assert s["sources"]["txt"] == {
        "files": 1,
        "read": 5,
        "kept": 2,
        "dropped": {"too_short": 1, "duplicate": 1, "invalid_utf8": 1},
    }
    assert s["sources"]["json"] == {"files": 1, "read": 2, "kept": 1, "dropped": {"invalid_json": 1}}
    assert s["documents"] == {
        "read": 7,
        "kept": 3,
        "dropped": {"duplicate": 1, "invalid_json": 1, "invalid_utf8": 1, "too_short": 1},
    }
    assert json.loads((tmp_path / "out" / "stats.json").read_text()) == s
    rejects = [json.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert sorted(r["reason"] for r in rejects) == ["duplicate", "invalid_json", "invalid_utf8", "too_short"]
    assert {r["doc_id"] for r in rejects} >= {"corp/a.txt:2", "corp/a.txt:4", "corp/b.jsonl:2"}
    card = (tmp_path / "out" / "data_card.md").read_text()
    assert "| txt |" in card and "| invalid_utf8 | 1 |" in card and "read 7, kept 3" in card

    ids, real = load_blocks(res.dataset_dir, "train")
    stream = unpack_stream(zip(ids, real, strict=True))
    kept = [
        "Cells were stained with an antibody against nucleolin.",
        "The protein kinase phosphorylates its substrate in vitro.",
        "Gefitinib inhibits the epidermal growth factor receptor.",
    ]
    expected = [t for text in kept for t in [*tok(text, add_special_tokens=False)["input_ids"], tok.sep_token_id]]
    assert stream == expected
    assert s["content_tokens"] == len(expected) - 3

    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["manifest_hash"] == s["manifest_hash"]
    assert [i["path"] for i in manifest["inputs"]] == ["corp/a.txt", "corp/b.jsonl"]
    assert sum(sh["rows"] for sh in manifest["shards"]) == s["blocks"]["total"]


def test_ingest_is_deterministic_sharded_and_split(tmp_path, splade_dir):
    root = tmp_path / "data"
    root.mkdir()
    (root / "c.txt").write_text("".join(f"Sentence number {i} about protein {i * 7} binding.\n" for i in range(400)))
    cfg = CorpusConfig(sources=[CorpusSource(name="c", path="c.txt")], shard_blocks=16, dedup=DedupConfig(near=False))
    tok = AutoTokenizer.from_pretrained(splade_dir)
    a = run_ingest(cfg, root, tmp_path / "a", tok, 32, 0.1, seed=3, progress=False)
    run_ingest(cfg, root, tmp_path / "b", tok, 32, 0.1, seed=3, progress=False)
    ma, mb = (json.loads((tmp_path / x / "manifest.json").read_text()) for x in "ab")
    assert ma["manifest_hash"] == mb["manifest_hash"]
    assert [s["sha256"] for s in ma["shards"]] == [s["sha256"] for s in mb["shards"]]
    assert len([s for s in ma["shards"] if s["split"] == "train"]) > 1  # several shards of 16 blocks

    st = a.stats["blocks"]
    assert st["heldout"] + st["train"] == st["total"] and st["heldout"] >= 1
    train, _ = load_blocks(a.dataset_dir, "train")
    held, _ = load_blocks(a.dataset_dir, "heldout")
    assert len(train) == st["train"] and len(held) == st["heldout"]
    assert not {r.tobytes() for r in held} & {r.tobytes() for r in train}

    # The shards are plain Arrow files that `datasets` memory-maps.
    ds = datasets.concatenate_datasets(
        [datasets.Dataset.from_file(str(p)) for p in sorted((a.dataset_dir / "train").glob("*.arrow"))]
    )
    assert np.array_equal(np.asarray(ds["input_ids"]), train)

    c = run_ingest(cfg, root, tmp_path / "c", tok, 32, 0.1, seed=4, progress=False)
    assert c.stats["manifest_hash"] != a.stats["manifest_hash"]


def test_tiny_corpus_still_gets_a_heldout_block(tmp_path, splade_dir):
    root = tmp_path / "data"
    root.mkdir()
    (root / "c.txt").write_text("".join(f"Protein {i} binds receptor {i + 1} in cells.\n" for i in range(20)))
    cfg = CorpusConfig(sources=[CorpusSource(name="c", path="c.txt")])
    tok = AutoTokenizer.from_pretrained(splade_dir)
    res = run_ingest(cfg, root, tmp_path / "o", tok, 32, 0.01, progress=False)
    assert res.stats["blocks"]["heldout"] == 1 and res.stats["blocks"]["train"] >= 1


def test_every_bad_input_kind_is_counted_and_the_stage_completes(tmp_path, splade_dir):
    root = tmp_path / "data"
    root.mkdir()
    good = b"Gefitinib inhibits the epidermal growth factor receptor in lung cancer cells.\n"
    (root / "t.txt").write_bytes(
        b"\xef\xbb\xbf"
        + good.replace(b"\n", b"\r\n")  # BOM + CRLF: fine
        + b"invalid \xc3\x28 utf-8 sequence in this line\n"
        + b"nul \x00 bytes in this line of text\n"
        + b"\x01\x02\x03\n"  # empty after normalisation
        + b"y" * 5_000_000
        + b"\n"  # over max_chars (and over the reader's byte cap)
        + b"The kinase phosphorylates its substrate in vitro.\n"
    )
    (root / "j.jsonl").write_bytes(
        b'{"text": "Metformin lowers hepatic glucose output in patients."}\n'
        b'{"text": "truncated reco\n'
        b'{"body": "missing field"}\n'
        b'{"text": ""}\n'
    )
    cfg = CorpusConfig.model_validate(
        {
            "sources": [{"name": "t", "path": "t.txt"}, {"name": "j", "path": "j.jsonl", "format": "jsonl"}],
            "quality": {"min_chars": 10, "max_chars": 1_000_000},
        }
    )
    tok = AutoTokenizer.from_pretrained(splade_dir)
    res = run_ingest(cfg, root, tmp_path / "o", tok, 32, 0.0, progress=False)
    d = res.stats["documents"]
    assert d["dropped"] == {
        "empty": 1,
        "invalid_json": 1,
        "invalid_utf8": 1,
        "missing_field": 2,
        "nul_bytes": 1,
        "too_long": 1,
    }
    assert d["kept"] == 3 and d["read"] == d["kept"] + sum(d["dropped"].values())
    rejects = (tmp_path / "o" / "rejects.jsonl").read_text().splitlines()
    assert len(rejects) == sum(d["dropped"].values())
    card = (tmp_path / "o" / "data_card.md").read_text()
    assert "| too_long | 1 |" in card and "| missing_field | 2 |" in card


def test_missing_source_fails_before_any_output(tmp_path, splade_dir):
    import pytest

    from dapt.ingest.readers import ReaderError

    root = tmp_path / "data"
    root.mkdir()
    (root / "ok.txt").write_text("A fine line of text for the corpus.\n")
    cfg = CorpusConfig(sources=[CorpusSource(name="a", path="ok.txt"), CorpusSource(name="b", path="gone.txt")])
    with pytest.raises(ReaderError, match=r"gone\.txt"):
        run_ingest(cfg, root, tmp_path / "o", AutoTokenizer.from_pretrained(splade_dir), 32, 0.0, progress=False)
    assert not (tmp_path / "o").exists()


def test_task_source_reads_train_text_only(tmp_path, splade_dir):
    from dapt.recipe import TaskConfig

    root = tmp_path / "data"
    (root / "t").mkdir(parents=True)
    for split, text in [
        ("train", "Train text about receptor binding assays."),
        ("dev", "Dev text never used."),
        ("test", "Test text never used either."),
    ]:
        (root / "t" / f"{split}.jsonl").write_text(json.dumps({"text": text, "label": "a"}) + "\n")
    task = TaskConfig(name="toy", format="jsonl", train="t/train.jsonl", dev="t/dev.jsonl", test="t/test.jsonl")
    cfg = CorpusConfig(sources=[CorpusSource(name="tapt", path="toy", format="task")])
    tok = AutoTokenizer.from_pretrained(splade_dir)
    res = run_ingest(cfg, root, tmp_path / "o", tok, 32, 0.0, progress=False, tasks=[task])
    ids, real = load_blocks(res.dataset_dir, "train")
    text = tok.decode(unpack_stream(zip(ids, real, strict=True)))
    assert "receptor binding" in text and "never used" not in text
    assert res.stats["sources"]["tapt"]["kept"] == 1
