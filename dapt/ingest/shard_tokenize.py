"""Last map phase of a sharded ingest, per input shard: apply the dedup and decontamination decisions (each drop
counted and written to the shard's rejects), count the kept documents' words, and tokenize them. The token ids go
to ``tokens.npy`` / ``lengths.npy`` for the one sequential step left, packing, which must see documents in global
order to cut the same blocks as a single reader.

Outputs in the shard's work folder: ``tokens.npy`` (int32, the kept documents' ids concatenated), ``lengths.npy``,
``kept.jsonl.gz`` (a gzip member of ``documents.jsonl.gz``), ``kept_ids.json``, ``rejects-dedup.jsonl``,
``contaminated.jsonl`` (``flag`` mode) and ``final.json`` (counts)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import numpy as np

from dapt.ingest.cleaning import Rejects, token_ids
from dapt.ingest.dedup_reduce import shard_slice
from dapt.ingest.readers import Document
from dapt.ingest.shard_map import BATCH_DOCS, MapJob, map_dir
from dapt.ingest.word_ids import punctuation_marks, words


def _task_names(names: list[str], mask: int) -> list[str]:
    return [n for i, n in enumerate(names) if mask >> i & 1]


def tokenize_shard(shard: int, job: MapJob, tokenizer, exact_dups: list[Path], near_dups: list[Path]) -> dict:
    """Returns the shard's counts: ``kept``, ``dropped`` (by reason), ``contaminated`` (documents per task),
    ``flagged``, ``words``, ``tokens``."""
    out = map_dir(job.work_dir, shard)
    cfg = job.cfg
    keys = np.load(out / "keys.npz")
    contaminated = keys["contaminated"]
    exact = np.zeros(len(contaminated), dtype=bool)
    exact[shard_slice(exact_dups, shard)] = True
    near = np.zeros(len(contaminated), dtype=bool)
    near[shard_slice(near_dups, shard)] = True
    names = list(job.texts_by_task) if cfg.decontaminate.mode != "off" else []
    per_task = dict.fromkeys(names, 0)
    dropped: Counter = Counter()
    vocab: Counter = Counter()
    flagged = n_words = n_tokens = 0
    kept_ids: list[str] = []
    lengths: list[int] = []
    token_parts: list[np.ndarray] = []
    batch: list[dict] = []

    def flush() -> None:
        nonlocal n_tokens
        if not batch:
            return
        for ids in token_ids(tokenizer, [d["t"] for d in batch]):
            token_parts.append(np.asarray(ids, dtype=np.int32))
            lengths.append(len(ids))
            n_tokens += len(ids)
        batch.clear()

    rejects = Rejects(out, "rejects-dedup.jsonl")
    with (
        open(out / "docs.jsonl", encoding="utf-8") as docs,
        gzip.open(out / "kept.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) as kept,
    ):
        for i, line in enumerate(docs):
            doc = json.loads(line)
            reason, detail = None, ""
            if exact[i]:
                reason = "duplicate"
            elif contaminated[i]:
                tasks = _task_names(names, int(contaminated[i]))
                for n in tasks:
                    per_task[n] += 1
                if cfg.decontaminate.mode == "drop":
                    reason = "contaminated"
                    detail = (
                        f"shares a {cfg.decontaminate.ngram_words}-word n-gram or a whole short text with "
                        f"{'/'.join(tasks)}"
                    )
                else:
                    flagged += 1
                    rejects.flag(Document(doc["s"], doc["id"], doc["t"]), tasks)
            if reason is None and near[i]:
                reason = "near_duplicate"
            if reason is not None:
                dropped[reason] += 1
                rejects.write(doc["s"], doc["id"], reason, detail, doc["t"])
                continue
            ws = words(doc["t"])
            vocab.update(ws)
            # Word units for fertility: \w+ words plus punctuation marks, a count PTB spacing does not change.
            n_words += len(ws) + punctuation_marks(doc["t"])
            kept_ids.append(doc["id"])
            kept.write(json.dumps({"id": doc["id"], "source": doc["s"], "text": doc["t"]}, ensure_ascii=False))
            kept.write("\n")
            batch.append(doc)
            if len(batch) == BATCH_DOCS:
                flush()
        flush()
    rejects.close()
    np.save(out / "tokens.npy", np.concatenate(token_parts) if token_parts else np.empty(0, np.int32))
    np.save(out / "lengths.npy", np.asarray(lengths, dtype=np.int64))
    (out / "kept_ids.json").write_text(json.dumps(kept_ids))
    (out / "words.json").write_text(json.dumps(vocab))
    result = {
        "kept": len(kept_ids),
        "dropped": dict(dropped),
        "contaminated": per_task,
        "flagged": flagged,
        "words": n_words,
        "tokens": n_tokens,
    }
    (out / "final.json").write_text(json.dumps(result))
    return result
