"""Sentence (and sentence-pair, relation) classification as a task kind of the one fine-tuning loop: a label per
example from the train split's label space, pooled by the first token or the entity-start markers, scored by the
task's classification metric."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from dapt.device import to_device
from dapt.finetune.batching import iterate, length_grouped_batches, sorted_batches
from dapt.finetune.model import SequenceClassifier
from dapt.metrics import score
from dapt.tasks import LabelSpace, label_report

log = logging.getLogger("dapt.finetune.train")


@dataclass
class Encoded:
    ids: list[list[int]]
    type_ids: list[list[int]] | None
    """Segment ids, only for text pairs (text + context) and only where the tokenizer makes them."""


def encode_examples(tokenizer, examples, max_length: int) -> Encoded:
    """Token ids per example; with context, the pair ``[CLS] text [SEP] context [SEP]`` (longest part cut first)."""
    texts = [e.text for e in examples]
    if any(e.context for e in examples):
        enc = tokenizer(texts, [e.context for e in examples], truncation="longest_first", max_length=max_length)
        return Encoded(enc["input_ids"], enc.get("token_type_ids"))
    return Encoded(tokenizer(texts, truncation=True, max_length=max_length)["input_ids"], None)


@torch.no_grad()
def predict(model: SequenceClassifier, enc: Encoded, batch_size: int, pad_id: int) -> list[int]:
    model.eval()
    preds = [0] * len(enc.ids)
    batches = sorted_batches([len(s) for s in enc.ids], batch_size)
    for idx, ids, attn, types in iterate(enc.ids, batches, pad_id, enc.type_ids):
        dev = next(model.parameters()).device
        logits = model(ids.to(dev), attn.to(dev), types.to(dev) if types is not None else None)
        for j, p in zip(idx, logits.argmax(-1).tolist(), strict=True):
            preds[j] = p
    model.train()
    return preds


class SequenceKind:
    """One label per example."""

    def __init__(self, task, splits: dict):
        self.task, self.splits = task, splits
        self.space = LabelSpace.from_train([e.label for e in splits["train"].examples])
        self.markers = [m for pair in task.entity_markers for m in pair]

    def subset_labels(self) -> list[str]:
        """Labels to stratify a train subset by."""
        return [e.label for e in self.splits["train"].examples]

    def encode(self, tokenizer, max_length: int) -> None:
        """After the train subset is taken: gold ids and token ids of every split."""
        self.gold = {s: [self.space.encode(e.label) for e in d.examples] for s, d in self.splits.items()}
        if self.markers:
            tokenizer.add_tokens(self.markers, special_tokens=True)  # one token each, never split, never lower-cased
        self.tokenizer_len = len(tokenizer)
        self.enc = {s: encode_examples(tokenizer, d.examples, max_length) for s, d in self.splits.items()}
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        t = self.task
        self.start_ids = (
            [tokenizer.convert_tokens_to_ids(pair[0]) for pair in t.entity_markers]
            if t.pooling == "entity_start"
            else None
        )
        self.missing_markers = (
            {s: sum(1 for ids in e.ids if any(m not in ids for m in self.start_ids)) for s, e in self.enc.items()}
            if self.start_ids
            else {}
        )
        if any(self.missing_markers.values()):
            log.warning(
                "%s: examples with an entity marker cut off (pooled at the first token): %s",
                t.name,
                self.missing_markers,
            )

    def build_model(self, encoder, dropout: float) -> torch.nn.Module:
        """Called right after the seed is set: new marker rows and the head are seed-determined."""
        if self.markers:
            # The new rows' initialisation (mean of the old embeddings) is then seed-determined too.
            encoder.resize_token_embeddings(self.tokenizer_len)
        return SequenceClassifier(encoder, self.space.num_labels, dropout, self.start_ids)

    def train_lengths(self) -> list[int]:
        return [len(s) for s in self.enc["train"].ids]

    def train_batches(self, batch_size: int, gen: torch.Generator, device, bucket_max_width: int | None = None):
        """Per epoch, length-grouped batches; ``bucket_max_width``: widths padded to buckets (a compiled model)."""
        train_gold = torch.tensor(self.gold["train"], device=device)
        enc = self.enc["train"]

        def batches():
            order = length_grouped_batches(self.train_lengths(), batch_size, gen)
            for idx, ids, attn, types in iterate(enc.ids, order, self.pad_id, enc.type_ids, bucket_max_width):
                types = to_device(types, device) if types is not None else None
                yield (to_device(ids, device), to_device(attn, device), types), train_gold[idx]

        return batches

    def predict(self, model, split: str, batch_size: int) -> list[int]:
        return predict(model, self.enc[split], batch_size, self.pad_id)

    def dev_score(self, preds: list[int]) -> float:
        return score(self.task.metric, preds, self.gold["dev"])

    def write_predictions(self, path: Path, split: str, preds: list[int]) -> None:
        with path.open("w") as f:
            for ex, g, p in zip(self.splits[split].examples, self.gold[split], preds, strict=True):
                row = {
                    "id": ex.example_id,
                    "gold": g,
                    "pred": p,
                    "gold_label": ex.label,
                    "pred_label": self.space.name(p),
                }
                f.write(json.dumps(row) + "\n")

    def summary(self) -> dict:
        return {
            "labels": label_report(self.space, {s: [e.label for e in d.examples] for s, d in self.splits.items()}),
            "unseen_labels": list(self.space.unseen),
            "pooling": self.task.pooling,
            "entity_markers_added": self.markers,
            "entity_marker_missing": self.missing_markers,
        }
