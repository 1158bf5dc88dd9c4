"""Text normalisation applied to every document before filtering, dedup and tokenization."""

from __future__ import annotations

import re
import unicodedata

# C0/C1 control characters except tab/newline (which become spaces below); they break tokenizers silently.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r" ?\n[\s]*")

# PTB-style detokenization: most of biomed_unlabelled/ is tokenized ("( SA )", "cells , and").
_DETOK = [
    (re.compile(r"\s+([.,;:!?%)\]}])"), r"\1"),
    (re.compile(r"([(\[{])\s+"), r"\1"),
    (re.compile(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b"), r"\1"),
    # WikiText's tokenization: "1 @,@ 000", "state @-@ of"
    (re.compile(r" @([-,.])@ "), r"\1"),
]


def normalize_text(text: str, keep_newlines: bool = False) -> str:
    """NFC, control characters removed, whitespace collapsed (to single newlines between lines with
    ``keep_newlines``: multi-line documents keep their lines for the repeated-line filter).

    NFC rather than NFKC: NFKC rewrites meaningful biomedical symbols (``µ`` -> ``μ`` is fine, but ``²`` -> ``2``
    and ``ﬁ`` ligature splits change token identity in ways a domain model should see as written).
    """
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    if keep_newlines and "\n" in text:
        return _NEWLINES.sub("\n", _INLINE_SPACE.sub(" ", text)).strip()
    return _SPACE.sub(" ", text).strip()


def detokenize_ptb(text: str) -> str:
    """Undo the space-around-punctuation of PTB-tokenized text: ``( SA ) node , and`` -> ``(SA) node, and``."""
    for pattern, repl in _DETOK:
        text = pattern.sub(repl, text)
    return text


def dedup_key(text: str) -> str:
    """What two documents must share to be exact duplicates: case and whitespace do not count."""
    return _SPACE.sub("", text).lower()
