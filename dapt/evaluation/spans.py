"""Entity spans from BIO / BIOES tag sequences, and strict span-level precision, recall and F1.

Strict (seqeval's ``mode="strict"``): a span counts only if its type and both boundaries match exactly, and only
well-formed spans exist: an ``I-X`` that does not continue a ``B-X``/``I-X`` (BIO), or a BIOES sequence that does
not close with ``E-X``, starts no entity. The result is micro-averaged over all spans of all sentences.
"""

from __future__ import annotations

from collections.abc import Sequence

Span = tuple[str, int, int]  # (type, start token, end token exclusive)


def _split(tag: str) -> tuple[str, str]:
    if tag == "O" or not tag:
        return "O", ""
    prefix, sep, kind = tag.partition("-")
    if not sep or prefix not in {"B", "I", "E", "S"}:
        raise ValueError(f"malformed tag {tag!r}: expected O or B-/I-/E-/S-<TYPE>")
    return prefix, kind


def spans_bio(tags: Sequence[str]) -> set[Span]:
    spans, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, k = _split(tag) if i < len(tags) else ("O", "")
        if start is not None and not (prefix == "I" and k == kind):
            spans.add((kind, start, i))
            start, kind = None, None
        if prefix == "B":
            start, kind = i, k
    return spans


def spans_bioes(tags: Sequence[str]) -> set[Span]:
    spans, start, kind = set(), None, None
    for i, tag in enumerate(tags):
        prefix, k = _split(tag)
        if prefix == "S":
            spans.add((k, i, i + 1))
            start = None
        elif prefix == "B":
            start, kind = i, k
        elif prefix == "I":
            if start is None or k != kind:
                start = None
        elif prefix == "E":
            if start is not None and k == kind:
                spans.add((k, start, i + 1))
            start = None
        else:
            start = None
    return spans


def extract_spans(tags: Sequence[str], scheme: str = "BIO") -> set[Span]:
    if scheme == "BIO":
        return spans_bio(tags)
    if scheme == "BIOES":
        return spans_bioes(tags)
    raise ValueError(f"unknown tag scheme {scheme!r}; known: BIO, BIOES")


def span_prf(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]], scheme: str = "BIO"
) -> dict[str, float]:
    """Micro precision, recall and F1 over entity spans (0 where undefined, as seqeval)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predicted sentences but {len(references)} references")
    tp = n_pred = n_gold = 0
    for p, g in zip(predictions, references, strict=True):
        if len(p) != len(g):
            raise ValueError(f"a predicted sentence has {len(p)} tags but its reference {len(g)}")
        ps, gs = extract_spans(p, scheme), extract_spans(g, scheme)
        tp += len(ps & gs)
        n_pred += len(ps)
        n_gold += len(gs)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def span_f1(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]], scheme: str = "BIO") -> float:
    return span_prf(predictions, references, scheme)["f1"]
