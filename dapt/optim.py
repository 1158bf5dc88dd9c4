"""Optimizer pieces shared by pretraining and fine-tuning: AdamW, weight-decay groups and the LR schedule."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch

# Biases and normalisation weights are not decayed (the usual BERT/AdamW practice).
NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")

# Devices with a fused AdamW kernel in torch (CPU since 2.4); elsewhere (mps, xpu...) the default implementation.
FUSED_DEVICES = ("cuda", "cpu")


def adamw(groups: list[dict], lr: float, device: torch.device, **kwargs) -> torch.optim.AdamW:
    """torch's fused AdamW on CUDA (one launch for all parameters instead of several per tensor) and on CPU, where
    the default is a per-tensor loop: on MiniLM's 22.7M parameters (2 threads, quiet AVX2 EPYC) an optimizer step
    takes 94 ms unfused and 17 ms fused, same updates (tests/test_optim.py). Never DeepSpeed's FusedAdam/CPUAdam:
    those JIT-compile."""
    return torch.optim.AdamW(groups, lr=lr, fused=device.type in FUSED_DEVICES, **kwargs)


@contextlib.contextmanager
def unfused_adamw() -> Iterator[None]:
    """Within this block :func:`adamw` uses torch's default (unfused) implementation everywhere: what dapt ran before
    the fused CPU kernel, kept reachable so the benchmarks can measure the difference on the same process."""
    global FUSED_DEVICES
    saved, FUSED_DEVICES = FUSED_DEVICES, ()
    try:
        yield
    finally:
        FUSED_DEVICES = saved


def decay_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [
        {"params": [p for n, p in params if not n.endswith(NO_DECAY)], "weight_decay": weight_decay},
        {"params": [p for n, p in params if n.endswith(NO_DECAY)], "weight_decay": 0.0},
    ]


def linear_warmup_decay(total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    """LR factor: linear warmup over ``warmup_steps``, then linear decay to 0 at ``total_steps``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor
