"""Prompting a causal LM without training it: zero-shot and few-shot in-context label scoring (the transfer table's
first two rows; fine-tuning gives the others).

Public surface: :func:`encode`, :func:`label_logprobs` (shared-prefix KV cache), :func:`label_logprobs_recomputed`
(the reference), :func:`choose_demonstrations`, :func:`demonstration_prefix`; the run's stage
(:func:`prompting_stage`, :func:`prompting_inputs`).
"""

from dapt.prompting.demonstrations import choose_demonstrations, demonstration_prefix, fill_template
from dapt.prompting.scoring import Encoded, encode, label_logprobs, label_logprobs_recomputed
from dapt.prompting.stage import prompting_inputs, prompting_stage

__all__ = [
    "Encoded",
    "choose_demonstrations",
    "demonstration_prefix",
    "encode",
    "fill_template",
    "label_logprobs",
    "label_logprobs_recomputed",
    "prompting_inputs",
    "prompting_stage",
]
