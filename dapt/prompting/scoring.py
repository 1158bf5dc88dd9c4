"""Label scoring for a causal LM without training: each label's verbalizer scored by its log-likelihood after the
prompt (zero-shot), or after k demonstrations and the prompt (few-shot in context).

The demonstrations are the same for every test example of a seed, so their keys and values are computed once and
reused: each example runs only its own prompt and its labels' verbalizers on top of the cached prefix, in one
forward whose attention mask keeps the labels from seeing each other. k-shot then costs about what zero-shot costs,
where recomputing the prefix would cost k times more. The scores equal a full recomputation of
``prefix + prompt + verbalizer`` (tested).

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
from itertools import accumulate

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


def _label_block(enc: Encoded, n_prompt: int, n_past: int, additive: bool):
    """Inputs for one forward of ``prompt + every verbalizer`` on top of ``n_past`` cached positions: their
    positions, a 4D attention mask (boolean, True = attend, as scaled-dot-product attention takes it; ``additive``:
    0 / -inf floats, as eager attention adds it) and, per label, the positions whose logits predict its tokens.

    Each verbalizer sees the prefix, the whole prompt and its own earlier tokens, never another label's: so the one
    row scores every label exactly as ``n_labels`` separate continuations would, at the cost of one short forward
    (no copy of the cache per label)."""
    # Label j's tokens sit after the prompt and labels 0..j-1; each is numbered as if it followed the prompt alone.
    starts = list(accumulate((len(v) for v in enc.verbalizers[:-1]), initial=n_prompt))
    pos = [n_past + n_prompt + t for v in enc.verbalizers for t in range(len(v))]
    q = n_prompt + sum(len(v) for v in enc.verbalizers)
    allowed = torch.zeros(q, n_past + q, dtype=torch.bool)
    allowed[:, :n_past] = True  # everything sees the cached prefix
    allowed[:, n_past : n_past + n_prompt] = torch.tril(torch.ones(q, n_prompt, dtype=torch.bool))
    allowed[n_prompt:, n_past : n_past + n_prompt] = True  # every verbalizer token sees the whole prompt
    for s0, v in zip(starts, enc.verbalizers, strict=True):
        span = slice(n_past + s0, n_past + s0 + len(v))
        allowed[s0 : s0 + len(v), span] = torch.tril(torch.ones(len(v), len(v), dtype=torch.bool))
    mask = torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(torch.float32).min) if additive else allowed
    positions = list(range(n_past, n_past + n_prompt)) + pos
    # Token t of a label is predicted at t-1; its first token at the prompt's last position (-1: the prefix's last).
    readers = [[n_prompt - 1, *range(s0, s0 + len(v) - 1)] for s0, v in zip(starts, enc.verbalizers, strict=True)]
    return positions, mask[None, None], readers


@torch.no_grad()
def label_logprobs(model, enc: Encoded, per_token: bool = False) -> torch.Tensor:
    """``[n_examples, n_labels]`` log-likelihood of each verbalizer after ``prefix + prompt`` (summed over its
    tokens; ``per_token``: divided by their number), with the prefix computed once and each example's prompt and all
    its labels in one forward (:func:`_label_block`)."""
    model.eval()
    dev = next(model.parameters()).device
    prefix_out = model(input_ids=torch.tensor([enc.prefix], device=dev), use_cache=True)
    prefix_cache, prefix_last = prefix_out.past_key_values, prefix_out.logits[0, -1].float()
    n_past = len(enc.prefix)
    # A custom 4D mask reaches the attention kernel as given: SDPA reads booleans, eager attention adds floats.
    additive = getattr(model.config, "_attn_implementation", None) == "eager"
    flat_verbal = [t for v in enc.verbalizers for t in v]
    scores = torch.empty(len(enc.prompts), len(enc.verbalizers))
    for i, prompt in enumerate(enc.prompts):
        positions, mask, readers = _label_block(enc, len(prompt), n_past, additive)
        out = model(
            input_ids=torch.tensor([prompt + flat_verbal], device=dev),
            position_ids=torch.tensor([positions], device=dev),
            attention_mask=mask.to(dev),
            cache=copy.deepcopy(prefix_cache),
            use_cache=True,
        )
        # Row 0: the prefix's last position (predicts a label's first token when the prompt is empty); row r+1:
        # position r of this forward.
        lp = torch.cat([prefix_last[None], out.logits[0].float()]).log_softmax(-1)
        for j, (v, at) in enumerate(zip(enc.verbalizers, readers, strict=True)):
            total = lp[torch.tensor(at) + 1, torch.tensor(v)].sum()
            scores[i, j] = (total / len(v) if per_token else total).cpu()
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
