"""Everything between the readers and the tokenizer: per-record filters, batch dedup and decontamination, the
rejects files, and the per-source counts of what was read, kept and dropped."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dapt.ingest.decontaminate import TaskNgrams
from dapt.ingest.filters import quality_reason
from dapt.ingest.hash_index import HashIndex
from dapt.ingest.minhash import NearDupIndex
from dapt.ingest.normalize import dedup_key, detokenize_ptb, normalize_text
from dapt.ingest.readers import Document, Rejected
from dapt.ingest.word_ids import Vocabulary, ngram_hashes, punctuation_marks, splitmix64, words
from dapt.recipe import CorpusConfig

log = logging.getLogger("dapt.ingest.process")

BATCH_DOCS = 2048
"""Documents per batch through dedup/decontamination (vectorised) and the tokenizer (parallel in Rust)."""


@dataclass
class SourceCounts:
    files: int = 0
    read: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


class Rejects:
    """``rejects.jsonl``: one line per record that was not kept, with the reason (and ``contaminated.jsonl`` for
    documents kept under ``decontaminate.mode: flag``)."""

    def __init__(self, out_dir: Path) -> None:
        # Open for the whole stage (closed in run_ingest's finally): records arrive one at a time from the readers.
        self.f = open(out_dir / "rejects.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        self.flagged = open(out_dir / "contaminated.jsonl", "w", encoding="utf-8")  # noqa: SIM115

    def write(self, source: str, doc_id: str, reason: str, detail: str = "", text: str = "") -> None:
        rec = {"source": source, "doc_id": doc_id, "reason": reason}
        if detail:
            rec["detail"] = detail
        if text:
            rec["excerpt"] = text[:160]
        self.f.write(json.dumps(rec, ensure_ascii=False) + "\n")

    def flag(self, doc: Document, tasks: list[str]) -> None:
        rec = {"source": doc.source, "doc_id": doc.doc_id, "tasks": tasks, "excerpt": doc.text[:160]}
        self.flagged.write(json.dumps(rec, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self.f.close()
        self.flagged.close()


class Cleaner:
    """Everything between the readers and the tokenizer, batch by batch."""

    def __init__(
        self, cfg: CorpusConfig, tasks: dict[str, list[str]], rejects: Rejects, per_source: dict[str, SourceCounts]
    ) -> None:
        self.cfg, self.rejects, self.per_source = cfg, rejects, per_source
        self.vocab = Vocabulary()
        self.exact = HashIndex()
        d = cfg.decontaminate
        self.tasks = TaskNgrams.build(tasks if d.mode != "off" else {}, self.vocab, d.ngram_words, d.min_words)
        self.contaminated = {name: 0 for name in self.tasks.names}
        self.flagged = 0
        self.near = NearDupIndex(cfg.dedup.threshold, cfg.dedup.num_perm, cfg.dedup.seed) if cfg.dedup.near else None
        self.words_kept = 0

    def _drop(self, doc: Document, reason: str, detail: str = "") -> None:
        self.per_source[doc.source].drop(reason)
        self.rejects.write(doc.source, doc.doc_id, reason, detail, doc.text)

    def filter_one(self, rec: Document | Rejected) -> Document | None:
        """Per-record steps: normalise, quality filters."""
        if isinstance(rec, Rejected):
            self.per_source[rec.source].drop(rec.reason)
            self.rejects.write(rec.source, rec.doc_id, rec.reason, rec.detail, rec.excerpt)
            return None
        text = normalize_text(rec.text, keep_newlines=True)
        if self.cfg.detokenize:
            text = detokenize_ptb(text)
        doc = Document(rec.source, rec.doc_id, text)
        reason = quality_reason(text, self.cfg.filters)
        if reason:
            self._drop(doc, reason)
            return None
        return doc

    def _exact_dedup(self, docs: list[Document]) -> list[Document]:
        # 64-bit digests in a HashIndex: 8 bytes per kept document; collisions at 2^-64 per pair.
        keys = [
            int.from_bytes(hashlib.blake2b(dedup_key(d.text).encode(), digest_size=8).digest(), "little") for d in docs
        ]
        seen = self.exact.contains(np.asarray(keys, dtype=np.uint64))
        batch: set[int] = set()
        kept = []
        for doc, key, old in zip(docs, keys, seen, strict=True):
            if old or key in batch:
                self._drop(doc, "duplicate")
            else:
                batch.add(key)
                kept.append(doc)
        self.exact.add(np.fromiter(batch, dtype=np.uint64, count=len(batch)))
        return kept

    def filter_batch(self, docs: list[Document]) -> list[Document]:
        """Batch steps: exact dedup, decontamination, then near-dedup over the documents still in."""
        if self.cfg.dedup.exact:
            docs = self._exact_dedup(docs)
        if not docs:
            return []
        ids = [self.vocab.encode(words(d.text)) for d in docs]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((w for x in ids for w in x), dtype=np.int64, count=int(lengths.sum()))
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        mixed = splitmix64(flat.astype(np.uint64))
        out = np.ones(len(docs), dtype=bool)

        if self.tasks.names:
            h, d = ngram_hashes(mixed, starts, self.cfg.decontaminate.ngram_words)
            masks = self.tasks.match(h, d, len(docs)) | self.tasks.match_short(mixed, starts, len(docs))
            for i in np.flatnonzero(masks):
                names = self.tasks.task_names(int(masks[i]))
                for n in names:
                    self.contaminated[n] += 1
                if self.cfg.decontaminate.mode == "drop":
                    out[i] = False
                    self._drop(
                        docs[i],
                        "contaminated",
                        f"shares a {self.cfg.decontaminate.ngram_words}-word n-gram or a whole short text with "
                        f"{'/'.join(names)}",
                    )
                else:
                    self.flagged += 1
                    self.rejects.flag(docs[i], names)

        if self.near is not None:
            h, d = ngram_hashes(mixed, starts, self.cfg.dedup.ngram_words)
            live = out[d]
            dup = self.near.check_batch(h[live], d[live], len(docs))
            for i in np.flatnonzero(dup & out):
                out[i] = False
                self._drop(docs[i], "near_duplicate")

        keep_ids = np.concatenate(
            [flat[s : s + n] for s, n, k in zip(starts, lengths, out, strict=True) if k] or [np.empty(0, np.int64)]
        )
        self.vocab.count(keep_ids)
        kept = [d for d, k in zip(docs, out, strict=True) if k]
        # Word units for fertility: \w+ words plus punctuation marks, a count PTB spacing does not change.
        self.words_kept += int(lengths[out].sum())
        for d in kept:
            self.per_source[d.source].kept += 1
            self.words_kept += punctuation_marks(d.text)
        return kept


def clean_batches(records: Iterator[Document | Rejected], cleaner: Cleaner) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for rec in records:
        doc = cleaner.filter_one(rec)
        if doc is not None:
            batch.append(doc)
            if len(batch) >= BATCH_DOCS:
                yield cleaner.filter_batch(batch)
                batch = []
    yield cleaner.filter_batch(batch)


def prefetched(batches: Iterator[list[Document]], depth: int = 2) -> Iterator[list[Document]]:
    """Run ``batches`` (reading and cleaning: Python, holds the GIL) in a thread, so it overlaps with the
    tokenizer (Rust, releases the GIL). One producer and a FIFO queue: the order, hence the output, is unchanged;
    an exception in the producer is re-raised here."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for b in batches:
                while not stop.is_set():
                    try:
                        q.put(b, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as e:
            q.put(e)

    t = threading.Thread(target=produce, name="ingest-clean", daemon=True)
    t.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        t.join(timeout=5)


def token_ids(tokenizer, texts: list[str]) -> list[list[int]]:
    """Token ids without special tokens. Fast tokenizers go straight to the Rust backend's ``encode_batch_fast``
    (parallel across cores, no offsets computed): ~1/3 less time than the ``PreTrainedTokenizerFast`` call."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and hasattr(backend, "encode_batch_fast"):
        # tokenizer.json may carry truncation/padding (all-MiniLM-L6-v2's truncates at 128): packing needs neither.
        # transformers sets both again on its own next call, so clearing them here changes nothing for it.
        if backend.truncation is not None:
            backend.no_truncation()
        if backend.padding is not None:
            backend.no_padding()
        return [e.ids for e in backend.encode_batch_fast(texts, add_special_tokens=False)]
    return tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
