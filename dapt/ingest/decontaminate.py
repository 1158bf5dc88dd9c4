"""Decontamination: find pretraining documents that share a word n-gram (13 by default, as in GPT-3's and the
DAPT-era contamination studies) with the dev or test text of any task in the recipe.

Task n-grams go into one sorted array with a bitmask of the tasks each came from, so a batch of corpus documents
is checked with one ``searchsorted`` and every hit is attributed to its task(s). Task texts shorter than ``n``
words are matched only as a whole document (their single short "n-gram" hash).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dapt.ingest.word_ids import Vocabulary, ngram_hashes, splitmix64, words
from dapt.recipe import TaskConfig


def task_texts(task: TaskConfig, split: str, data_root: Path) -> list[str]:
    """Every text of one task split, whole (no ``max_examples`` cut, no added context: the raw sentences)."""
    from dapt.tasks.formats import load_split

    full = task.model_copy(update={"max_examples": None, "context_sentences": 0})
    data = load_split(full, split, data_root)
    return [" ".join(e.tokens) if hasattr(e, "tokens") else e.text for e in data.examples]


@dataclass
class TaskNgrams:
    names: list[str]
    hashes: np.ndarray
    """Sorted unique n-gram hashes over all tasks."""
    masks: np.ndarray
    """Bit ``i`` set: the n-gram occurs in ``names[i]``."""
    per_task: dict[str, int]
    """Distinct n-grams per task."""

    @classmethod
    def build(cls, texts_by_task: dict[str, list[str]], vocab: Vocabulary, n: int) -> TaskNgrams:
        if len(texts_by_task) > 63:
            raise ValueError("decontamination supports at most 63 tasks per recipe")
        all_h, all_m, per_task = [], [], {}
        for i, (name, texts) in enumerate(texts_by_task.items()):
            ids = [vocab.encode(words(t)) for t in texts]
            lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
            flat = np.fromiter((w for x in ids for w in x), dtype=np.uint64, count=int(lengths.sum()))
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
            h, _ = ngram_hashes(splitmix64(flat), starts, n)
            h = np.unique(h)
            per_task[name] = len(h)
            all_h.append(h)
            all_m.append(np.full(len(h), 1 << i, dtype=np.int64))
        if not all_h:
            return cls([], np.empty(0, np.uint64), np.empty(0, np.int64), {})
        h, m = np.concatenate(all_h), np.concatenate(all_m)
        order = np.argsort(h, kind="stable")
        h, m = h[order], m[order]
        uniq, first = np.unique(h, return_index=True)
        masks = np.bitwise_or.reduceat(m, first) if len(m) else m
        return cls(list(texts_by_task), uniq, masks, per_task)

    def match(self, hashes: np.ndarray, doc_index: np.ndarray, n_docs: int) -> np.ndarray:
        """Per document of a batch: the bitmask of tasks it shares an n-gram with (0: clean)."""
        out = np.zeros(n_docs, dtype=np.int64)
        if len(self.hashes) == 0 or len(hashes) == 0:
            return out
        pos = np.searchsorted(self.hashes, hashes)
        pos[pos == len(self.hashes)] = 0
        hit = self.hashes[pos] == hashes
        np.bitwise_or.at(out, doc_index[hit], self.masks[pos[hit]])
        return out

    def task_names(self, mask: int) -> list[str]:
        return [n for i, n in enumerate(self.names) if mask >> i & 1]
