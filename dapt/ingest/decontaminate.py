"""Decontamination: find pretraining documents that share a word n-gram (13 by default, as in GPT-3's and the
DAPT-era contamination studies) with the dev or test text of any task in the recipe.

Task n-grams go into one sorted array with a bitmask of the tasks each came from, so a batch of corpus documents
is checked with one ``searchsorted`` and every hit is attributed to its task(s). A task text shorter than ``n``
words but at least ``min_words`` long is matched as a contiguous run of its words anywhere inside a corpus
document (a k-gram table per such length k: a short PIBOSO sentence inside a longer abstract is caught); shorter
ones only as a whole document. Task texts are normalised exactly like corpus text (NFC, whitespace) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dapt.ingest.normalize import normalize_text
from dapt.ingest.word_ids import Vocabulary, ngram_hashes, words
from dapt.recipe import TaskConfig


def task_texts(task: TaskConfig, split: str, data_root: Path) -> list[str]:
    """Every text of one task split, whole (no ``max_examples`` cut, no added context: the raw sentences)."""
    from dapt.tasks.formats import load_split

    full = task.model_copy(update={"max_examples": None, "context_sentences": 0})
    data = load_split(full, split, data_root)
    return [normalize_text(" ".join(e.tokens) if hasattr(e, "tokens") else e.text) for e in data.examples]


def _table(hashes: list[np.ndarray], masks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique hashes and, per hash, the OR of the task bits it came from."""
    if not hashes:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    h, m = np.concatenate(hashes), np.concatenate(masks)
    order = np.argsort(h, kind="stable")
    h, m = h[order], m[order]
    uniq, first = np.unique(h, return_index=True)
    return uniq, (np.bitwise_or.reduceat(m, first) if len(m) else m)


def _lookup(table_h: np.ndarray, table_m: np.ndarray, hashes: np.ndarray, doc_index: np.ndarray, out: np.ndarray):
    if len(table_h) == 0 or len(hashes) == 0:
        return
    pos = np.searchsorted(table_h, hashes)
    pos[pos == len(table_h)] = 0
    hit = table_h[pos] == hashes
    np.bitwise_or.at(out, doc_index[hit], table_m[pos[hit]])


@dataclass
class TaskNgrams:
    names: list[str]
    hashes: np.ndarray
    """Sorted unique n-gram hashes over all tasks."""
    masks: np.ndarray
    """Bit ``i`` set: the n-gram occurs in ``names[i]``."""
    per_task: dict[str, int]
    """Distinct n-grams per task."""
    short: dict[int, tuple[np.ndarray, np.ndarray]] | None = None
    """Per length k < n: the table of the task texts of exactly k words (k >= ``min_words``)."""
    short_per_task: dict[str, int] | None = None
    """Per task: texts shorter than n words matched as word runs inside documents."""

    @classmethod
    def build(cls, texts_by_task: dict[str, list[str]], vocab: Vocabulary, n: int, min_words: int = 8) -> TaskNgrams:
        if len(texts_by_task) > 63:
            raise ValueError("decontamination supports at most 63 tasks per recipe")
        all_h, all_m, per_task = [], [], {}
        short_h: dict[int, list] = {}
        short_m: dict[int, list] = {}
        short_per_task: dict[str, int] = {}
        for i, (name, texts) in enumerate(texts_by_task.items()):
            ids = [vocab.encode(words(t)) for t in texts]
            runs = [x for x in ids if min_words <= len(x) < n]
            short_per_task[name] = len(runs)
            for x in runs:
                # A text of exactly k words, hashed as a k-gram: equal to the k-gram of the same words in a document.
                k = len(x)
                h_k, _ = ngram_hashes(vocab.hashes(np.asarray(x)), np.zeros(1, np.int64), k)
                short_h.setdefault(k, []).append(h_k)
                short_m.setdefault(k, []).append(np.full(len(h_k), 1 << i, dtype=np.int64))
            lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
            flat = np.fromiter((w for x in ids for w in x), dtype=np.uint64, count=int(lengths.sum()))
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
            h, _ = ngram_hashes(vocab.hashes(flat), starts, n)
            h = np.unique(h)
            per_task[name] = len(h)
            all_h.append(h)
            all_m.append(np.full(len(h), 1 << i, dtype=np.int64))
        if not all_h:
            return cls([], np.empty(0, np.uint64), np.empty(0, np.int64), {}, {}, {})
        uniq, masks = _table(all_h, all_m)
        short = {k: _table(short_h[k], short_m[k]) for k in sorted(short_h)}
        return cls(list(texts_by_task), uniq, masks, per_task, short, short_per_task)

    def match(self, hashes: np.ndarray, doc_index: np.ndarray, n_docs: int) -> np.ndarray:
        """Per document of a batch: the bitmask of tasks it shares an n-gram with (0: clean)."""
        out = np.zeros(n_docs, dtype=np.int64)
        _lookup(self.hashes, self.masks, hashes, doc_index, out)
        return out

    def match_short(self, word_hashes: np.ndarray, starts: np.ndarray, n_docs: int) -> np.ndarray:
        """Per document: the bitmask of tasks with a short text (fewer than n words) occurring inside it as a
        contiguous word run. One k-gram pass over the batch per length k present among the short texts."""
        out = np.zeros(n_docs, dtype=np.int64)
        for k, (table_h, table_m) in (self.short or {}).items():
            h, d = ngram_hashes(word_hashes, starts, k)
            _lookup(table_h, table_m, h, d, out)
        return out

    def task_names(self, mask: int) -> list[str]:
        return [n for i, n in enumerate(self.names) if mask >> i & 1]
