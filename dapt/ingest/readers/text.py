"""Plain text: one document per line, or per blank-line-separated paragraph."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dapt.ingest.readers.raw_lines import decode_line, decoded_lines, excerpt, open_binary, read_raw_lines
from dapt.ingest.readers.records import Document, Rejected


def read_lines(path: Path, source: str, rel: str, max_bytes: int) -> Iterator[Document | Rejected]:
    """One document per non-blank line (sentence-per-line and abstract-per-line files)."""
    for item in decoded_lines(path, source, rel, max_bytes):
        if isinstance(item, Rejected):
            yield item
        elif item[1].strip():
            yield Document(source, *item)


def read_paragraphs(path: Path, source: str, rel: str, max_bytes: int) -> Iterator[Document | Rejected]:
    """One document per run of non-blank lines; the newlines inside a paragraph are kept (the repeated-line filter
    looks at them). A bad line rejects its whole paragraph: half a document is not a document."""
    with open_binary(path) as f:
        lines: list[str] = []
        size, start, bad = 0, 0, None
        for n, raw in read_raw_lines(f, max_bytes):
            if raw is not None and not raw.strip():
                if lines or bad:
                    yield _paragraph(source, f"{rel}:{start}", lines, bad)
                lines, size, start, bad = [], 0, 0, None
                continue
            start = start or n
            if bad:
                continue
            if raw is None:
                bad = ("too_long", f"line {n} longer than {max_bytes:,} bytes", "")
                continue
            text, why = decode_line(raw)
            size += len(raw) + 1
            if text is None:
                bad = (why, f"line {n}", excerpt(raw))
            elif size > max_bytes:
                bad = ("too_long", f"paragraph longer than {max_bytes:,} bytes", "")
            else:
                lines.append(text)
        if lines or bad:
            yield _paragraph(source, f"{rel}:{start}", lines, bad)


def _paragraph(source: str, doc_id: str, lines: list[str], bad) -> Document | Rejected:
    if bad:
        return Rejected(source, doc_id, bad[0], bad[1], bad[2])
    return Document(source, doc_id, "\n".join(lines))
