"""Strict entity-span precision, recall and F1 over BIO / BIOES tag sequences, computed by seqeval.

Strict (seqeval's ``mode="strict"``): a span counts only if its type and both boundaries match exactly, and only
well-formed spans exist: an ``I-X`` that does not continue a ``B-X``/``I-X`` (BIO), or a BIOES sequence that does
not close with ``E-X``, starts no entity. The result is micro-averaged over all spans of all sentences.
"""

from __future__ import annotations

from collections.abc import Sequence

from seqeval.scheme import IOB2, IOBES, Entities

Span = tuple[str, int, int]  # (type, start token, end token exclusive)
SCHEMES = {"BIO": IOB2, "BIOES": IOBES}


def _scheme(name: str):
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown tag scheme {name!r}; known: BIO, BIOES") from None


def _check_tags(sentences: Sequence[Sequence[str]]) -> None:
    # seqeval reads any string as a tag (``"X"`` becomes a prefix-less tag); a malformed tag is a data error here.
    for tags in sentences:
        for tag in tags:
            if tag != "O" and (len(tag) < 3 or tag[1] != "-" or tag[0] not in "BIES"):
                raise ValueError(f"malformed tag {tag!r}: expected O or B-/I-/E-/S-<TYPE>")


def sentence_spans(sentences: Sequence[Sequence[str]], scheme: str = "BIO") -> list[set[Span]]:
    """The well-formed spans of each sentence, as seqeval's strict mode extracts them."""
    _check_tags(sentences)
    ents = Entities([list(s) for s in sentences], _scheme(scheme), suffix=False).entities
    return [{(e.tag, e.start, e.end) for e in sent} for sent in ents]


def extract_spans(tags: Sequence[str], scheme: str = "BIO") -> set[Span]:
    return sentence_spans([tags], scheme)[0]


def span_counts(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]], scheme: str = "BIO"
) -> list[tuple[int, int, int]]:
    """Per sentence ``(true positives, predicted spans, gold spans)``: micro P/R/F1 over any subset (a bootstrap
    resample) is a sum of these, so the spans are extracted once."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predicted sentences but {len(references)} references")
    for p, g in zip(predictions, references, strict=True):
        if len(p) != len(g):
            raise ValueError(f"a predicted sentence has {len(p)} tags but its reference {len(g)}")
    pred, gold = sentence_spans(predictions, scheme), sentence_spans(references, scheme)
    return [(len(ps & gs), len(ps), len(gs)) for ps, gs in zip(pred, gold, strict=True)]


def prf_from_counts(tp: float, n_pred: float, n_gold: float) -> dict[str, float]:
    """Micro precision, recall and F1 from span counts (0 where undefined, as seqeval)."""
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def span_prf(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]], scheme: str = "BIO"
) -> dict[str, float]:
    """Micro precision, recall and F1 over entity spans."""
    counts = span_counts(predictions, references, scheme)
    return prf_from_counts(*(sum(c[i] for c in counts) for i in range(3)))


def span_f1(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]], scheme: str = "BIO") -> float:
    return span_prf(predictions, references, scheme)["f1"]
