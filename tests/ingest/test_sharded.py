"""Sharded ingest: the output does not depend on the number of workers or shards, and the bucket reduce's
near-dedup equals the single-process rule (first kept document wins) run in order over the same documents."""

import gzip
import json
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from transformers import AutoTokenizer

from dapt.ingest import run_ingest
from dapt.ingest.dedup_reduce import reduce_near, resolve_near, write_buckets
from dapt.ingest.input_shards import order_of, plan_input_shards
from dapt.ingest.minhash import NearDupIndex, band_keys, lsh_params, permutations, signatures
from dapt.ingest.word_ids import Vocabulary, ngram_hashes, words
from dapt.recipe import CorpusConfig, CorpusSource, TaskConfig

WORDS = [
    "protein",
    "kinase",
    "receptor",
    "binding",
    "cells",
    "tumour",
    "expression",
    "gene",
    "mutation",
    "patients",
    "trial",
    "dose",
    "response",
    "inhibitor",
    "pathway",
    "signalling",
    "apoptosis",
    "membrane",
    "antibody",
    "assay",
    "cohort",
    "risk",
    "outcome",
    "therapy",
    "sequence",
    "variant",
]


def _corpus(root, n_files=6, docs_per_file=120, seed=0):
    """Files of random sentences with exact duplicates and near duplicates (one word changed) across files."""
    rng = random.Random(seed)
    made: list[str] = []
    (root / "corp").mkdir(parents=True)
    for f in range(n_files):
        lines = []
        for _ in range(docs_per_file):
            r = rng.random()
            if made and r < 0.1:
                lines.append(rng.choice(made))  # exact duplicate of an earlier document
            elif made and r < 0.25:
                ws = rng.choice(made).split()
                ws[rng.randrange(len(ws))] = rng.choice(WORDS)  # near duplicate
                lines.append(" ".join(ws))
            else:
                lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 60))) + ".")
            made.append(lines[-1])
        (root / "corp" / f"part-{f}.txt").write_text("\n".join(lines) + "\n")
    return CorpusConfig(sources=[CorpusSource(name="c", path="corp", glob="*.txt")], min_chars=20)


