"""What every reader yields: a :class:`Document` or a :class:`Rejected` record, never an exception mid-stream."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Document:
    source: str
    """The recipe's name for the source: kept through the pipeline so counts can be reported per source."""
    doc_id: str
    """``<file>:<line>``, ``<file>:<PMID>``, ``<file>:<row>``...: enough to find the original text again."""
    text: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be read as text; the stage counts it by ``reason`` and writes it to the rejects file.

    ``reason`` is a short code (``invalid_utf8``, ``nul_bytes``, ``invalid_json``, ``missing_field``,
    ``too_long``, ``malformed_xml``, ``malformed_row``); ``detail`` says what exactly was wrong.
    """

    source: str
    doc_id: str
    reason: str
    detail: str = ""
    excerpt: str = ""


class ReaderError(ValueError):
    """A source cannot be read at all (missing file, wrong format): raised before any work starts, path named."""
