"""Corpus ingestion: read -> normalise -> filter -> exact dedup -> tokenize -> pack -> Arrow + stats."""

from dapt.ingest.stage import IngestResult, run_ingest

__all__ = ["IngestResult", "run_ingest"]
