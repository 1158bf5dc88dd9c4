"""Vocabulary extension: give the domain's most fragmented frequent words a token of their own.

A general tokenizer cuts ``hydroxychloroquine`` into five pieces; every occurrence then costs five positions and
the model must compose the word each time. Here the words are counted on the domain corpus with the tokenizer's
own normalizer and pre-tokenizer (``tokenizers``), ranked by the positions a token of their own would save
(``count x (pieces - 1)``), and the top K are added. Each new input embedding starts as the mean of its old pieces'
embeddings (and an MLM output bias as the mean of their biases), so the model starts from what it knew instead of
noise. Old ids keep their meaning: text tokenized before the extension stays valid input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DomainWord:
    word: str
    count: int
    pieces: int

    @property
    def saved(self) -> int:
        return self.count * (self.pieces - 1)


def find_domain_words(texts: Iterable[str], tokenizer, top_k: int, min_count: int = 20) -> list[DomainWord]:
    """The ``top_k`` words (alphabetic, >= 4 characters, seen ``min_count`` times) that save the most positions."""
    backend = tokenizer.backend_tokenizer
    counts: Counter[str] = Counter()
    for text in texts:
        norm = backend.normalizer.normalize_str(text) if backend.normalizer else text
        words = (
            backend.pre_tokenizer.pre_tokenize_str(norm) if backend.pre_tokenizer else [(w, None) for w in norm.split()]
        )
        counts.update(w for w, _ in words)
    out = []
    for raw, n in counts.items():
        word = raw.lstrip("Ġ▁")  # byte-level BPE / SentencePiece mark the word start
        if n < min_count or len(word) < 4 or not word.isalpha():
            continue
        pieces = len(tokenizer.tokenize(word, add_special_tokens=False))
        if pieces > 1:
            out.append(DomainWord(word, n, pieces))
    out.sort(key=lambda w: (-w.saved, w.word))
    return out[:top_k]


def extend_vocabulary(model, tokenizer, words: list[str]) -> list[int]:
    """Add ``words`` to ``tokenizer`` and ``model`` (in place); each new embedding row = the mean of the rows of
    the pieces the word had. Returns the new token ids."""
    old_pieces = [tokenizer(w, add_special_tokens=False)["input_ids"] for w in words]
    from tokenizers import AddedToken

    # single_word: "azithromycin" must not match inside "azithromycinresistant"; added tokens otherwise match
    # anywhere in the text, before the model's own pre-tokenisation.
    added = tokenizer.add_tokens([AddedToken(w, single_word=True) for w in words])
    if added != len(words):
        raise ValueError(f"{len(words) - added} of the words are already tokens of this tokenizer")
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    emb = model.get_input_embeddings().weight
    new_ids = tokenizer.convert_tokens_to_ids(words)
    bias = _output_bias(model)
    with torch.no_grad():
        for tid, pieces in zip(new_ids, old_pieces, strict=True):
            emb[tid] = emb[pieces].mean(dim=0)
            if bias is not None:
                bias[tid] = bias[pieces].mean()
    return new_ids


def _output_bias(model) -> torch.Tensor | None:
    """An MLM head's per-token output bias (BERT: ``cls.predictions.bias``), if the model has one."""
    out = model.get_output_embeddings()
    bias = getattr(out, "bias", None) if out is not None else None
    return (
        bias
        if isinstance(bias, torch.Tensor) and bias.shape[0] == model.get_input_embeddings().weight.shape[0]
        else None
    )
