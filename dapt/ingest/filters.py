"""Quality filters: each returns the drop reason for a document, or ``None`` to keep it."""

from __future__ import annotations

import re
import string

from dapt.recipe import QualityConfig

_LETTERS = re.compile(r"[^\W\d_]+")  # \w minus digits and underscore: letters of any script
_ASCII_LETTERS = string.ascii_letters.encode()


def alpha_ratio(text: str) -> float:
    """Share of letters among non-whitespace characters."""
    nonspace = len(text) - text.count(" ") - text.count("\n")
    if nonspace == 0:
        return 0.0
    if text.isascii():  # bytes.translate deletes in one C pass, ~10x faster than the regex
        letters = len(text) - len(text.encode().translate(None, _ASCII_LETTERS))
    else:
        letters = len(text) - len(_LETTERS.sub("", text))
    return letters / nonspace


def duplicate_line_fraction(text: str) -> float:
    """Share of a multi-line document's lines that repeat an earlier line of it (Gopher-style boilerplate check)."""
    lines = text.split("\n")
    if len(lines) < 2:
        return 0.0
    return 1.0 - len(set(lines)) / len(lines)


def quality_reason(text: str, q: QualityConfig) -> str | None:
    if not text:
        return "empty"
    if len(text) < q.min_chars:
        return "too_short"
    if len(text) > q.max_chars:
        return "too_long"
    if q.min_alpha_ratio > 0 and alpha_ratio(text) < q.min_alpha_ratio:
        return "low_alpha"
    if q.max_duplicate_line_fraction < 1 and duplicate_line_fraction(text) > q.max_duplicate_line_fraction:
        return "repeated_lines"
    return None
