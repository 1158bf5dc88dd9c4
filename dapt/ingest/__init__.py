"""Corpus ingestion: read -> normalise -> filter -> exact dedup -> tokenize -> pack -> Arrow + stats.

The public surface later stages may use: :func:`run_ingest` (the engine), the run's ingest stage
(:func:`ingest_corpora`, :func:`ingest_task_corpus`) and their inputs, and :func:`diagnostics_markdown`.
"""

from dapt.ingest.corpora import corpus_inputs, ingest_corpora, ingest_task_corpus, task_corpus_inputs
from dapt.ingest.diagnostics import diagnostics_markdown
from dapt.ingest.stage import IngestResult, run_ingest

__all__ = [
    "IngestResult",
    "corpus_inputs",
    "diagnostics_markdown",
    "ingest_corpora",
    "ingest_task_corpus",
    "run_ingest",
    "task_corpus_inputs",
]
