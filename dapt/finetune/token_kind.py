"""Tagging (BIO/BIOES per word) as a task kind of the one fine-tuning loop: a linear layer over each word's first
subword, scored by strict span F1.

Subword alignment: only a word's first subword carries its tag in training (the rest are ignored, -100), and
the prediction for a word is read from its first subword. Words cut off by ``max_length`` are predicted ``O``
and counted in the summary, never dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from dapt.device import to_device
from dapt.finetune.batching import iterate, length_grouped_batches, sorted_batches
from dapt.metrics import span_prf
from dapt.tasks import TaggedSentence


class TokenClassifier(nn.Module):
    def __init__(self, encoder: nn.Module, num_tags: int, dropout: float):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_tags)
        nn.init.normal_(self.head.weight, std=getattr(encoder.config, "initializer_range", 0.02))
        nn.init.zeros_(self.head.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(self.dropout(hidden))


@dataclass
class EncodedSentences:
    ids: list[list[int]]
    first_subword: list[list[int]]
    """Per sentence, the position of each word's first subword (-1 for words cut off by max_length)."""


def tag_vocabulary(train: list[TaggedSentence]) -> list[str]:
    """Tags in a fixed order: ``O`` first, then the rest sorted. A dev/test tag never seen in train stays in the
    gold tags (its spans count as misses: a tagger cannot emit it) and is reported as ``unseen_tags``."""
    return ["O", *sorted({t for s in train for t in s.tags} - {"O"})]


def encode_sentences(tokenizer, sentences: list[TaggedSentence], max_length: int) -> EncodedSentences:
    enc = tokenizer([s.tokens for s in sentences], is_split_into_words=True, truncation=True, max_length=max_length)
    firsts = []
    for i, s in enumerate(sentences):
        first = [-1] * len(s.tokens)
        for pos, w in enumerate(enc.word_ids(i)):
            if w is not None and first[w] == -1:
                first[w] = pos
        firsts.append(first)
    return EncodedSentences(enc["input_ids"], firsts)


@torch.no_grad()
def predict_tags(model: TokenClassifier, enc: EncodedSentences, tags: list[str], batch_size: int, pad_id: int):
    model.eval()
    dev = next(model.parameters()).device
    out: list[list[str]] = [[] for _ in enc.ids]
    for idx, ids, attn, _ in iterate(enc.ids, sorted_batches([len(s) for s in enc.ids], batch_size), pad_id):
        best = model(ids.to(dev), attn.to(dev)).argmax(-1).tolist()
        for row, j in enumerate(idx):
            out[j] = [tags[best[row][p]] if p >= 0 else "O" for p in enc.first_subword[j]]
    model.train()
    return out


class TokenKind:
    """One tag per word."""

    def __init__(self, task, splits: dict):
        self.task, self.splits = task, splits
        self.tags = tag_vocabulary(splits["train"].examples)
        self.tag_id = {t: i for i, t in enumerate(self.tags)}
        self.unseen = sorted({t for s in ("dev", "test") for e in splits[s].examples for t in e.tags} - set(self.tags))

    def subset_labels(self) -> None:
        return None  # sentences, unstratified; the tag set stays that of the full train split

    def encode(self, tokenizer, max_length: int) -> None:
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"{tokenizer.name_or_path}: token tasks need a fast tokenizer (word alignment comes from word_ids())"
            )
        self.enc = {s: encode_sentences(tokenizer, d.examples, max_length) for s, d in self.splits.items()}
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.gold = {s: [e.tags for e in d.examples] for s, d in self.splits.items()}

    def build_model(self, encoder, dropout: float) -> torch.nn.Module:
        return TokenClassifier(encoder, len(self.tags), dropout)

    def train_lengths(self) -> list[int]:
        return [len(s) for s in self.enc["train"].ids]

    def train_batches(self, batch_size: int, gen: torch.Generator, device, bucket_max_width: int | None = None):
        """Per epoch, length-grouped batches; ``bucket_max_width``: widths padded to buckets (a compiled model)."""
        enc = self.enc["train"]
        targets = []
        for sent, ids, first in zip(self.splits["train"].examples, enc.ids, enc.first_subword, strict=True):
            target = [-100] * len(ids)
            for w, pos in enumerate(first):
                if pos >= 0:
                    target[pos] = self.tag_id[sent.tags[w]]
            targets.append(target)

        def batches():
            order = length_grouped_batches(self.train_lengths(), batch_size, gen)
            for idx, ids, attn, _ in iterate(enc.ids, order, self.pad_id, None, bucket_max_width):
                target = torch.full(ids.shape, -100, dtype=torch.long)
                for row, j in enumerate(idx):
                    target[row, : len(targets[j])] = torch.tensor(targets[j])
                yield (to_device(ids, device), to_device(attn, device)), to_device(target, device)

        return batches

    def predict(self, model, split: str, batch_size: int) -> list[list[str]]:
        return predict_tags(model, self.enc[split], self.tags, batch_size, self.pad_id)

    def dev_score(self, preds: list[list[str]]) -> float:
        return span_prf(preds, self.gold["dev"], self.task.tag_scheme)["f1"]

    def write_predictions(self, path: Path, split: str, preds: list[list[str]]) -> None:
        with path.open("w") as f:
            for ex, p in zip(self.splits[split].examples, preds, strict=True):
                f.write(json.dumps({"id": ex.example_id, "tokens": ex.tokens, "gold": ex.tags, "pred": p}) + "\n")

    def summary(self) -> dict:
        truncated = {s: sum(1 for first in e.first_subword for p in first if p < 0) for s, e in self.enc.items()}
        return {
            "tags": self.tags,
            "unseen_tags": self.unseen,
            "words_truncated": truncated,
            "labels": {"train_labels": self.tags, "splits": {}},
        }
