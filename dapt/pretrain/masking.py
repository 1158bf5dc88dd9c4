"""BERT-style token masking for MLM: choose ``mask_prob`` of the real tokens; of those 80% -> [MASK],
10% -> a random token, 10% unchanged. Same recipe as ``DataCollatorForLanguageModeling``, but with an explicit
generator so a seed fixes the masks independently of any other RNG consumer."""

from __future__ import annotations

import torch

IGNORE_INDEX = -100


def mask_tokens(
    input_ids: torch.Tensor,
    maskable: torch.Tensor,
    mask_token_id: int,
    vocab_size: int,
    mask_prob: float,
    generator: torch.Generator,
    word_start: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(masked_input_ids, labels)``; labels are ``-100`` wherever no prediction is asked.

    Args:
        input_ids: ``[batch, seq]`` token ids.
        maskable: bool ``[batch, seq]``: True for real tokens (not special, not padding).
        mask_token_id: the tokenizer's [MASK] id.
        vocab_size: random replacements are drawn from ``[0, vocab_size)``.
        mask_prob: fraction of maskable tokens to predict.
        generator: the source of randomness (seeded by the caller).
        word_start: whole-word masking: bool ``[batch, seq]``, the positions that begin a word
            (:class:`dapt.pretrain.whole_word.WordBoundaries`); ``mask_prob`` of the words are chosen, each with all
            of its pieces. ``None``: pieces are chosen independently.
    """
    probs = torch.full(input_ids.shape, mask_prob)
    selected = torch.bernoulli(probs, generator=generator).bool() & maskable
    if word_start is not None:
        from dapt.pretrain.whole_word import spread_to_words

        selected = spread_to_words(selected & word_start, word_start, maskable)
    labels = torch.where(selected, input_ids, torch.full_like(input_ids, IGNORE_INDEX))
    inputs = input_ids.clone()
    to_mask = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool() & selected
    inputs[to_mask] = mask_token_id
    to_random = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool() & selected & ~to_mask
    inputs[to_random] = torch.randint(vocab_size, input_ids.shape, generator=generator, dtype=input_ids.dtype)[
        to_random
    ]
    return inputs, labels
