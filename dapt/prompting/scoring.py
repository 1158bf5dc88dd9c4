"""Label scoring for a causal LM without training: each label's verbalizer scored by its log-likelihood after the
prompt (zero-shot), or after k demonstrations and the prompt (few-shot in context).

The demonstrations are the same for every test example of a seed, so their keys and values are computed once and
reused: each example runs only its own prompt on top of the cached prefix, and its labels' verbalizers on top of
that (one batch of ``n_labels`` rows). k-shot then costs about what zero-shot costs, where recomputing the prefix
would cost k times more. The scores equal a full recomputation of ``prefix + prompt + verbalizer`` (tested).

Why not lm-evaluation-harness: it recomputes every request's whole context (no shared-prefix cache across
examples), samples its own few-shot demonstrations per task rather than the seed-fixed, label-balanced set that
must be identical across the variants being compared, and would need each recipe task re-expressed as a harness
YAML task; the scoring rule itself (sum of continuation token log-probs, optionally per token) is the same.

Tokenization follows the harness's convention: context and continuation are encoded separately and concatenated
(the verbalizer carries its leading space), so a label's tokens do not depend on the prompt before it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Encoded:
    """Token ids: the shared prefix (demonstrations, or just BOS), one prompt per example, one verbalizer per
    label."""

    prefix: list[int]
    prompts: list[list[int]]
    verbalizers: list[list[int]]


def encode(tokenizer, prefix: str, prompts: list[str], verbalizers: list[str]) -> Encoded:
    """``prefix`` starts with the tokenizer's BOS where it has one; prompts and verbalizers are encoded without
    special tokens. An empty verbalizer is refused (it would score 0 for every input)."""
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    pre = bos + tokenizer(prefix, add_special_tokens=False)["input_ids"] if prefix else bos
    verbal = [tokenizer(v, add_special_tokens=False)["input_ids"] for v in verbalizers]
    empty = [v for v, ids in zip(verbalizers, verbal, strict=True) if not ids]
    if empty:
        raise ValueError(f"verbalizers {empty!r} encode to no tokens")
    if not pre:
        raise ValueError("a prompt needs at least one token before it (the tokenizer has no BOS; give a prefix)")
    return Encoded(pre, [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts], verbal)


@torch.no_grad()
def label_logprobs(model, enc: Encoded, per_token: bool = False) -> torch.Tensor:
    """``[n_examples, n_labels]`` log-likelihood of each verbalizer after ``prefix + prompt`` (summed over its
    tokens; ``per_token``: divided by their number), with the prefix computed once."""
    model.eval()
    dev = next(model.parameters()).device
    prefix_out = model(input_ids=torch.tensor([enc.prefix], device=dev), use_cache=True)
    prefix_cache, prefix_last = prefix_out.past_key_values, prefix_out.logits[:, -1]
    n_labels, width = len(enc.verbalizers), max(len(v) for v in enc.verbalizers)
    verbal = torch.zeros(n_labels, width, dtype=torch.long, device=dev)
    real = torch.zeros(n_labels, width, dtype=torch.bool, device=dev)
    for j, v in enumerate(enc.verbalizers):
        verbal[j, : len(v)] = torch.tensor(v, device=dev)
        real[j, : len(v)] = True
    scores = torch.empty(len(enc.prompts), n_labels)
    for i, prompt in enumerate(enc.prompts):
        cache = copy.deepcopy(prefix_cache)
        if prompt:
            out = model(input_ids=torch.tensor([prompt], device=dev), cache=cache, use_cache=True)
            cache, last = out.past_key_values, out.logits[:, -1]
        else:
            last = prefix_last
        cache.batch_repeat_interleave(n_labels)
        # Verbalizer token t is predicted by the logits at t-1; the first one by the prompt's last position.
        out = model(input_ids=verbal, cache=cache, use_cache=False)
        logits = torch.cat([last.expand(n_labels, -1)[:, None], out.logits[:, :-1]], dim=1).float()
        token_lp = logits.log_softmax(-1).gather(-1, verbal[..., None])[..., 0] * real
        total = token_lp.sum(1)
        scores[i] = (total / real.sum(1) if per_token else total).cpu()
    return scores


@torch.no_grad()
def label_logprobs_recomputed(model, enc: Encoded, per_token: bool = False) -> torch.Tensor:
    """The reference: every ``prefix + prompt + verbalizer`` run from scratch, one sequence at a time."""
    model.eval()
    dev = next(model.parameters()).device
    scores = torch.empty(len(enc.prompts), len(enc.verbalizers))
    for i, prompt in enumerate(enc.prompts):
        context = enc.prefix + prompt
        for j, v in enumerate(enc.verbalizers):
            logits = model(input_ids=torch.tensor([context + v], device=dev)).logits[0].float()
            lp = logits.log_softmax(-1)
            total = sum(lp[len(context) - 1 + t, tok].item() for t, tok in enumerate(v))
            scores[i, j] = total / len(v) if per_token else total
    return scores
