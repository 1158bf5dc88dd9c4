"""Words as stable integer ids and word n-grams as 64-bit hashes: the shared currency of near-dedup,
decontamination and the vocabulary diagnostics.

A word is a run of ``\\w`` characters, lowercased: punctuation and PTB spacing (``( SA )`` vs ``(SA)``) do not
change the words, so a test sentence is found in the corpus however either side was tokenized. Ids are given in
order of first appearance, so they (and every hash built from them) are the same on every run over the same input,
unlike Python's per-process-salted ``hash``.
"""

from __future__ import annotations

import re

import numpy as np

_WORD = re.compile(r"\w+")
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


_PUNCT = re.compile(r"[^\w\s]")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def punctuation_marks(text: str) -> int:
    return _PUNCT.subn("", text)[1]


def splitmix64(x: np.ndarray) -> np.ndarray:
    """A bijective 64-bit mixer (SplitMix64's finaliser): sequential ids become uniformly spread hashes."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


class Vocabulary:
    """word -> id in first-seen order, with a frequency count per id (the unigram counts the overlap uses)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.counts = np.zeros(1024, dtype=np.int64)

    def encode(self, ws: list[str]) -> list[int]:
        ids = self.ids
        return [ids.setdefault(w, len(ids)) for w in ws]

    def count(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        need = int(ids.max()) + 1
        if need > len(self.counts):
            grown = np.zeros(max(need, 2 * len(self.counts)), dtype=np.int64)
            grown[: len(self.counts)] = self.counts
            self.counts = grown
        self.counts[:need] += np.bincount(ids, minlength=need)

    def most_common(self, k: int, exclude: frozenset[str] = frozenset()) -> list[str]:
        words_by_id = list(self.ids)
        order = np.argsort(-self.counts[: len(words_by_id)], kind="stable")
        out = []
        for i in order:
            if self.counts[i] == 0:
                break
            w = words_by_id[i]
            if w not in exclude:
                out.append(w)
                if len(out) == k:
                    break
        return out


def ngram_hashes(word_hashes: np.ndarray, starts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every word n-gram that lies inside one document of a batch.

    Args:
        word_hashes: the mixed word ids of a batch of documents, concatenated.
        starts: where each document starts in ``word_hashes`` (ascending, first is 0).
        n: words per n-gram. A document shorter than ``n`` gives one hash of all its words (so short documents can
            still be deduplicated), an empty one gives none.

    Returns:
        ``(hashes, doc_index)``: one 64-bit hash per n-gram and the batch index of its document.
    """
    total = len(word_hashes)
    ends = np.append(starts[1:], total)
    lengths = ends - starts
    doc_of = np.repeat(np.arange(len(starts)), lengths)
    out_h, out_d = [], []
    if total >= n:
        # Position-dependent odd multipliers make the combination order-sensitive ("a b" != "b a").
        coef = splitmix64(np.arange(n, dtype=np.uint64)) | np.uint64(1)
        m = total - n + 1
        with np.errstate(over="ignore"):
            acc = word_hashes[:m] * coef[0]
            for j in range(1, n):
                acc = acc + word_hashes[j : j + m] * coef[j]
        first = np.arange(m)
        valid = doc_of[first] == doc_of[first + n - 1]
        out_h.append(splitmix64(acc[valid]))
        out_d.append(doc_of[first[valid]])
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    if len(short):
        with np.errstate(over="ignore"):
            hs = []
            for i in short:
                coef = splitmix64(np.arange(lengths[i], dtype=np.uint64)) | np.uint64(1)
                hs.append(np.sum(word_hashes[starts[i] : ends[i]] * coef, dtype=np.uint64))
        out_h.append(splitmix64(np.asarray(hs, dtype=np.uint64) ^ np.uint64(n)))
        out_d.append(short)
    if not out_h:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    h, d = np.concatenate(out_h), np.concatenate(out_d)
    order = np.argsort(d, kind="stable")
    return h[order], d[order]
