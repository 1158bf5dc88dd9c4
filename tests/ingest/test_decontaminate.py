"""Decontamination on constructed cases, and the independent check on the real corpus: after ingestion, no 13-gram
of any chemprot / nicta_piboso dev or test text occurs in the packed corpus (decoded and checked with plain Python
sets, not with the hashing code under test)."""

import json
import re

import pytest
from transformers import AutoTokenizer

from dapt.ingest import run_ingest
from dapt.ingest.shards import load_blocks
from dapt.recipe import CorpusConfig, CorpusSource, DecontaminationConfig, TaskConfig, load_recipe

TEST_SENT = (
    "Gefitinib is a selective inhibitor of the epidermal growth factor receptor tyrosine kinase that "
    "blocks signal transduction in tumour cells."
)


def _task_root(tmp_path):
    root = tmp_path / "data"
    (root / "t").mkdir(parents=True)
    for split, text in [
        ("train", "A train sentence that may appear in the corpus freely, as TAPT text does."),
        ("dev", "Metformin lowers hepatic glucose output."),
        ("test", TEST_SENT),
    ]:
        (root / "t" / f"{split}.jsonl").write_text(json.dumps({"text": text, "label": "x"}) + "\n")
    words = TEST_SENT.split()
    corpus = [
        # 13 consecutive test words, with other case and PTB spacing: contaminated
        "Background . " + " ".join(w.upper() for w in words[2:15]) + " , as shown before .",
        # only 12 consecutive test words: clean at n = 13
        "We note that " + " ".join(words[5:17]) + " here and nowhere else in this abstract.",
        "A train sentence that may appear in the corpus freely, as TAPT text does.",  # train text is allowed
        "Unrelated text about the migration of birds across the northern sea in spring.",
    ]
    (root / "corpus.txt").write_text("\n".join(corpus) + "\n")
    task = TaskConfig(name="toy", format="jsonl", train="t/train.jsonl", dev="t/dev.jsonl", test="t/test.jsonl")
    return root, task


@pytest.mark.parametrize("mode", ["drop", "flag", "off"])
def test_modes(tmp_path, splade_dir, mode):
    root, task = _task_root(tmp_path)
    cfg = CorpusConfig(
        sources=[CorpusSource(name="c", path="corpus.txt")], decontaminate=DecontaminationConfig(mode=mode)
    )
    tok = AutoTokenizer.from_pretrained(splade_dir)
    res = run_ingest(cfg, root, tmp_path / "o", tok, 32, 0.0, progress=False, tasks=[task])
    dc = res.stats["decontamination"]
    flagged = [json.loads(x) for x in (tmp_path / "o" / "contaminated.jsonl").read_text().splitlines()]
    if mode == "off":
        assert dc["task_ngrams"] == {} and res.stats["documents"]["kept"] == 4 and not flagged
        return
    assert dc["documents_per_task"] == {"toy": 1}
    if mode == "drop":
        assert res.stats["documents"]["dropped"] == {"contaminated": 1} and res.stats["documents"]["kept"] == 3
        rejects = [json.loads(x) for x in (tmp_path / "o" / "rejects.jsonl").read_text().splitlines()]
        assert rejects[0]["reason"] == "contaminated" and rejects[0]["doc_id"] == "corpus.txt:1"
    else:
        assert res.stats["documents"]["kept"] == 4 and dc["flagged"] == 1
        assert flagged[0]["doc_id"] == "corpus.txt:1" and flagged[0]["tasks"] == ["toy"]


