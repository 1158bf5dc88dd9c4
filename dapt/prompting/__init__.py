"""Prompting a causal LM without training it: zero-shot and few-shot in-context label scoring (the transfer table's
first two rows; fine-tuning gives the others).

Public surface: :func:`encode`, :func:`label_logprobs` (shared-prefix KV cache), :func:`label_logprobs_recomputed`
(the reference), :func:`choose_demonstrations`, :func:`demonstration_prefix`.
"""

from dapt.prompting.demonstrations import choose_demonstrations, demonstration_prefix
from dapt.prompting.scoring import Encoded, encode, label_logprobs, label_logprobs_recomputed

__all__ = [
    "Encoded",
    "choose_demonstrations",
    "demonstration_prefix",
    "encode",
    "label_logprobs",
    "label_logprobs_recomputed",
]
