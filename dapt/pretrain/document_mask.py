"""Attention confined to each document of a packed block.

Packing puts several documents in one block, separated by the separator token. By default every token attends
to the whole block (as in BERT/RoBERTa pretraining with packed sequences); with ``pretrain.document_mask`` each
token attends only to tokens of its own document: a block-diagonal 4D mask, which transformers 5 passes to the
attention unchanged (``create_bidirectional_mask`` returns a 4D mask as-is), for eager and SDPA attention alike.
"""

from __future__ import annotations

import torch


def document_segments(ids: torch.Tensor, sep_id: int) -> torch.Tensor:
    """Segment index per position: the number of separators strictly before it (a separator belongs to the
    document it closes; the leading frame token to the first document)."""
    is_sep = (ids == sep_id).long()
    return torch.cumsum(is_sep, dim=1) - is_sep


def document_attention_mask(ids: torch.Tensor, attn: torch.Tensor, sep_id: int, dtype: torch.dtype) -> torch.Tensor:
    """Additive mask of shape ``(batch, 1, T, T)``: 0 where query and key are in the same document and the key is
    not padding, the dtype's minimum elsewhere. Every position may attend to itself, so padding rows stay finite."""
    seg = document_segments(ids, sep_id)
    allowed = (seg[:, :, None] == seg[:, None, :]) & attn.bool()[:, None, :]
    allowed |= torch.eye(ids.shape[1], dtype=torch.bool, device=ids.device)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=ids.device)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[:, None]