def _outputs(out):
    stats = json.loads((out / "stats.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    with gzip.open(out / "documents.jsonl.gz", "rt") as f:
        docs = f.read()
    rejects = sorted((out / "rejects.jsonl").read_text().splitlines())
    return {
        "documents": stats["documents"],
        "sources": stats["sources"],
        "tokens": stats["content_tokens"],
        "blocks": stats["blocks"],
        "shards": [(s["file"], s["rows"], s["sha256"]) for s in manifest["shards"]],
        "docs": docs,
        "heldout": (out / "heldout_ids.json").read_text(),
        "top_words": (out / "top_words.json").read_text(),
        "rejects": rejects,
        "contamination": stats["decontamination"]["documents_per_task"],
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("sharded") / "data"
    cfg = _corpus(root)
    task_dir = root / "task"
    task_dir.mkdir()
    # A dev sentence taken from the corpus: decontamination must drop it whatever the sharding.
    dev = (root / "corp" / "part-3.txt").read_text().splitlines()[7]
    for split, text in (("train", "unrelated words here"), ("dev", dev), ("test", "another unrelated text")):
        (task_dir / f"{split}.jsonl").write_text(json.dumps({"text": text, "label": "a"}) + "\n")
    task = TaskConfig(name="t", format="jsonl", train="task/train.jsonl", dev="task/dev.jsonl", test="task/test.jsonl")
    return root, cfg, task


def test_one_and_two_workers_give_identical_output(corpus, tmp_path, splade_dir):
    root, cfg, task = corpus
    tok = AutoTokenizer.from_pretrained(splade_dir)
    common = dict(block_size=32, heldout_fraction=0.05, seed=1, progress=False, tasks=[task])
    one = run_ingest(cfg, root, tmp_path / "one", tok, workers=1, **common)
    two = run_ingest(cfg, root, tmp_path / "two", tok, workers=2, **common)
    assert two.stats["input_shards"] >= 2 and one.stats["input_shards"] == 1
    dropped = one.stats["documents"]["dropped"]
    assert dropped["duplicate"] > 30 and dropped["near_duplicate"] > 30 and dropped["contaminated"] >= 1
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "two")
    assert not (tmp_path / "two" / "work").exists()  # the intermediate files are removed


def test_any_engine_submit_gives_the_same_output(corpus, tmp_path, splade_dir):
    """An engine is anything with ``submit(fn, *args)`` -> future: here a thread pool, with 6 one-file shards."""
    root, cfg, task = corpus
    tok = AutoTokenizer.from_pretrained(splade_dir)
    common = dict(block_size=32, heldout_fraction=0.05, seed=1, progress=False, tasks=[task])
    run_ingest(cfg, root, tmp_path / "one", tok, workers=1, **common)
    with ThreadPoolExecutor(3) as pool:
        res = run_ingest(cfg, root, tmp_path / "pool", tok, workers=8, submit=pool.submit, **common)
    assert res.stats["input_shards"] == 6 and res.stats["dedup_buckets"] == 8
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "pool")


def test_input_shards_keep_reading_order(corpus):
    root, cfg, _ = corpus
    files = {"c": sorted((root / "corp").glob("*.txt"))}
    shards = plan_input_shards(cfg, files, workers=2)
    assert [f for s in shards for f in s.files] == [str(p) for p in files["c"]]
    assert [s.index for s in shards] == list(range(len(shards)))
    assert len(plan_input_shards(cfg, files, workers=1)) == 1


def test_bucket_reduce_equals_the_sequential_first_kept_rule(tmp_path):
    """Property: over random corpora with chains of near duplicates (A~B, B~C, A!~C), the reduce over shared keys
    drops exactly the documents the single-process index drops, for any bucket count."""
    rng = random.Random(3)
    bands, rows = lsh_params(0.5, 32)
    a, b = permutations(bands * rows, 0)
    for trial in range(5):
        docs = []
        for _ in range(300):
            if docs and rng.random() < 0.4:
                ws = rng.choice(docs).split()
                for _ in range(rng.randint(1, 4)):
                    ws[rng.randrange(len(ws))] = rng.choice(WORDS)
                docs.append(" ".join(ws))
            else:
                docs.append(" ".join(rng.choice(WORDS) for _ in range(20)))
        vocab = Vocabulary()
        ids = [vocab.encode(words(t)) for t in docs]
        lengths = np.array([len(x) for x in ids])
        flat = np.array([w for x in ids for w in x], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        h, d = ngram_hashes(vocab.hashes(flat), starts, 3)

        ref = NearDupIndex(0.5, 32, 0)
        expected = np.flatnonzero(ref.check_batch(h, d, len(docs)))

        sig, _ = signatures(h, d, len(docs), a, b)
        keys = band_keys(sig, bands, rows)
        buckets = 1 + trial
        shard_dirs = []
        for s, (lo, hi) in enumerate([(0, 100), (100, 300)]):  # two shards
            sd = tmp_path / f"t{trial}" / f"map-{s}"
            sd.mkdir(parents=True)
            orders = np.repeat(np.uint64(order_of(s, 0)) + np.arange(hi - lo, dtype=np.uint64), bands)
            write_buckets(sd, "near", keys[lo:hi].ravel(), orders, buckets)
            shard_dirs.append(sd)
        shared = [tmp_path / f"t{trial}" / f"shared-{k}.npy" for k in range(buckets)]
        for k, f in enumerate(shared):
            reduce_near(shard_dirs, k, f)
        resolve_near(shared, tmp_path / f"t{trial}" / "dup.npy")
        got = np.load(tmp_path / f"t{trial}" / "dup.npy")
        as_index = [int(o) if o < 1 << 32 else 100 + int(o - (1 << 32)) for o in got]
        assert len(expected) > 20
        assert as_index == expected.tolist()
