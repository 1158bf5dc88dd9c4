"""The classifier put on top of any encoder: dropout + linear on the first token's final hidden state, or on the
concatenated states at each entity's opening marker (entity-start pooling for relation classification).

Not ``AutoModelForSequenceClassification``: for BERT that uses the pretrained pooler when the checkpoint has one
(all-MiniLM-L6-v2 does) but a fresh, random pooler for a checkpoint saved from ``*ForMaskedLM`` (which has none).
The baseline and the DAPT variant would then start from different heads, and the comparison would measure that.
Here every variant gets the same freshly initialised head for the same seed.
"""

from __future__ import annotations

import torch
from torch import nn


class SequenceClassifier(nn.Module):
    def __init__(self, encoder: nn.Module, num_labels: int, dropout: float, entity_start_ids: list[int] | None = None):
        """``entity_start_ids``: token ids of each entity's opening marker; pool their first occurrences (in this
        order) instead of the first token. An example whose marker was cut off by ``max_length`` uses the first
        token in its place (counted by the caller)."""
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.entity_start_ids = list(entity_start_ids or [])
        # A decoder's first token has seen nothing: pool its last real token, which has seen the whole text.
        self.pool_last = is_causal(encoder.config)
        self.head = nn.Linear(hidden * max(1, len(self.entity_start_ids)), num_labels)
        nn.init.normal_(self.head.weight, std=getattr(encoder.config, "initializer_range", 0.02))
        nn.init.zeros_(self.head.bias)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        if not self.entity_start_ids:
            if self.pool_last:
                return self.head(self.dropout(hidden[rows, attention_mask.sum(dim=1) - 1]))
            return self.head(self.dropout(hidden[:, 0]))
        # argmax of the 0/1 match is the first occurrence; 0 (the first token) where the marker is absent.
        pooled = [hidden[rows, (input_ids == tid).int().argmax(dim=1)] for tid in self.entity_start_ids]
        return self.head(self.dropout(torch.cat(pooled, dim=-1)))


def is_causal(config) -> bool:
    """A decoder-only LM (GPT-2, Llama, SmolLM...): attention is causal, so the first token sees nothing."""
    return any(a.endswith("ForCausalLM") for a in (getattr(config, "architectures", None) or [])) or (
        config.model_type in {"gpt2", "llama", "mistral", "qwen2", "gpt_neox"}
    )


def load_encoder(model_dir, dropout: float | None, trust_remote_code: bool = False) -> nn.Module:
    """The bare encoder of a checkpoint (an MLM checkpoint's head is left behind)."""
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    if dropout is not None and hasattr(config, "hidden_dropout_prob"):
        config.hidden_dropout_prob = dropout
    # fp32 whatever dtype the checkpoint was saved in (a bf16 export): the trained weights are the fp32 masters,
    # and bf16, where it runs, is autocast's.
    return AutoModel.from_pretrained(
        model_dir, config=config, trust_remote_code=trust_remote_code, use_safetensors=True, dtype=torch.float32
    )
