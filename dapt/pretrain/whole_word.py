"""Word boundaries for whole-word masking, for WordPiece and for BPE / SentencePiece vocabularies.

Masking one piece of ``hydroxy ##chlor ##oquine`` lets the model fill it from the other pieces; masking the whole
word makes it use the context, which is where domain knowledge lives. Hugging Face's whole-word collator only
understands WordPiece's ``##``; here the rule comes from the vocabulary itself:

- WordPiece: a piece that starts with ``##`` continues the previous word.
- Byte-level BPE (GPT-2, RoBERTa, Llama 3, SmolLM) and SentencePiece (``▁``): a piece continues the previous one
  when it carries no word-start marker (``Ġ`` / ``▁``) and both touch with word characters (letters or digits):
  ``Ġun`` ``believ`` ``able`` is one word; ``word`` ``,`` are two (punctuation is its own unit).

Tables are per vocabulary id, so marking a batch is two lookups and a shift, vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

SPACE_MARKERS = ("Ġ", "▁")


@dataclass
class WordBoundaries:
    scheme: str
    """``wordpiece`` or ``bpe``."""
    continues: torch.Tensor
    """bool [vocab]: WordPiece: the piece continues a word. BPE: the piece may continue one (no space marker and
    starts with a word character)."""
    ends_word_char: torch.Tensor
    """bool [vocab]: BPE only: the piece ends with a word character (so the next piece can glue to it)."""

    @classmethod
    def from_tokenizer(cls, tokenizer) -> WordBoundaries:
        vocab = tokenizer.get_vocab()
        size = max(len(tokenizer), max(vocab.values()) + 1)
        pieces = [""] * size
        for piece, i in vocab.items():
            pieces[i] = piece
        special = set(tokenizer.all_special_ids)
        if any(p.startswith("##") for p in pieces):
            cont = torch.tensor([p.startswith("##") and len(p) > 2 for p in pieces])
            return cls("wordpiece", cont, torch.zeros(size, dtype=torch.bool))
        if not any(p[:1] in SPACE_MARKERS for p in pieces):
            raise ValueError(
                f"{type(tokenizer).__name__}: neither WordPiece '##' nor BPE/SentencePiece word markers "
                f"({', '.join(SPACE_MARKERS)}) in the vocabulary; whole-word masking cannot find words"
            )
        cont = torch.tensor(
            [i not in special and p[:1] not in SPACE_MARKERS and p[:1].isalnum() for i, p in enumerate(pieces)]
        )
        ends = torch.tensor([i not in special and p[-1:].isalnum() for i, p in enumerate(pieces)])
        return cls("bpe", cont, ends)

    def word_starts(self, ids: torch.Tensor, maskable: torch.Tensor) -> torch.Tensor:
        """bool [batch, seq]: the maskable positions that begin a word (a word = a start and its continuations)."""
        cont = self.continues[ids]
        if self.scheme == "bpe":
            prev_ends = torch.zeros_like(cont)
            prev_ends[:, 1:] = self.ends_word_char[ids[:, :-1]] & maskable[:, :-1]
            cont = cont & prev_ends
        else:
            prev_maskable = torch.zeros_like(cont)
            prev_maskable[:, 1:] = maskable[:, :-1]
            cont = cont & prev_maskable  # a "##" piece right after [CLS]/[SEP] starts a (broken) word of its own
        return maskable & ~cont


def spread_to_words(chosen_starts: torch.Tensor, word_start: torch.Tensor, maskable: torch.Tensor) -> torch.Tensor:
    """Select every maskable token whose word's first piece is in ``chosen_starts``."""
    pos = torch.arange(word_start.shape[1]).expand_as(word_start)
    # The index of the word start at or before each position (0 before the first start: never chosen there
    # unless position 0 itself starts a word).
    start_of = torch.cummax(torch.where(word_start, pos, torch.zeros_like(pos)), dim=1).values
    return chosen_starts.gather(1, start_of) & maskable
