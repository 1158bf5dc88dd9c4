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
# One pass, no groups: the space before closing punctuation and after opening brackets is deleted.
_DETOK_SPACES = re.compile(r"\s+(?=[.,;:!?%)\]}])|(?<=[(\[{])\s+")
_DETOK_CONTRACTIONS = re.compile(r"\s+(?=(?:n't|'s|'re|'ve|'ll|'d|'m)\b)")
# WikiText's tokenization: "1 @,@ 000", "state @-@ of"
_DETOK_WIKITEXT = re.compile(r" @([-,.])@ ")


def normalize_text(text: str, keep_newlines: bool = False) -> str:
    """NFC, control characters removed, whitespace collapsed (to single newlines between lines with
    ``keep_newlines``: multi-line documents keep their lines for the repeated-line filter).

    NFC rather than NFKC: NFKC rewrites meaningful biomedical symbols (``µ`` -> ``μ`` is fine, but ``²`` -> ``2``
    and ``ﬁ`` ligature splits change token identity in ways a domain model should see as written).
    """
    if text.isascii() and text.isprintable():
        # Fast path (most of a biomedical corpus): ASCII is already NFC, and printable means no control
        # characters, tabs or newlines: only runs of spaces can need collapsing.
        text = text.strip(" ")
        return _SPACE.sub(" ", text) if "  " in text else text
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    if keep_newlines and "\n" in text:
        return _NEWLINES.sub("\n", _INLINE_SPACE.sub(" ", text)).strip()
    return _SPACE.sub(" ", text).strip()


def detokenize_ptb(text: str) -> str:
    """Undo the space-around-punctuation of PTB-tokenized text: ``( SA ) node , and`` -> ``(SA) node, and``."""
    text = _DETOK_SPACES.sub("", text)
    if "'" in text:
        text = _DETOK_CONTRACTIONS.sub("", text)
    if "@" in text:
        text = _DETOK_WIKITEXT.sub(r"\1", text)
    return text


def dedup_key(text: str) -> str:
    """What two documents must share to be exact duplicates: case and whitespace do not count."""
    return _SPACE.sub("", text).lower()
