"""Fine-tune one (tagging task, model, seed): BIO/BIOES tags per word from a linear layer over each word's first
subword, epoch chosen on dev span F1, test predicted once.

Subword alignment: only a word's first subword carries its tag in training (the rest are ignored, -100), and
the prediction for a word is read from its first subword. Words cut off by ``max_length`` are predicted ``O``
and counted in the summary, never dropped.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from dapt.device import describe, pick_device
from dapt.metrics import span_prf
from dapt.finetune.batching import iterate, length_grouped_batches, sorted_batches
from dapt.finetune.loop import fit
from dapt.finetune.model import load_encoder
from dapt.finetune.strategies import apply_strategy
from dapt.finetune.subsets import take_train_subset
from dapt.tasks.formats import TaggedSentence, load_split
from dapt.finetune.train import FinetuneResult, run_summary
from dapt.recipe import FinetuneConfig, TaskConfig


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


def run_token_finetune(
    task: TaskConfig,
    model_dir: Path,
    cfg: FinetuneConfig,
    seed: int,
    data_root: Path,
    out_dir: Path,
    trust_remote_code: bool = False,
    progress: bool = True,
    predict_test: bool = True,
    train_fraction: float = 1.0,
    min_train_steps: int = 0,
) -> FinetuneResult:
    """Fine-tune a tagger; write per-sentence dev/test predictions and a summary (same layout as sentence tasks)."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = {s: load_split(task, s, data_root) for s in ("train", "dev", "test")}
    tags = tag_vocabulary(splits["train"].examples)
    tag_id = {t: i for i, t in enumerate(tags)}
    unseen = sorted({t for s in ("dev", "test") for e in splits[s].examples for t in e.tags} - set(tags))
    full_train = len(splits["train"].examples)
    # Sentences, unstratified; the tag set stays that of the full train split.
    cfg = take_train_subset(task.name, splits["train"], None, train_fraction, seed, cfg, min_train_steps)

    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{model_dir}: token tasks need a fast tokenizer (word alignment comes from word_ids())")
    enc = {s: encode_sentences(tokenizer, d.examples, cfg.max_length) for s, d in splits.items()}
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    encoder = load_encoder(model_dir, cfg.dropout, trust_remote_code)
    torch.manual_seed(seed)  # after loading: head init and dropout depend on the seed alone
    dropout = cfg.dropout if cfg.dropout is not None else getattr(encoder.config, "hidden_dropout_prob", 0.1)
    model = TokenClassifier(encoder, len(tags), dropout)
    device = pick_device()
    model.to(device).train()

    train_targets = []
    for sent, ids, first in zip(splits["train"].examples, enc["train"].ids, enc["train"].first_subword, strict=True):
        target = [-100] * len(ids)
        for w, pos in enumerate(first):
            if pos >= 0:
                target[pos] = tag_id[sent.tags[w]]
        train_targets.append(target)
    gen = torch.Generator().manual_seed(seed)
    lengths = [len(s) for s in enc["train"].ids]

    def train_batches():
        for idx, ids, attn, _ in iterate(
            enc["train"].ids, length_grouped_batches(lengths, cfg.batch_size, gen), pad_id
        ):
            target = torch.full(ids.shape, -100, dtype=torch.long)
            for row, j in enumerate(idx):
                target[row, : len(train_targets[j])] = torch.tensor(train_targets[j])
            yield (ids.to(device), attn.to(device)), target.to(device)

    gold = {s: [e.tags for e in d.examples] for s, d in splits.items()}

    def evaluate_dev():
        preds = predict_tags(model, enc["dev"], tags, cfg.eval_batch_size, pad_id)
        return span_prf(preds, gold["dev"], task.tag_scheme)["f1"], preds

    applied = apply_strategy(model, cfg, len(lengths))
    model.to(device)
    res = fit(
        model,
        cfg,
        -(-len(lengths) // cfg.batch_size),
        train_batches,
        evaluate_dev,
        task.metric,
        f"finetune {task.name} seed {seed}",
        progress,
        param_groups=applied.param_groups,
        on_epoch_start=applied.on_epoch_start,
    )
    t1 = time.perf_counter()
    # A sweep passes predict_test=False: choosing settings must not even produce test predictions.
    test_preds = predict_tags(model, enc["test"], tags, cfg.eval_batch_size, pad_id) if predict_test else None
    test_seconds = time.perf_counter() - t1
    for split, preds in (("dev", res.best_dev_predictions), ("test", test_preds)):
        if preds is None:
            continue
        with (out_dir / f"predictions_{split}.jsonl").open("w") as f:
            for ex, p in zip(splits[split].examples, preds, strict=True):
                f.write(json.dumps({"id": ex.example_id, "tokens": ex.tokens, "gold": ex.tags, "pred": p}) + "\n")

    truncated = {s: sum(1 for first in e.first_subword for p in first if p < 0) for s, e in enc.items()}
    summary = {
        **run_summary(
            task, model_dir, seed, res, describe(device), test_seconds, splits, cfg, train_fraction, full_train
        ),
        "strategy": {
            "name": applied.strategy,
            "why": applied.why,
            "trainable_params": applied.trainable_params,
            "total_params": applied.total_params,
        },
        "tags": tags,
        "unseen_tags": unseen,
        "words_truncated": truncated,
        "labels": {"train_labels": tags, "splits": {}},
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return FinetuneResult(out_dir=out_dir, summary=summary)
