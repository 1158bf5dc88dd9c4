import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2, IOBES

from dapt.metrics.spans import extract_spans, span_prf

BIO_TAGS = ["O", "B-GENE", "I-GENE", "B-CHEM", "I-CHEM"]
BIOES_TAGS = ["O", "B-GENE", "I-GENE", "E-GENE", "S-GENE", "B-CHEM", "I-CHEM", "E-CHEM", "S-CHEM"]


def corpus(tags):
    lengths = st.lists(st.integers(1, 12), min_size=1, max_size=8)
    return lengths.flatmap(
        lambda ls: st.tuples(
            st.tuples(*[st.lists(st.sampled_from(tags), min_size=n, max_size=n) for n in ls]),
            st.tuples(*[st.lists(st.sampled_from(tags), min_size=n, max_size=n) for n in ls]),
        )
    )


@settings(max_examples=300, deadline=None)
@given(corpus(BIO_TAGS))
def test_bio_matches_seqeval_strict(pg):
    pred, gold = [list(s) for s in pg[0]], [list(s) for s in pg[1]]
    ours = span_prf(pred, gold, "BIO")
    kw = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    assert ours["f1"] == pytest.approx(f1_score(gold, pred, **kw))
    assert ours["precision"] == pytest.approx(precision_score(gold, pred, **kw))
    assert ours["recall"] == pytest.approx(recall_score(gold, pred, **kw))


@settings(max_examples=300, deadline=None)
@given(corpus(BIOES_TAGS))
def test_bioes_matches_seqeval_strict(pg):
    pred, gold = [list(s) for s in pg[0]], [list(s) for s in pg[1]]
    kw = {"mode": "strict", "scheme": IOBES, "zero_division": 0}
    assert span_prf(pred, gold, "BIOES")["f1"] == pytest.approx(f1_score(gold, pred, **kw))


def test_examples():
    assert extract_spans(["B-G", "I-G", "O", "I-G", "B-C"]) == {("G", 0, 2), ("C", 4, 5)}
    assert extract_spans(["B-G", "I-G", "E-G", "S-C", "I-C"], "BIOES") == {("G", 0, 3), ("C", 3, 4)}
    assert span_prf([["O", "O"]], [["B-G", "O"]])["f1"] == 0.0  # the all-O floor scores 0
    with pytest.raises(ValueError, match="malformed tag"):
        extract_spans(["X-G"])


def test_local_span_f1_module_matches_seqeval():
    import random

    from dapt.evaluation.modules import load_metric

    rng = random.Random(0)
    gold = [[rng.choice(BIO_TAGS) for _ in range(rng.randint(1, 15))] for _ in range(50)]
    pred = [[t if rng.random() < 0.7 else rng.choice(BIO_TAGS) for t in s] for s in gold]
    out = load_metric("span_f1").compute(predictions=pred, references=gold, scheme="BIO")
    assert out["span_f1"] == pytest.approx(f1_score(gold, pred, mode="strict", scheme=IOB2, zero_division=0))
