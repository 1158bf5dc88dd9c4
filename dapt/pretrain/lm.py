"""The language model and its objective: loading with the right head, the loss module that DDP/DeepSpeed wrap,
and held-out perplexity."""

from __future__ import annotations

from pathlib import Path

import torch

from dapt.metrics import perplexity
from dapt.pretrain.data import lm_batch, model_mask, n_predicted
from dapt.pretrain.masked_head import mlm_loss
from dapt.recipe import PretrainConfig


def load_lm(model_dir: Path, objective: str, trust_remote_code: bool = False):
    """The model with the head its objective trains: masked-LM (``mlm``) or causal-LM (``clm``)."""
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM

    auto = AutoModelForCausalLM if objective == "clm" else AutoModelForMaskedLM
    # fp32 masters whatever dtype the checkpoint was saved in; bf16 runs as autocast (accelerate's, DeepSpeed's).
    return auto.from_pretrained(
        model_dir, trust_remote_code=trust_remote_code, use_safetensors=True, dtype=torch.float32
    )


class LMLoss(torch.nn.Module):
    """The model and its objective as one module, so DDP and DeepSpeed wrap the whole forward (the masked-position
    head calls the encoder and the head separately; outside a wrapped forward, DDP would not sync them)."""

    def __init__(self, model: torch.nn.Module, objective: str):
        super().__init__()
        self.model = model
        self.objective = objective

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.objective == "clm":
            return self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
        return mlm_loss(self.model, input_ids, attention_mask, labels)


@torch.no_grad()
def heldout_perplexity(loss_fn, input_ids, n_real, cfg: PretrainConfig, tokenizer, batch_size: int = 64) -> float:
    """Perplexity on held-out blocks: exp of the mean loss per predicted token. MLM: masked tokens, with a fixed
    mask seed so that every evaluation of every model sees the same masks; CLM: every next token. Every process
    evaluates the same blocks (ZeRO-3 needs all of them in every forward)."""
    if len(input_ids) == 0:
        return float("nan")
    loss_fn.eval()
    gen = torch.Generator().manual_seed(12345)
    positions = torch.arange(input_ids.shape[1])
    batch_loss, batch_n = [], []
    dev = next(loss_fn.parameters()).device
    for i in range(0, len(input_ids), batch_size):
        ids = input_ids[i : i + batch_size]
        attn = (positions[None, :] < n_real[i : i + batch_size][:, None]).long()
        inputs, labels = lm_batch(ids, attn, tokenizer, cfg, gen)
        n = n_predicted(labels, cfg.objective)
        if n:
            mask = model_mask(loss_fn, ids, attn, cfg, tokenizer)
            batch_loss.append(float(loss_fn(inputs.to(dev), mask.to(dev), labels.to(dev))))
            batch_n.append(n)
    loss_fn.train()
    return perplexity(batch_loss, batch_n) if batch_n else float("nan")
