"""CSV / TSV (streamed with the csv module) and Parquet (streamed in record batches with pyarrow)."""

from __future__ import annotations

import contextlib
import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from dapt.ingest.readers.fields import record_text
from dapt.ingest.readers.raw_lines import excerpt, open_binary
from dapt.ingest.readers.records import Document, ReaderError, Rejected


def _text_stream(path: Path) -> io.TextIOWrapper:
    # surrogateescape keeps undecodable bytes recognisable per row instead of failing the whole file; "utf-8-sig"
    # drops a BOM; newline="" lets the csv module handle CRLF and newlines inside quoted fields.
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", errors="surrogateescape", newline="")


def csv_header(path: Path, delimiter: str) -> list[str]:
    with _text_stream(path) as f:
        try:
            return next(csv.reader(f, delimiter=delimiter))
        except StopIteration:
            return []
        except csv.Error as e:
            raise ReaderError(f"{path}: cannot read a CSV header ({e})") from e


def read_csv(
    path: Path,
    source: str,
    rel: str,
    max_bytes: int,
    fields: list,
    delimiter: str,
    header: bool,
    id_field: str | int | None = None,
) -> Iterator[Document | Rejected]:
    """One document per row. With ``header``, fields are column names; without, 0-based column indices."""
    csv.field_size_limit(min(max(max_bytes, csv.field_size_limit()), sys.maxsize))
    with _text_stream(path) as f:
        reader = csv.reader(f, delimiter=delimiter)
        names = None
        if header:
            names = next(reader, None)
            if names is None:
                return
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                reason = "too_long" if "field larger" in str(e) else "malformed_row"
                yield Rejected(source, f"{rel}:{reader.line_num}", reason, str(e))
                continue
            doc_id = f"{rel}:{reader.line_num}"
            if not row or not any(c.strip() for c in row):
                continue
            joined = "\t".join(row)
            if any("\udc80" <= ch <= "\udcff" for ch in joined):
                yield Rejected(source, doc_id, "invalid_utf8", excerpt=excerpt(joined.encode(errors="replace")))
                continue
            if "\x00" in joined:
                yield Rejected(source, doc_id, "nul_bytes", excerpt=excerpt(joined))
                continue
            record = dict(zip(names, row, strict=False)) if names is not None else row
            text, why = record_text(record, fields)
            if text is None:
                yield Rejected(source, doc_id, "missing_field", why, excerpt(joined))
                continue
            if len(text.encode()) > max_bytes:
                yield Rejected(source, doc_id, "too_long", f"row text longer than {max_bytes:,} bytes")
                continue
            if id_field is not None:
                with contextlib.suppress(KeyError, IndexError):
                    doc_id = f"{rel}:{record[id_field]}"
            yield Document(source, doc_id, text)


def parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except Exception as e:  # pyarrow raises ArrowInvalid/OSError variants for non-Parquet files
        raise ReaderError(f"{path}: not a readable Parquet file ({e})") from e


def read_parquet(
    path: Path, source: str, rel: str, max_bytes: int, fields: list, id_field: str | None = None, batch_rows: int = 1024
) -> Iterator[Document | Rejected]:
    """One document per row, read ``batch_rows`` at a time (only the needed columns are decoded)."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    present = set(pf.schema_arrow.names)
    columns = [c for c in [*fields, id_field] if c is not None and c in present]
    n = 0
    for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
        for row in batch.to_pylist():
            n += 1
            doc_id = f"{rel}:{row[id_field]}" if id_field in row and row[id_field] is not None else f"{rel}:{n}"
            yield from _row_document(row, source, doc_id, fields, max_bytes)


def _row_document(row: dict, source: str, doc_id: str, fields: list, max_bytes: int) -> Iterator[Document | Rejected]:
    text, why = record_text(row, fields)
    if text is None:
        yield Rejected(source, doc_id, "missing_field", why)
    elif len(text.encode()) > max_bytes:
        yield Rejected(source, doc_id, "too_long", f"row text longer than {max_bytes:,} bytes")
    elif "\x00" in text:
        yield Rejected(source, doc_id, "nul_bytes", excerpt=excerpt(text))
    else:
        yield Document(source, doc_id, text)


def read_hub(
    name: str, source: str, max_bytes: int, fields: list, split: str, config: str | None, id_field: str | None = None
) -> Iterator[Document | Rejected]:
    """A Hugging Face dataset by name (or a local dataset folder), streamed: nothing is downloaded up front."""
    import datasets

    ds = datasets.load_dataset(name, config, split=split, streaming=True)
    for n, row in enumerate(ds, start=1):
        doc_id = (
            f"{name}/{split}:{row[id_field]}" if id_field and row.get(id_field) is not None else f"{name}/{split}:{n}"
        )
        yield from _row_document(row, source, doc_id, fields, max_bytes)
