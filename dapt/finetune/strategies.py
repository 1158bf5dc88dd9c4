"""Fine-tuning strategies (the seed's table), applied to a classifier ``model.encoder`` + ``model.head``.

- ``full``: every parameter trains.
- ``frozen`` (feature extraction): the encoder is frozen; only the head trains.
- ``partial``: the last ``partial_layers`` transformer blocks and the head train.
- ``lora``: low-rank adapters (peft) on the attention projections, plus the head; the encoder's weights stay fixed.
- ``gradual`` (ULMFiT gradual unfreezing): epoch 1 trains the head, each later epoch unfreezes one more block
  from the top (the embeddings last).
- ``discriminative``: everything trains, the learning rate shrinks by ``layer_lr_decay`` per block down from the
  top (the embeddings get the smallest).
- ``auto``: by the size of the labelled train set: under 500 examples ``frozen``, under 5,000 ``partial``,
  otherwise ``full``; the choice and the reason are logged and saved in the summary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from dapt.optim import NO_DECAY
from dapt.recipe import FinetuneConfig

log = logging.getLogger(__name__)

AUTO_FROZEN_BELOW = 500
AUTO_PARTIAL_BELOW = 5_000


def resolve_strategy(cfg: FinetuneConfig, n_train: int) -> tuple[str, str]:
    """``(strategy, why)``."""
    if cfg.strategy != "auto":
        return cfg.strategy, "set in the recipe"
    if n_train < AUTO_FROZEN_BELOW:
        return "frozen", f"auto: {n_train:,} train examples < {AUTO_FROZEN_BELOW:,}"
    if n_train < AUTO_PARTIAL_BELOW:
        return "partial", f"auto: {n_train:,} train examples < {AUTO_PARTIAL_BELOW:,}"
    return "full", f"auto: {n_train:,} train examples >= {AUTO_PARTIAL_BELOW:,}"


def encoder_blocks(encoder: nn.Module) -> list[nn.Module]:
    """The transformer blocks, bottom to top: the ModuleList with ``num_hidden_layers`` entries."""
    n = getattr(encoder.config, "num_hidden_layers", None)
    for module in encoder.modules():
        if isinstance(module, nn.ModuleList) and len(module) == n:
            return list(module)
    raise NotImplementedError(f"cannot find the {n} transformer blocks of {type(encoder).__name__}")


def embeddings(encoder: nn.Module) -> nn.Module:
    emb = getattr(encoder, "embeddings", None) or encoder.get_input_embeddings()
    return emb


@dataclass
class Applied:
    strategy: str
    why: str
    param_groups: list[dict]
    on_epoch_start: Callable[[int], None] | None = None
    trainable_params: int = 0
    total_params: int = 0
    notes: dict = field(default_factory=dict)


def _set(module: nn.Module, trainable: bool) -> None:
    for p in module.parameters():
        p.requires_grad = trainable


def _groups(named: list[tuple[str, nn.Parameter]], lr: float, weight_decay: float) -> list[dict]:
    decay = [p for n, p in named if not n.endswith(NO_DECAY)]
    no_decay = [p for n, p in named if n.endswith(NO_DECAY)]
    return [
        g
        for g in (
            {"params": decay, "weight_decay": weight_decay, "lr": lr},
            {"params": no_decay, "weight_decay": 0.0, "lr": lr},
        )
        if g["params"]
    ]


def apply_strategy(model: nn.Module, cfg: FinetuneConfig, n_train: int) -> Applied:
    """Freeze/wrap ``model`` for the strategy and return the optimizer's parameter groups (each with its ``lr``)."""
    strategy, why = resolve_strategy(cfg, n_train)
    lr, wd = cfg.learning_rate, cfg.weight_decay
    on_epoch_start = None
    if strategy == "lora":
        model.encoder = _lora(model.encoder, cfg)
    blocks = encoder_blocks(model.encoder)
    if strategy == "full" or strategy == "discriminative":
        _set(model, True)
    elif strategy in ("frozen", "gradual"):
        _set(model.encoder, False)
        _set(model.head, True)
    elif strategy == "partial":
        _set(model.encoder, False)
        for b in blocks[len(blocks) - min(cfg.partial_layers, len(blocks)) :]:
            _set(b, True)
        _set(model.head, True)
    elif strategy == "lora":
        _set(model.head, True)  # peft already left only the adapters trainable in the encoder
    else:  # pragma: no cover - the recipe schema forbids other values
        raise ValueError(f"unknown strategy {strategy!r}")

    if strategy == "discriminative":
        # Top block at lr, each block below times layer_lr_decay, embeddings below the bottom block.
        groups = _groups(list(model.head.named_parameters()), lr, wd)
        depth = len(blocks)
        for i, b in enumerate(blocks):
            groups += _groups(list(b.named_parameters()), lr * cfg.layer_lr_decay ** (depth - 1 - i), wd)
        groups += _groups(list(embeddings(model.encoder).named_parameters()), lr * cfg.layer_lr_decay**depth, wd)
        covered = {id(p) for g in groups for p in g["params"]}
        rest = [(n, p) for n, p in model.named_parameters() if id(p) not in covered and p.requires_grad]
        groups += _groups(rest, lr, wd)  # e.g. a pooler or final norm outside the blocks
    else:
        # Frozen parameters are included too, so gradual unfreezing can switch them on without a new optimizer
        # (AdamW skips parameters whose grad is None).
        groups = _groups(list(model.named_parameters()), lr, wd)
        if strategy not in ("gradual",):
            groups = [{**g, "params": [p for p in g["params"] if p.requires_grad]} for g in groups]
            groups = [g for g in groups if g["params"]]

    if strategy == "gradual":
        order = [*reversed(blocks), embeddings(model.encoder)]

        def on_epoch_start(epoch: int) -> None:
            for m in order[: epoch - 1]:  # epoch 1: head only; epoch k: the top k-1 blocks too
                _set(m, True)

    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info(
        "fine-tuning strategy %s (%s): %s of %s parameters trainable", strategy, why, f"{trainable:,}", f"{total:,}"
    )
    return Applied(strategy, why, groups, on_epoch_start, trainable, total)


def _lora(encoder: nn.Module, cfg: FinetuneConfig) -> nn.Module:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=list(cfg.lora_targets),
        bias="none",
    )
    peft_model = get_peft_model(encoder, config)
    # The classifier calls the encoder directly; the LoRA layers are injected in place, so the underlying model
    # (with adapters) is what we keep; `.config` stays reachable for the head's size.
    return peft_model.base_model.model
