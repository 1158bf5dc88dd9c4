"""The classifier put on top of any encoder: dropout + linear on the first token's final hidden state.

Not ``AutoModelForSequenceClassification``: for BERT that uses the pretrained pooler when the checkpoint has one
(all-MiniLM-L6-v2 does) but a fresh, random pooler for a checkpoint saved from ``*ForMaskedLM`` (which has none).
The baseline and the DAPT variant would then start from different heads, and the comparison would measure that.
Here every variant gets the same freshly initialised head for the same seed.
"""

from __future__ import annotations

import torch
from torch import nn


class SequenceClassifier(nn.Module):
    def __init__(self, encoder: nn.Module, num_labels: int, dropout: float):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, num_labels)
        nn.init.normal_(self.head.weight, std=getattr(encoder.config, "initializer_range", 0.02))
        nn.init.zeros_(self.head.bias)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state
        return self.head(self.dropout(hidden[:, 0]))


def load_encoder(model_dir, dropout: float | None, trust_remote_code: bool = False) -> nn.Module:
    """The bare encoder of a checkpoint (an MLM checkpoint's head is left behind)."""
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    if dropout is not None and hasattr(config, "hidden_dropout_prob"):
        config.hidden_dropout_prob = dropout
    return AutoModel.from_pretrained(
        model_dir, config=config, trust_remote_code=trust_remote_code, use_safetensors=True
    )
