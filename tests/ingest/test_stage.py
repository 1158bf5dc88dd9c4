import json

import datasets
from transformers import AutoTokenizer

from dapt.ingest import run_ingest
from dapt.ingest.pack import unpack_stream
from dapt.recipe import CorpusConfig, CorpusSource


def test_ingest_counts_every_drop_and_keeps_every_token(tmp_path, splade_dir):
    root = tmp_path / "data"
    (root / "corp").mkdir(parents=True)
    (root / "corp" / "a.txt").write_text(
        "Cells were stained with an antibody against nucleolin.\n"
        "short\n"
        "CELLS were   stained with an antibody against nucleolin.\n"  # duplicate after normalisation
        "The protein kinase phosphorylates its substrate in vitro.\n"
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
        "read": 4,
        "kept": 2,
        "dropped": {"too_short": 1, "duplicate": 1},
    }
    assert s["sources"]["json"] == {"files": 1, "read": 2, "kept": 1, "dropped": {"malformed": 1}}
    assert s["documents"] == {
        "read": 6,
        "kept": 3,
        "dropped": {"too_short": 1, "duplicate": 1, "malformed": 1},
    }
    assert json.loads((tmp_path / "out" / "stats.json").read_text()) == s
    card = (tmp_path / "out" / "data_card.md").read_text()
    assert "| txt |" in card and "'duplicate': 1" in card and "read 6, kept 3" in card

    dd = datasets.load_from_disk(str(res.dataset_dir))
    rows = dd["train"]
    stream = unpack_stream(zip((list(r) for r in rows["input_ids"]), rows["n_real"], strict=True))
    kept = [
        "Cells were stained with an antibody against nucleolin.",
        "The protein kinase phosphorylates its substrate in vitro.",
        "Gefitinib inhibits the epidermal growth factor receptor.",
    ]
    expected = [t for text in kept for t in [*tok(text, add_special_tokens=False)["input_ids"], tok.sep_token_id]]
    assert stream == expected
    assert s["content_tokens"] == len(expected) - 3


def test_heldout_split_is_disjoint_and_deterministic(tmp_path, splade_dir):
    root = tmp_path / "data"
    root.mkdir()
    (root / "c.txt").write_text("".join(f"Sentence number {i} about protein {i * 7} binding.\n" for i in range(200)))
    cfg = CorpusConfig(sources=[CorpusSource(name="c", path="c.txt")])
    tok = AutoTokenizer.from_pretrained(splade_dir)
    a = run_ingest(cfg, root, tmp_path / "a", tok, 32, 0.1, seed=3, progress=False)
    b = run_ingest(cfg, root, tmp_path / "b", tok, 32, 0.1, seed=3, progress=False)
    da, db = datasets.load_from_disk(str(a.dataset_dir)), datasets.load_from_disk(str(b.dataset_dir))
    assert da["heldout"]["input_ids"] == db["heldout"]["input_ids"]
    assert a.stats["blocks"]["heldout"] + a.stats["blocks"]["train"] == a.stats["blocks"]["total"]
    assert a.stats["blocks"]["heldout"] >= 1
