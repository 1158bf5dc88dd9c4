"""Streaming readers: each yields :class:`Document` one at a time, so memory stays flat whatever the corpus size."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True, slots=True)
class Document:
    source: str
    """The recipe's name for the source: kept through the pipeline so counts can be reported per source."""
    doc_id: str
    """``<file>:<line>``: enough to find the original text again."""
    text: str


class MalformedRecord(ValueError):
    """A record that cannot be parsed; readers yield these instead of raising so the caller can count them."""

    def __init__(self, doc_id: str, reason: str):
        super().__init__(f"{doc_id}: {reason}")
        self.doc_id = doc_id
        self.reason = reason


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    # errors="replace": an undecodable byte becomes U+FFFD (and is counted by the filters) rather than killing the run.
    return open(path, encoding="utf-8", errors="replace")


def read_text_lines(path: Path, source: str, rel: str | None = None) -> Iterator[Document]:
    """One document per non-blank line (sentence-per-line and abstract-per-line files)."""
    rel = rel or path.name
    with _open_text(path) as f:
        for i, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if line.strip():
                yield Document(source, f"{rel}:{i}", line)


def read_jsonl(
    path: Path, source: str, text_field: str = "text", rel: str | None = None
) -> Iterator[Document | MalformedRecord]:
    """One JSON object per line; the document is ``obj[text_field]``. Bad lines come back as MalformedRecord."""
    rel = rel or path.name
    with _open_text(path) as f:
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            doc_id = f"{rel}:{i}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield MalformedRecord(doc_id, f"invalid JSON ({e.msg})")
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get(text_field), str):
                yield MalformedRecord(doc_id, f"no string field {text_field!r}")
                continue
            yield Document(source, doc_id, obj[text_field])