def _ngrams(text: str, n: int = 13) -> set[tuple[str, ...]]:
    ws = re.findall(r"\w+", text.lower())
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def test_no_task_13gram_survives_in_the_packed_biomed_corpus(tmp_path, data_root, splade_dir):
    from dapt.ingest.decontaminate import task_texts

    recipe = load_recipe("dapt-biomed-tiny")
    tok = AutoTokenizer.from_pretrained(splade_dir)
    res = run_ingest(recipe.corpus, data_root, tmp_path / "o", tok, 128, 0.01, progress=False, tasks=recipe.tasks)

    # Task side: the texts after a round trip through the same tokenizer (uncased WordPiece lowercases, strips
    # accents and maps unknown characters), so both sides are compared in the same form.
    task_grams: set[tuple[str, ...]] = set()
    for t in recipe.tasks:
        texts = task_texts(t, "dev", data_root) + task_texts(t, "test", data_root)
        enc = tok(texts, add_special_tokens=False)["input_ids"]
        for ids in enc:
            task_grams |= _ngrams(tok.decode(ids))
    assert len(task_grams) > 50_000

    hits, checked = [], 0
    for split in ("train", "heldout"):
        ids, real = load_blocks(res.dataset_dir, split)
        stream = [int(x) for row, n in zip(ids, real, strict=True) for x in row[1 : n - 1]]
        doc, docs = [], []
        for t in stream:
            if t == tok.sep_token_id:
                docs.append(doc)
                doc = []
            else:
                doc.append(t)
        for text in tok.batch_decode(docs):
            grams = _ngrams(text)
            checked += len(grams)
            if grams & task_grams:
                hits.append(text[:200])
    assert checked > 2_000_000  # every 13-gram of ~149k kept documents
    assert hits == []

    # The check has teeth: the document decontamination dropped does contain a task 13-gram.
    dropped = [json.loads(x) for x in (tmp_path / "o" / "rejects.jsonl").read_text().splitlines()]
    dropped = [r for r in dropped if r["reason"] == "contaminated"]
    assert res.stats["documents"]["dropped"].get("contaminated", 0) == len(dropped) >= 1
    src_file, line = dropped[0]["doc_id"].rsplit(":", 1)
    raw = (data_root / src_file).read_text().splitlines()[int(line) - 1]
    assert _ngrams(tok.decode(tok(raw, add_special_tokens=False)["input_ids"])) & task_grams


def test_a_short_dev_sentence_inside_a_longer_abstract_is_dropped(tmp_path, splade_dir):
    """A 9-word dev sentence (fewer than the 13 n-gram words) is caught as a word run inside a corpus document,
    written with a decomposed accent where the task has the composed one (both sides are NFC-normalised); a
    5-word one is not (below ``min_words``), and 8 of its 9 words are not enough."""
    import unicodedata

    root = tmp_path / "data"
    (root / "t").mkdir(parents=True)
    short = "Café staff reported fewer migraines after the intervention."  # 9 words
    for split, text in [("train", "Train text."), ("dev", short), ("test", "Aspirin helps some patients.")]:
        (root / "t" / f"{split}.jsonl").write_text(json.dumps({"text": text, "label": "x"}) + "\n")
    decomposed = unicodedata.normalize("NFD", short)
    corpus = [
        f"In a cohort of nurses, we measured headache days. {decomposed} No other outcome changed at all.",
        "In a second cohort, staff reported fewer migraines after the intervention, we saw it again here.",
        "Aspirin helps some patients, and this abstract says so in a long sentence about aspirin use.",
    ]
    (root / "corpus.txt").write_text("\n".join(corpus) + "\n")
    task = TaskConfig(name="toy", format="jsonl", train="t/train.jsonl", dev="t/dev.jsonl", test="t/test.jsonl")
    cfg = CorpusConfig(sources=[CorpusSource(name="c", path="corpus.txt")])
    tok = AutoTokenizer.from_pretrained(splade_dir)
    res = run_ingest(cfg, root, tmp_path / "o", tok, 32, 0.0, progress=False, tasks=[task])
    assert res.stats["documents"]["dropped"] == {"contaminated": 1} and res.stats["documents"]["kept"] == 2
    rejects = [json.loads(x) for x in (tmp_path / "o" / "rejects.jsonl").read_text().splitlines()]
    assert [(r["doc_id"], r["reason"]) for r in rejects] == [("corpus.txt:1", "contaminated")]
    assert rejects[0]["excerpt"].startswith("In a cohort of nurses")
    assert res.stats["decontamination"]["task_short_texts"] == {"toy": 1}
