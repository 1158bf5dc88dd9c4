"""Exact and near-duplicate detection on constructed cases; the hash index against a Python set."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dapt.ingest.hash_index import HashIndex
from dapt.ingest.minhash import NearDupIndex, lsh_params, permutations, signatures
from dapt.ingest.word_ids import Vocabulary, ngram_hashes, splitmix64, words

BASE = (
    "The epidermal growth factor receptor is a transmembrane protein that is activated by binding of its "
    "specific ligands, including epidermal growth factor and transforming growth factor alpha, and then "
    "forms dimers that stimulate tyrosine kinase activity in the cell. Mutations that lead to its overexpression "
    "or constant activation have been associated with a number of cancers, including adenocarcinoma of the lung, "
    "anal cancers, glioblastoma and epithelian tumors of the head and neck, which made it a target of drugs."
)


def batch_hashes(texts, n, vocab=None):
    vocab = vocab or Vocabulary()
    ids = [vocab.encode(words(t)) for t in texts]
    lengths = np.array([len(x) for x in ids])
    flat = np.array([w for x in ids for w in x], dtype=np.uint64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return ngram_hashes(vocab.hashes(flat), starts, n)


def test_ngram_hashes_stay_inside_documents():
    vocab = Vocabulary()
    h, d = batch_hashes(["a b c d", "e f", "", "g h i"], 3, vocab)
    assert d.tolist() == [0, 0, 1, 3]  # 2 trigrams, 1 whole-doc hash for the short doc, none for the empty one
    h2, _ = batch_hashes(["x a b c d"], 3, vocab)
    assert set(h[:2].tolist()) < set(h2.tolist())  # the same trigrams hash the same in another batch
    hr, _ = batch_hashes(["c b a"], 3, vocab)
    assert hr[0] not in h  # order matters


def test_lsh_params_give_a_sharp_threshold():
    b, r = lsh_params(0.8, 128)
    assert b * r <= 128
    p = lambda s: 1 - (1 - s**r) ** b  # noqa: E731
    assert p(0.9) > 0.9 and p(0.95) > 0.99 and p(0.5) < 0.01 and p(0.65) < 0.1


def test_minhash_estimates_jaccard():
    rng = np.random.default_rng(0)
    a_set = rng.choice(2**40, size=400, replace=False).astype(np.uint64)
    b_set = np.concatenate([a_set[:300], rng.choice(2**40, size=100).astype(np.uint64)])  # J = 300/500 = 0.6
    a, b = permutations(256, 0)
    hs = np.concatenate([splitmix64(a_set), splitmix64(b_set)])
    doc = np.repeat([0, 1], [400, 400])
    sig, has = signatures(hs, doc, 2, a, b)
    est = float((sig[0] == sig[1]).mean())
    assert has.all() and abs(est - 0.6) < 0.08


def run_near(texts, threshold=0.8, batch=None):
    idx = NearDupIndex(threshold, 128, seed=0)
    batch = batch or len(texts)
    out = []
    vocab = Vocabulary()
    for i in range(0, len(texts), batch):
        chunk = texts[i : i + batch]
        h, d = batch_hashes(chunk, 5, vocab)
        out += idx.check_batch(h, d, len(chunk)).tolist()
    return out


def test_near_duplicates_are_dropped_first_kept():
    # ~90 words: one word changed alters 5 of ~86 5-word shingles (Jaccard ~0.89, above the 0.8 threshold)
    one_word_changed = BASE.replace("transmembrane", "membrane")
    unrelated = "Patients were randomised to receive placebo or metformin for twelve weeks in a double blind trial."
    half = " ".join(BASE.split()[:45]) + " " + unrelated * 4  # shares half its shingles at most: Jaccard < 0.5
    dup = run_near([BASE, one_word_changed, unrelated, half, BASE.upper()])
    assert dup == [False, True, False, False, True]
    # The same answers when the documents arrive in separate batches (the index carries over).
    assert run_near([BASE, one_word_changed, unrelated, half, BASE.upper()], batch=1) == dup


def test_near_dedup_is_deterministic():
    rng = np.random.default_rng(1)
    vocab = BASE.split()
    texts = [" ".join(rng.choice(vocab, size=30)) for _ in range(300)]
    texts += [t + " extra" for t in texts[:50]]
    assert run_near(texts) == run_near(texts)
    assert sum(run_near(texts)[300:]) >= 45  # appending one word to 30 keeps Jaccard ~0.96


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=50), max_size=20))
def test_hash_index_matches_a_set(batches):
    idx, ref = HashIndex(), set()
    for keys in batches:
        arr = np.array(keys, dtype=np.uint64)
        assert idx.contains(arr).tolist() == [k in ref for k in keys]
        idx.add(arr)
        ref.update(keys)
    idx.flush()
    probe = np.array([*sorted(ref)[:10], 12345], dtype=np.uint64)
    assert idx.contains(probe).tolist() == [int(k) in ref for k in probe]
