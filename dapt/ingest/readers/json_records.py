"""JSON lines (streamed) and JSON files (an array of records, or an object of records keyed by id)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from dapt.ingest.readers.fields import record_text
from dapt.ingest.readers.raw_lines import decoded_lines, excerpt, open_binary
from dapt.ingest.readers.records import Document, ReaderError, Rejected


def read_jsonl(
    path: Path, source: str, rel: str, max_bytes: int, fields: list, id_field: str | None = None
) -> Iterator[Document | Rejected]:
    """One JSON object per line. Truncated or malformed lines, missing fields and non-text values are rejected with
    their line number; the rest of the file is still read."""
    for item in decoded_lines(path, source, rel, max_bytes):
        if isinstance(item, Rejected):
            yield item
            continue
        doc_id, line = item
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield Rejected(source, doc_id, "invalid_json", e.msg, excerpt(line))
            continue
        yield _from_record(obj, source, doc_id, fields, id_field, line)


def read_json(
    path: Path, source: str, rel: str, max_bytes: int, fields: list, id_field: str | None = None
) -> Iterator[Document | Rejected]:
    """A whole JSON document: a list of records, or a mapping from id to record (PubMedQA's ``ori_pqal.json``).

    A JSON file has no record boundaries to stream on, so it is parsed whole: keep single JSON files to a size
    that fits in memory, and use JSON lines for large corpora.
    """
    with open_binary(path) as f:
        try:
            data = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ReaderError(f"{path}: not valid JSON ({e})") from e
    if isinstance(data, dict):
        items = ((str(k), v) for k, v in data.items())
    elif isinstance(data, list):
        items = ((str(i), v) for i, v in enumerate(data))
    else:
        raise ReaderError(f"{path}: expected a JSON array or object of records, got {type(data).__name__}")
    for key, obj in items:
        doc = _from_record(obj, source, f"{rel}:{key}", fields, id_field, "")
        if isinstance(doc, Document) and len(doc.text.encode()) > max_bytes:
            yield Rejected(source, doc.doc_id, "too_long", f"record longer than {max_bytes:,} bytes")
        else:
            yield doc


def _from_record(obj, source: str, doc_id: str, fields: list, id_field: str | None, line: str) -> Document | Rejected:
    if not isinstance(obj, dict):
        return Rejected(source, doc_id, "missing_field", f"record is a {type(obj).__name__}, not an object", line[:160])
    text, why = record_text(obj, fields)
    if text is None:
        return Rejected(source, doc_id, "missing_field", why, line[:160])
    if id_field is not None and obj.get(id_field) is not None:
        doc_id = f"{doc_id.rsplit(':', 1)[0]}:{obj[id_field]}"
    return Document(source, doc_id, text)
