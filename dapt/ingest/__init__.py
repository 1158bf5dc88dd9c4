"""Corpus ingestion: read -> normalise -> filter -> exact dedup -> tokenize -> pack -> Arrow + stats.

The public surface later stages may use: :func:`run_ingest` (the engine), the run's ingest stage
(:func:`ingest_corpora`, :func:`ingest_task_corpus`) and their inputs, :func:`load_blocks` (the packed
shards' reader: ingest's output contract), :func:`diagnostics_markdown` and :func:`fertility`.
"""

from dapt.ingest.diagnostics import diagnostics_markdown, fertility
from dapt.ingest.documents import heldout_ids, iter_documents, write_documents
from dapt.ingest.process import IngestResult, run_ingest
from dapt.ingest.shards import load_blocks
from dapt.ingest.stage import corpus_inputs, ingest_corpora, ingest_task_corpus, task_corpus_inputs

__all__ = [
    "IngestResult",
    "corpus_inputs",
    "diagnostics_markdown",
    "fertility",
    "heldout_ids",
    "ingest_corpora",
    "ingest_task_corpus",
    "iter_documents",
    "load_blocks",
    "run_ingest",
    "task_corpus_inputs",
    "write_documents",
]
