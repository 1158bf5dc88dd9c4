"""Fine-tune one (task, model, seed): train on train, choose the epoch on dev, predict test once. One loop for every
task kind: the kind (:mod:`.sequence_kind`, :mod:`.token_kind`) supplies the head, the collation, the dev metric
and the prediction files.

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
from dapt.finetune.batching import bucket_count
from dapt.finetune.loop import fit
from dapt.finetune.model import load_encoder
from dapt.finetune.sequence_kind import SequenceKind
from dapt.finetune.strategies import apply_strategy
from dapt.finetune.subsets import cap_examples, take_train_shots, take_train_subset
from dapt.finetune.token_kind import TokenKind
from dapt.precision import autocast, resolve_precision
from dapt.recipe import FinetuneConfig, TaskConfig
from dapt.tasks import cut_test, load_split

log = logging.getLogger("dapt")


@dataclass
class FinetuneResult:
    out_dir: Path
    summary: dict


def task_kind(task: TaskConfig, splits: dict):
    return (TokenKind if task.is_tagging else SequenceKind)(task, splits)


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
    train_shots: int | None = None,
    max_test_examples: int | None = None,
) -> FinetuneResult:
    """Fine-tune ``model_dir`` on ``task`` with ``seed``; write dev/test predictions and a summary to ``out_dir``.

    ``train_fraction`` < 1 trains on a subset of train (:func:`dapt.finetune.subsets.subset_indices`: stratified by
    label for classification, the same for every variant), with at least ``min_train_steps`` optimizer steps; the
    label space, dev and test stay those of the full task. ``train_shots``: ``k`` train examples per label instead
    (:func:`dapt.tasks.sample_per_label` with the seed's stream: the few-shot set the prompting stage draws).
    ``max_test_examples``: predict only the transfer table's stratified test subset (:func:`dapt.tasks.cut_test`),
    the examples the in-context modes are scored on."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # an MLM checkpoint loaded as a bare encoder warns about its unused head
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = {s: load_split(task, s, data_root) for s in ("train", "dev", "test")}
    if max_test_examples is not None:
        full_test = cut_test(splits["test"], max_test_examples)
        kept = len(splits["test"].examples)
        log.info("%s: %d of %d test examples (transfer.max_test_examples)", task.name, kept, full_test)
    kind = task_kind(task, splits)  # label space / tag set from the full train split
    full_train = len(splits["train"].examples)
    cfg = take_train_subset(
        task.name, splits["train"], kind.subset_labels(), train_fraction, seed, cfg, min_train_steps
    )
    if train_shots is not None:
        cfg = take_train_shots(task.name, splits["train"], train_shots, seed, cfg, min_train_steps)
    # The dev cap holds for every job (a few-shot or learning-curve fine-tune scoring all 2,427 chemprot dev examples
    # every epoch took 6.5 min an epoch on a 135M decoder); the train cap only where train is not already a subset.
    whole_train = train_shots is None and train_fraction == 1
    cap_examples(task.name, splits, kind.subset_labels(), cfg, seed, cap_train=whole_train)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    kind.encode(tokenizer, cfg.max_length)

    encoder = load_encoder(model_dir, cfg.dropout, trust_remote_code)
    # Seeded after loading, so the head's init and the dropout stream depend on the seed alone, not on the variant.
    torch.manual_seed(seed)
    dropout = cfg.dropout if cfg.dropout is not None else getattr(encoder.config, "hidden_dropout_prob", 0.1)
    model = kind.build_model(encoder, dropout)
    device = pick_device()
    precision = resolve_precision(cfg.mixed_precision, device)
    model.to(device).train()
    gen = torch.Generator().manual_seed(seed)
    n_train = len(kind.train_lengths())

    def predict(split: str):
        with autocast(precision, device):
            return kind.predict(model, split, cfg.eval_batch_size)

    def evaluate_dev():
        preds = predict("dev")
        return kind.dev_score(preds), preds

    applied = apply_strategy(model, cfg, n_train)
    model.to(device)
    # Compiled: widths padded to buckets; at most one full and one short batch per width (the short one is the
    # epoch's last, a fixed size), so the shapes are bounded before training starts.
    bucket_max_width = cfg.max_length if cfg.compile else None
    res = fit(
        model,
        cfg,
        -(-n_train // cfg.batch_size),
        kind.train_batches(cfg.batch_size, gen, device, bucket_max_width),
        evaluate_dev,
        task.metric,
        f"finetune {task.name} seed {seed}",
        progress,
        param_groups=applied.param_groups,
        on_epoch_start=applied.on_epoch_start,
        precision=precision,
        compile_shapes=2 * bucket_count(bucket_max_width) if bucket_max_width else None,
    )

    t1 = time.perf_counter()
    # A sweep passes predict_test=False: choosing settings must not even produce test predictions.
    test_preds = predict("test") if predict_test else None
    test_seconds = time.perf_counter() - t1
    kind.write_predictions(out_dir / "predictions_dev.jsonl", "dev", res.best_dev_predictions)
    if test_preds is not None:
        kind.write_predictions(out_dir / "predictions_test.jsonl", "test", test_preds)

    summary = {
        "task": task.name,
        "model_dir": str(model_dir),
        "seed": seed,
        "metric": task.metric,
        "best_epoch": res.best_epoch,
        f"dev_{task.metric}": res.best_dev_score,
        "history": res.history,
        "train_seconds": round(res.train_seconds, 2),
        "device": describe(device),
        "precision": precision.as_record(),
        "compiled": cfg.compile,
        # transformers 5 picks PyTorch's fused scaled-dot-product attention (FlashAttention kernels on CUDA) itself.
        "attention": getattr(encoder.config, "_attn_implementation", None),
        "test_predict_seconds": round(test_seconds, 2),
        "examples": {s: len(d.examples) for s, d in splits.items()},
        "quarantined": {s: d.quarantined for s, d in splits.items()},
        "settings": cfg.model_dump(),
        "train_fraction": train_fraction,
        "train_shots_per_label": train_shots,
        "train_examples_full": full_train,
        "strategy": {
            "name": applied.strategy,
            "why": applied.why,
            "trainable_params": applied.trainable_params,
            "total_params": applied.total_params,
        },
        **kind.summary(),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return FinetuneResult(out_dir=out_dir, summary=summary)
