"""Streaming readers, one per source format; each yields :class:`Document` or :class:`Rejected` one at a time, so
memory stays bounded whatever the corpus size. :func:`check_source` fails fast on sources that cannot be read at
all; :func:`read_source` streams one source's records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from dapt.ingest.readers.conll import read_conll
from dapt.ingest.readers.fields import as_fields
from dapt.ingest.readers.json_records import read_json, read_jsonl
from dapt.ingest.readers.pubmed import check_pubmed_xml, read_pubmed_xml
from dapt.ingest.readers.raw_lines import open_binary
from dapt.ingest.readers.records import Document, ReaderError, Rejected
from dapt.ingest.readers.tabular import csv_header, parquet_columns, read_csv, read_hub, read_parquet
from dapt.ingest.readers.text import read_lines, read_paragraphs
from dapt.recipe import CorpusSource, TaskConfig, source_files

__all__ = ["Document", "ReaderError", "Rejected", "check_source", "read_file", "read_source"]


def _relative(path: Path, data_root: Path) -> str:
    return str(path.relative_to(data_root)) if path.is_relative_to(data_root) else str(path)


def check_source(src: CorpusSource, data_root: Path, tasks: Sequence[TaskConfig] = ()) -> list[Path]:
    """The source's files, after checking each can be opened as its format (header, magic bytes, columns).

    Raises:
        ReaderError: naming the source and the first file that cannot be read.
    """
    if src.format == "hf":
        return []
    if src.format == "task":
        task = _task(src, tasks)
        path = data_root / task.train
        if not path.is_file():
            raise ReaderError(f"source {src.name!r}: task {task.name} train file not found: {path}")
        return [path]
    files = source_files(src, data_root)
    if not files:
        raise ReaderError(f"source {src.name!r}: no files match {data_root / src.path}")
    fields = as_fields(src.text_field)
    for path in files:
        try:
            with open_binary(path) as f:
                f.read(1)
        except OSError as e:  # unreadable, or a truncated/corrupt gzip header
            raise ReaderError(f"source {src.name!r}: cannot read {path} ({e})") from e
        if src.format == "parquet":
            missing = [c for c in fields if c not in parquet_columns(path)]
            if missing:
                raise ReaderError(f"source {src.name!r}: {path} has no column(s) {missing}")
        elif src.format in ("csv", "tsv") and src.header:
            names = csv_header(path, "," if src.format == "csv" else "\t")
            missing = [c for c in fields if c not in names]
            if names and missing:
                raise ReaderError(f"source {src.name!r}: {path} header {names[:12]} lacks column(s) {missing}")
        elif src.format == "pubmed_xml":
            check_pubmed_xml(path)
    return files


def read_file(src: CorpusSource, path: Path, rel: str, max_bytes: int) -> Iterator[Document | Rejected]:
    """One file of a source, in the source's format."""
    fields = as_fields(src.text_field)
    fmt = src.format
    if fmt == "text":
        reader = read_paragraphs if src.text_unit == "paragraph" else read_lines
        return reader(path, src.name, rel, max_bytes)
    if fmt == "jsonl":
        return read_jsonl(path, src.name, rel, max_bytes, fields, src.id_field)
    if fmt == "json":
        return read_json(path, src.name, rel, max_bytes, fields, src.id_field)
    if fmt in ("csv", "tsv"):
        delimiter = "," if fmt == "csv" else "\t"
        return read_csv(path, src.name, rel, max_bytes, fields, delimiter, src.header, src.id_field)
    if fmt == "parquet":
        return read_parquet(path, src.name, rel, max_bytes, fields, src.id_field)
    if fmt == "conll":
        return read_conll(path, src.name, rel, max_bytes, src.token_column)
    if fmt == "pubmed_xml":
        return read_pubmed_xml(path, src.name, rel, max_bytes)
    raise ReaderError(f"source {src.name!r}: format {fmt!r} has no file reader")


def _task(src: CorpusSource, tasks: Sequence[TaskConfig]) -> TaskConfig:
    for t in tasks:
        if t.name == src.path:
            return t
    raise ReaderError(
        f"source {src.name!r}: format task names {src.path!r}, not one of the tasks {[t.name for t in tasks]}"
    )


def read_source(
    src: CorpusSource, data_root: Path, files: list[Path], max_bytes: int, tasks: Sequence[TaskConfig] = ()
) -> Iterator[Document | Rejected]:
    """Every record of a source, files in sorted order (deterministic)."""
    if src.format == "task":
        from dapt.ingest.decontaminate import task_texts

        task = _task(src, tasks)
        for i, text in enumerate(task_texts(task, "train", data_root), start=1):
            yield Document(src.name, f"{task.name}/train:{i}", text)
        return
    if src.format == "hf":
        yield from read_hub(
            src.path, src.name, max_bytes, as_fields(src.text_field), src.hf_split, src.hf_config, src.id_field
        )
        return
    for path in files:
        yield from read_file(src, path, _relative(path, data_root), max_bytes)
