"""The ingest stage: read -> normalise -> quality filters -> exact dedup -> decontaminate -> near-dedup ->
tokenize -> pack -> sharded Arrow, with every record that does not make it counted by reason and written to
``rejects.jsonl``, a ``manifest.json`` (content hashes of inputs, config and outputs) and a data card."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from dapt.ingest.data_card import render_data_card
from dapt.ingest.decontaminate import TaskNgrams, task_texts
from dapt.ingest.diagnostics import TOP_K, stopwords
from dapt.ingest.filters import quality_reason
from dapt.ingest.hash_index import HashIndex
from dapt.ingest.manifest import build_manifest
from dapt.ingest.minhash import NearDupIndex
from dapt.ingest.normalize import dedup_key, detokenize_ptb, normalize_text
from dapt.ingest.pack import PackCounts, SpecialIds, pack_blocks
from dapt.ingest.readers import Document, Rejected, check_source, read_source
from dapt.ingest.shards import ShardWriter
from dapt.ingest.word_ids import Vocabulary, ngram_hashes, punctuation_marks, splitmix64, words
from dapt.recipe import CorpusConfig, TaskConfig

log = logging.getLogger(__name__)

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


@dataclass
class IngestResult:
    dataset_dir: Path
    stats: dict


class _Rejects:
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


class _Cleaner:
    """Everything between the readers and the tokenizer, batch by batch."""

    def __init__(
        self, cfg: CorpusConfig, tasks: dict[str, list[str]], rejects: _Rejects, per_source: dict[str, SourceCounts]
    ) -> None:
        self.cfg, self.rejects, self.per_source = cfg, rejects, per_source
        self.vocab = Vocabulary()
        self.exact = HashIndex()
        d = cfg.decontaminate
        self.tasks = TaskNgrams.build(tasks if d.mode != "off" else {}, self.vocab, d.ngram_words)
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
            masks = self.tasks.match(h, d, len(docs))
            for i in np.flatnonzero(masks):
                names = self.tasks.task_names(int(masks[i]))
                for n in names:
                    self.contaminated[n] += 1
                if self.cfg.decontaminate.mode == "drop":
                    out[i] = False
                    self._drop(
                        docs[i],
                        "contaminated",
                        f"shares a {self.cfg.decontaminate.ngram_words}-word n-gram with {'/'.join(names)}",
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


def _batches(records: Iterator[Document | Rejected], cleaner: _Cleaner) -> Iterator[list[Document]]:
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


_M64 = (1 << 64) - 1


def _heldout(index: int, fraction: float, seed: int) -> bool:
    """Streaming, deterministic split: block ``index`` is held out with probability ``fraction`` (SplitMix64 of
    the index and seed, in plain integers: one call per block)."""
    if fraction <= 0:
        return False
    z = (index ^ (seed << 40)) + 0x9E3779B97F4A7C15 & _M64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & _M64
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _M64
    return (z ^ (z >> 31)) / 2.0**64 < fraction


def run_ingest(
    cfg: CorpusConfig,
    data_root: Path,
    out_dir: Path,
    tokenizer,
    block_size: int,
    heldout_fraction: float,
    seed: int = 0,
    progress: bool = True,
    name: str = "corpus",
    tasks: Sequence[TaskConfig] = (),
    tokenizer_name: str | None = None,
) -> IngestResult:
    """Ingest a corpus into ``out_dir``: ``dataset/{train,heldout}/shard-*.arrow``, ``stats.json``,
    ``manifest.json``, ``rejects.jsonl``, ``top_words.json`` and ``data_card.md``.

    Args:
        tasks: the recipe's tasks; the corpus is decontaminated against their ``cfg.decontaminate.splits``.
        tokenizer_name: how stats and the data card name the tokenizer (default: its ``name_or_path``).

    Raises:
        ReaderError: a source cannot be read at all (checked for every source before any work starts).
    """
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # long documents exceed the model's max length by design (they are packed)
    t0 = time.perf_counter()
    files = {src.name: check_source(src, data_root, tasks) for src in cfg.sources}
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset_dir = out_dir / "dataset"
    if dataset_dir.exists():
        import shutil

        shutil.rmtree(dataset_dir)
    texts_by_task = {}
    if cfg.decontaminate.mode != "off":
        for t in tasks:
            texts_by_task[t.name] = [x for split in cfg.decontaminate.splits for x in task_texts(t, split, data_root)]
    per_source = {src.name: SourceCounts(files=len(files[src.name])) for src in cfg.sources}
    rejects = _Rejects(out_dir)
    cleaner = _Cleaner(cfg, texts_by_task, rejects, per_source)
    special = SpecialIds.from_tokenizer(tokenizer)
    pack_counts = PackCounts()
    writer = ShardWriter(dataset_dir, block_size, cfg.shard_blocks)
    max_bytes = 4 * cfg.filters.max_chars
    bytes_read = sum(p.stat().st_size for fs in files.values() for p in fs)

    def records() -> Iterator[Document | Rejected]:
        for src in cfg.sources:
            stream = read_source(src, data_root, files[src.name], max_bytes, tasks)
            if src.max_documents is not None:
                stream = islice(stream, src.max_documents)
            for rec in tqdm(stream, desc=f"ingest {src.name}", unit="doc", disable=not progress, mininterval=2):
                per_source[src.name].read += 1
                yield rec

    # The kept documents as text (for kNN selection, inspection): gzip level 1 costs ~0.3 s per 25 MB.
    docs_out = gzip.open(out_dir / "documents.jsonl.gz", "wt", encoding="utf-8", compresslevel=1)  # noqa: SIM115

    def tokenized() -> Iterator[list[int]]:
        for batch in prefetched(_batches(records(), cleaner)):
            for d in batch:
                docs_out.write(json.dumps({"id": d.doc_id, "source": d.source, "text": d.text}, ensure_ascii=False))
                docs_out.write("\n")
            if batch:
                yield from token_ids(tokenizer, [d.text for d in batch])

    try:
        pending = None  # the last block is held back: it becomes the held-out block if none was drawn
        for i, (block, real) in enumerate(pack_blocks(tokenized(), block_size, special, pack_counts)):
            if pending is not None:
                writer.add(*pending)
            pending = ("heldout" if _heldout(i, heldout_fraction, seed) else "train", block, real)
        if pending is not None:
            if heldout_fraction > 0 and "heldout" not in writer.rows and writer.rows.get("train", 0) >= 1:
                pending = ("heldout", *pending[1:])
            writer.add(*pending)
        shards = writer.close()
    finally:
        rejects.close()
        docs_out.close()
    if not shards:
        raise ValueError(f"ingest: no documents kept from {[s.name for s in cfg.sources]}: {_summary(per_source)}")

    seconds = time.perf_counter() - t0
    top = cleaner.vocab.most_common(TOP_K, exclude=stopwords())
    (out_dir / "top_words.json").write_text(json.dumps(top))
    d = cfg.decontaminate
    stats = {
        "name": name,
        "sources": {n: asdict(c) for n, c in per_source.items()},
        "documents": {
            "read": sum(c.read for c in per_source.values()),
            "kept": sum(c.kept for c in per_source.values()),
            "dropped": _sum_dropped(per_source),
        },
        "dedup_index_bytes": cleaner.exact.nbytes + (cleaner.near.index.nbytes if cleaner.near else 0),
        "near_dedup": (
            {
                "ngram_words": cfg.dedup.ngram_words,
                "threshold": cfg.dedup.threshold,
                "bands": cleaner.near.bands,
                "rows": cleaner.near.rows,
                "index_bytes": cleaner.near.index.nbytes,
            }
            if cleaner.near
            else None
        ),
        "decontamination": {
            "mode": d.mode,
            "ngram_words": d.ngram_words,
            "splits": list(d.splits),
            "task_ngrams": cleaner.tasks.per_task,
            "documents_per_task": cleaner.contaminated,
            "flagged": cleaner.flagged,
        },
        "tokenizer": tokenizer_name or getattr(tokenizer, "name_or_path", type(tokenizer).__name__),
        "block_size": block_size,
        "words": cleaner.words_kept,
        "content_tokens": pack_counts.content_tokens,
        "fertility": round(pack_counts.content_tokens / max(1, cleaner.words_kept), 4),
        "separator_tokens": pack_counts.documents,
        "blocks": {
            "total": pack_counts.blocks,
            "train": writer.rows.get("train", 0),
            "heldout": writer.rows.get("heldout", 0),
        },
        "padding_tokens": pack_counts.padding_tokens,
        "padding_fraction": pack_counts.padding_fraction,
        "input_bytes": bytes_read,
        "seconds": round(seconds, 2),
        "mb_per_s": round(bytes_read / 1e6 / max(seconds, 1e-9), 2),
    }
    manifest = build_manifest(
        cfg, data_root, files, tasks, tokenizer, block_size, heldout_fraction, seed, stats, shards
    )
    stats["manifest_hash"] = manifest["manifest_hash"]
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=2))
    (out_dir / "data_card.md").write_text(render_data_card(name, cfg, stats))
    log.info("ingest %s: %s; %.1f MB/s", name, _summary(per_source), stats["mb_per_s"])
    return IngestResult(dataset_dir=dataset_dir, stats=stats)


def _sum_dropped(per_source: dict[str, SourceCounts]) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in per_source.values():
        for k, v in c.dropped.items():
            total[k] = total.get(k, 0) + v
    return dict(sorted(total.items()))


def _summary(per_source: dict[str, SourceCounts]) -> str:
    return "; ".join(f"{n}: read {c.read}, kept {c.kept}, dropped {c.dropped}" for n, c in per_source.items())
