"""Words as stable integer ids and word n-grams as 64-bit hashes: the shared currency of near-dedup,
decontamination and the vocabulary diagnostics.

A word is a run of ``\\w`` characters, lowercased: punctuation and PTB spacing (``( SA )`` vs ``(SA)``) do not
change the words, so a test sentence is found in the corpus however either side was tokenized. Ids are local to a
:class:`Vocabulary` (order of first appearance); the hash of a word is a digest of the word itself, so every hash
built from it is the same in every process and every shard of a sharded ingest, whatever each has seen before
(unlike Python's per-process-salted ``hash``, and unlike the ids).
"""

from __future__ import annotations

import hashlib
import re
from itertools import islice

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


def word_hash(word: str) -> int:
    """A word's 64-bit hash: the same in every process."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


class Vocabulary:
    """word -> id in first-seen order, and a process-independent hash per id (what n-gram hashes are built
    from)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.ids: dict[str, int] = {}
        self._hash = np.empty(0, dtype=np.uint64)

    def hashes(self, ids: np.ndarray) -> np.ndarray:
        """The word hashes of ``ids`` (uint64)."""
        new = len(self.ids) - len(self._hash)
        if new:
            # Ids are insertion-ordered: the words not hashed yet are the last ``new`` of the dict.
            latest = list(islice(reversed(self.ids), new))[::-1]
            fresh = np.fromiter((word_hash(w) for w in latest), dtype=np.uint64, count=new)
            self._hash = np.concatenate([self._hash, fresh])
        return self._hash[np.asarray(ids, dtype=np.int64)]

    def encode(self, ws: list[str]) -> list[int]:
        ids = self.ids
        return [ids.setdefault(w, len(ids)) for w in ws]


def most_common(counts: dict[str, int], k: int, exclude: frozenset[str] = frozenset()) -> list[str]:
    """The ``k`` most frequent words not in ``exclude``; ties by the word, so the order does not depend on which
    shard saw a word first."""
    ranked = sorted(((-c, w) for w, c in counts.items() if w not in exclude))
    return [w for _, w in ranked[:k]]


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
