"""Bounded, byte-level line reading shared by the line-oriented readers.

Lines are read as bytes with a length cap, so a 50 MB line without a newline costs one cap's worth of memory and
comes back as a ``too_long`` rejection instead of a 50 MB string. Decoding is strict per line: a line with invalid
UTF-8 is rejected with its line number instead of being silently patched with U+FFFD. A UTF-8 BOM and CRLF line
ends are accepted (common in files exported from Windows tools) and removed.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from dapt.ingest.readers.records import Rejected

_CHUNK = 1 << 20


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, gunzipped when it is gzip (by magic number, not only by suffix)."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb")


def read_raw_lines(f: IO[bytes], max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line_number, bytes)`` with the line end removed; ``bytes`` is ``None`` for a line over ``max_bytes``
    (its remainder is consumed without being kept)."""
    n = 0
    while True:
        line = f.readline(max_bytes + 1)
        if not line:
            return
        n += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            # Skip to the end of this over-long line in bounded chunks.
            while True:
                rest = f.readline(_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield n, None
            continue
        if n == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        yield n, line.rstrip(b"\r\n")


def decode_line(raw: bytes) -> tuple[str | None, str]:
    """``(text, "")`` or ``(None, reason)``: strict UTF-8; NUL bytes mark binary data, not text."""
    if b"\x00" in raw:
        return None, "nul_bytes"
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, "invalid_utf8"


def excerpt(raw: bytes | str, n: int = 160) -> str:
    """A short, printable excerpt of a rejected record for the rejects file."""
    if isinstance(raw, bytes):
        raw = raw[: n * 4].decode("utf-8", errors="replace")
    return raw[:n].replace("\x00", "\\0")


def decoded_lines(path: Path, source: str, rel: str, max_bytes: int) -> Iterator[tuple[str, str] | Rejected]:
    """``(doc_id, text)`` per line of a file, or a Rejected record for a line that is too long or not text."""
    with open_binary(path) as f:
        for n, raw in read_raw_lines(f, max_bytes):
            doc_id = f"{rel}:{n}"
            if raw is None:
                yield Rejected(source, doc_id, "too_long", f"line longer than {max_bytes:,} bytes")
                continue
            text, why = decode_line(raw)
            yield Rejected(source, doc_id, why, excerpt=excerpt(raw)) if text is None else (doc_id, text)
