"""Train-set subsets for learning curves: the same examples for every variant, nested across fractions.

DAPT's gain is expected to be largest when labels are scarce, so a learning curve fine-tunes on e.g. 1%, 10% and
100% of the train set. For the comparison to isolate the pretraining, the subset must depend on the seed and the
fraction only (never on the variant). Subsets are stratified by label, so a 1% subset keeps the label mix instead
of losing the rare relations by chance, and nested: the 1% subset of a seed is inside its 10% subset.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict

import numpy as np

log = logging.getLogger(__name__)


def subset_indices(labels: list[str] | int, fraction: float, seed: int) -> list[int]:
    """Sorted indices of a stratified, nested ``fraction`` of the examples.

    Args:
        labels: each example's label (stratified per label), or the number of examples (no strata, e.g. NER
            sentences).
        fraction: in (0, 1]; each stratum keeps ``max(1, round(fraction * size))`` examples, so every train
            label keeps at least one example.
        seed: the fine-tuning seed; the order within each stratum is a permutation drawn from it, and a subset
            is a prefix of that order (hence nested across fractions).
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    labels = ["" for _ in range(labels)] if isinstance(labels, int) else labels
    strata: dict[str, list[int]] = defaultdict(list)
    for i, lab in enumerate(labels):
        strata[lab].append(i)
    rng = np.random.default_rng([seed, 0x5B5E7])  # a stream of its own: not the one that orders batches
    keep: list[int] = []
    for lab in sorted(strata):
        idx = strata[lab]
        order = rng.permutation(len(idx))
        k = len(idx) if fraction == 1 else min(len(idx), max(1, round(fraction * len(idx))))
        keep.extend(idx[j] for j in order[:k])
    return sorted(keep)


def epochs_for(epochs: int, n_examples: int, batch_size: int, min_train_steps: int) -> int:
    """Epochs to run on a subset: the configured number, raised until at least ``min_train_steps`` optimizer
    steps are taken (1% of a 4k-example task is 2 batches an epoch: 6 epochs would be 12 steps, too few for the
    head to leave its initialisation, and the curve would measure that instead of the encoder)."""
    steps_per_epoch = math.ceil(n_examples / batch_size)
    return max(epochs, math.ceil(min_train_steps / steps_per_epoch))


def take_train_subset(
    task_name: str, train, strata: list[str] | None, fraction: float, seed: int, cfg, min_train_steps: int
):
    """Cut ``train`` (a :class:`~dapt.tasks.formats.SplitData`) to its ``fraction`` subset in place and return the
    fine-tuning config with the epochs :func:`epochs_for` asks for; ``strata``: each example's label (``None``:
    unstratified, e.g. NER sentences). Fraction 1 leaves both unchanged."""
    if fraction >= 1:
        return cfg
    full = len(train.examples)
    keep = subset_indices(strata if strata is not None else full, fraction, seed)
    train.examples = [train.examples[i] for i in keep]
    cfg = cfg.model_copy(update={"epochs": epochs_for(cfg.epochs, len(keep), cfg.batch_size, min_train_steps)})
    log.info("%s: %d of %d train examples (%.3g), %d epochs", task_name, len(keep), full, fraction, cfg.epochs)
    return cfg


def take_train_shots(task_name: str, train, shots: int, seed: int, cfg, min_train_steps: int):
    """Cut ``train`` to ``shots`` examples per label (the seed's few-shot draw, in file order) in place; the epochs
    raised to at least ``min_train_steps`` optimizer steps, as for a learning-curve point."""
    from dapt.tasks import LabelSpace, sample_per_label, shots_rng

    if not train.examples or not hasattr(train.examples[0], "label"):
        raise ValueError(f"{task_name}: few-shot fine-tuning needs labelled sentences (not a tagging task)")
    full = len(train.examples)
    labels = LabelSpace.from_train([e.label for e in train.examples]).labels
    chosen = {id(e) for e in sample_per_label(train.examples, labels, shots, shots_rng(seed))}
    train.examples = [e for e in train.examples if id(e) in chosen]
    cfg = cfg.model_copy(update={"epochs": epochs_for(cfg.epochs, len(chosen), cfg.batch_size, min_train_steps)})
    log.info("%s: %d of %d train examples (%d per label), %d epochs", task_name, len(chosen), full, shots, cfg.epochs)
    return cfg


def cap_examples(
    task_name: str, splits: dict, strata: list[str] | None, cfg, seed: int, cap_train: bool = True
) -> None:
    """``cfg.max_train_examples`` / ``max_eval_examples``: cut train (per seed; only with ``cap_train``) and dev
    (fixed) to label-stratified subsets of about that size, in place. Test is not cut here."""
    train = splits["train"]
    if cap_train and cfg.max_train_examples is not None and len(train.examples) > cfg.max_train_examples:
        full = len(train.examples)
        keep = subset_indices(strata if strata is not None else full, cfg.max_train_examples / full, seed)
        train.examples = [train.examples[i] for i in keep]
        log.info("%s: %d of %d train examples (max_train_examples)", task_name, len(keep), full)
    dev = splits["dev"]
    if cfg.max_eval_examples is not None and len(dev.examples) > cfg.max_eval_examples:
        labels = [e.label for e in dev.examples] if strata is not None else len(dev.examples)
        keep = subset_indices(labels, cfg.max_eval_examples / len(dev.examples), seed=0)  # every seed: one dev set
        log.info("%s: %d of %d dev examples (max_eval_examples)", task_name, len(keep), len(dev.examples))
        dev.examples = [dev.examples[i] for i in keep]
