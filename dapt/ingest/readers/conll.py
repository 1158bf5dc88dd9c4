"""CoNLL / IOB token-column files: each sentence is rebuilt from its token column (labels are never read)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dapt.ingest.readers.raw_lines import decode_line, excerpt, open_binary, read_raw_lines
from dapt.ingest.readers.records import Document, Rejected


def read_conll(
    path: Path, source: str, rel: str, max_bytes: int, token_column: int = 0
) -> Iterator[Document | Rejected]:
    """One document per sentence (a blank line ends one). Columns are split on tabs when the line has any, else on
    whitespace; ``-DOCSTART-`` lines are boundaries, not text. A sentence with a bad line is rejected whole."""
    with open_binary(path) as f:
        tokens: list[str] = []
        start, size, bad = 0, 0, None
        for n, raw in read_raw_lines(f, max_bytes):
            if raw is not None and (not raw.strip() or raw.startswith(b"-DOCSTART-")):
                if tokens or bad:
                    yield _sentence(source, f"{rel}:{start}", tokens, bad)
                tokens, start, size, bad = [], 0, 0, None
                continue
            start = start or n
            if bad:
                continue
            if raw is None:
                bad = ("too_long", f"line {n} longer than {max_bytes:,} bytes", "")
                continue
            line, why = decode_line(raw)
            if line is None:
                bad = (why, f"line {n}", excerpt(raw))
                continue
            cols = line.split("\t") if "\t" in line else line.split()
            try:
                tok = cols[token_column].strip()
            except IndexError:
                bad = ("malformed_row", f"line {n} has {len(cols)} columns, token_column is {token_column}", line)
                continue
            size += len(tok) + 1
            if size > max_bytes:
                bad = ("too_long", f"sentence longer than {max_bytes:,} bytes", "")
            elif tok:
                tokens.append(tok)
        if tokens or bad:
            yield _sentence(source, f"{rel}:{start}", tokens, bad)


def _sentence(source: str, doc_id: str, tokens: list[str], bad) -> Document | Rejected:
    if bad:
        return Rejected(source, doc_id, bad[0], bad[1], bad[2][:160])
    return Document(source, doc_id, " ".join(tokens))
