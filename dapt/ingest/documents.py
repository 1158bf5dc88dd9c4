"""The kept documents of an ingested corpus (``documents.jsonl.gz``) and which of them are held out
(``heldout_ids.json``): later steps that read documents (kNN candidates, vocabulary counts, re-packing) read the
training documents only, so held-out perplexity is never measured on text a model trained on."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path


def heldout_ids(corpus_dir: Path) -> set[str]:
    path = corpus_dir / "heldout_ids.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: ingested before held-out ids were recorded; run `dapt ingest`")
    return set(json.loads(path.read_text()))


def iter_documents(corpus_dir: Path, include_heldout: bool = False) -> Iterator[dict]:
    """``{"id", "source", "text"}`` per kept document, in ingest order; held-out ones only if asked for."""
    skip = set() if include_heldout else heldout_ids(corpus_dir)
    with gzip.open(corpus_dir / "documents.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            if doc["id"] not in skip:
                yield doc


def write_documents(docs: Iterator[dict], path: Path) -> int:
    """Write documents as gzipped JSON lines; returns how many."""
    n = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
            n += 1
    return n
