"""Fine-tune one (task, model, seed): train on train, choose the epoch on dev, predict test once.

Everything that could differ between variants is a function of the seed alone: the head's initialisation, the
dropout stream and the data order. The test split is predicted once, with the dev-selected weights; scoring it is
the evaluation stage's job.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from dapt.device import describe, pick_device
from dapt.metrics import score
from dapt.finetune.batching import iterate, length_grouped_batches, sorted_batches
from dapt.tasks.labels import LabelSpace, label_report
from dapt.finetune.loop import fit
from dapt.finetune.model import SequenceClassifier, load_encoder
from dapt.finetune.strategies import apply_strategy
from dapt.finetune.subsets import take_train_subset
from dapt.tasks.formats import load_split
from dapt.recipe import FinetuneConfig, TaskConfig

log = logging.getLogger(__name__)


@dataclass
class FinetuneResult:
    out_dir: Path
    summary: dict


@dataclass
class Encoded:
    ids: list[list[int]]
    type_ids: list[list[int]] | None
    """Segment ids, only for text pairs (text + context) and only where the tokenizer makes them."""


def run_summary(
    task, model_dir, seed: int, res, device: str, test_seconds: float, splits: dict, cfg, fraction: float, full: int
) -> dict:
    """The summary fields every fine-tuning run writes, sentence or token task (``fraction`` of the ``full`` train
    examples)."""
    return {
        "task": task.name,
        "model_dir": str(model_dir),
        "seed": seed,
        "metric": task.metric,
        "best_epoch": res.best_epoch,
        f"dev_{task.metric}": res.best_dev_score,
        "history": res.history,
        "train_seconds": round(res.train_seconds, 2),
        "device": device,
        "test_predict_seconds": round(test_seconds, 2),
        "examples": {s: len(d.examples) for s, d in splits.items()},
        "quarantined": {s: d.quarantined for s, d in splits.items()},
        "settings": cfg.model_dump(),
        "train_fraction": fraction,
        "train_examples_full": full,
    }


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


def _write_predictions(path: Path, examples, gold: list[int], preds: list[int], space: LabelSpace) -> None:
    with path.open("w") as f:
        for ex, g, p in zip(examples, gold, preds, strict=True):
            f.write(
                json.dumps(
                    {
                        "id": ex.example_id,
                        "gold": g,
                        "pred": p,
                        "gold_label": ex.label,
                        "pred_label": space.name(p),
                    }
                )
                + "\n"
            )


def run_finetune(
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
    """Fine-tune ``model_dir`` on ``task`` with ``seed``; write dev/test predictions and a summary to ``out_dir``.

    ``train_fraction`` < 1 trains on a stratified subset of train (:func:`dapt.finetune.subsets.subset_indices`:
    the same for every variant), with at least ``min_train_steps`` optimizer steps; the label space, dev and test
    stay those of the full task."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # an MLM checkpoint loaded as a bare encoder warns about its unused head
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = {s: load_split(task, s, data_root) for s in ("train", "dev", "test")}
    space = LabelSpace.from_train([e.label for e in splits["train"].examples])
    full_train = len(splits["train"].examples)
    labels = [e.label for e in splits["train"].examples]
    cfg = take_train_subset(task.name, splits["train"], labels, train_fraction, seed, cfg, min_train_steps)
    gold = {s: [space.encode(e.label) for e in d.examples] for s, d in splits.items()}

    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    markers = [m for pair in task.entity_markers for m in pair]
    if markers:
        tokenizer.add_tokens(markers, special_tokens=True)  # one token each, never split, never lower-cased
    seqs = {s: encode_examples(tokenizer, d.examples, cfg.max_length) for s, d in splits.items()}
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    start_ids = (
        [tokenizer.convert_tokens_to_ids(pair[0]) for pair in task.entity_markers]
        if task.pooling == "entity_start"
        else None
    )
    missing_markers = (
        {s: sum(1 for ids in e.ids if any(t not in ids for t in start_ids)) for s, e in seqs.items()}
        if start_ids
        else {}
    )
    if any(missing_markers.values()):
        log.warning(
            "%s: examples with an entity marker cut off (pooled at the first token): %s", task.name, missing_markers
        )

    encoder = load_encoder(model_dir, cfg.dropout, trust_remote_code)
    # Seeded after loading, so the head's init and the dropout stream depend on the seed alone, not on the variant.
    torch.manual_seed(seed)
    if markers:
        # After seeding: the new rows' initialisation (mean of the old embeddings) is then seed-determined too.
        encoder.resize_token_embeddings(len(tokenizer))
    head_dropout = cfg.dropout if cfg.dropout is not None else getattr(encoder.config, "hidden_dropout_prob", 0.1)
    model = SequenceClassifier(encoder, space.num_labels, head_dropout, start_ids)
    device = pick_device()
    model.to(device).train()

    gen = torch.Generator().manual_seed(seed)
    lengths = [len(s) for s in seqs["train"].ids]
    train_gold = torch.tensor(gold["train"], device=device)

    def train_batches():
        batches = length_grouped_batches(lengths, cfg.batch_size, gen)
        for idx, ids, attn, types in iterate(seqs["train"].ids, batches, pad_id, seqs["train"].type_ids):
            types = types.to(device) if types is not None else None
            yield (ids.to(device), attn.to(device), types), train_gold[idx]

    def evaluate_dev():
        preds = predict(model, seqs["dev"], cfg.eval_batch_size, pad_id)
        return score(task.metric, preds, gold["dev"]), preds

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
    test_preds = predict(model, seqs["test"], cfg.eval_batch_size, pad_id) if predict_test else None
    test_seconds = time.perf_counter() - t1
    _write_predictions(
        out_dir / "predictions_dev.jsonl", splits["dev"].examples, gold["dev"], res.best_dev_predictions, space
    )
    if test_preds is not None:
        _write_predictions(out_dir / "predictions_test.jsonl", splits["test"].examples, gold["test"], test_preds, space)

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
        "labels": label_report(space, {s: [e.label for e in d.examples] for s, d in splits.items()}),
        "unseen_labels": list(space.unseen),
        "pooling": task.pooling,
        "entity_markers_added": markers,
        "entity_marker_missing": missing_markers,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return FinetuneResult(out_dir=out_dir, summary=summary)
