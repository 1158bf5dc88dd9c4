"""One FLOPs formula for the whole project; the hardware peak is a parameter.

Training FLOPs per token ~ 6 * N (forward 2N, backward 4N, N = non-embedding parameters) plus the attention
score/value products, 12 * n_layer * hidden * seq_len (Kaplan et al. 2020; PaLM appendix B). Embedding lookups
are free. The vocabulary projection of an MLM head is paid only at the predicted fraction of positions
(``head_fraction`` = the mask rate with the masked-position head, 1.0 for a causal LM); for a 2-layer 128-hidden BERT
over a 30k vocabulary it is more than half of the total, so it is counted.
"""

from __future__ import annotations


def non_embedding_params(model) -> int:
    emb = {id(p) for m in model.modules() if "Embedding" in type(m).__name__ for p in m.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in emb)


def flops_per_token(
    n_params: int, n_layer: int, hidden: int, seq_len: int, vocab_size: int = 0, head_fraction: float = 0.0
) -> float:
    """Training FLOPs (forward + backward) per token.

    Args:
        n_params: non-embedding parameters.
        n_layer, hidden, seq_len: for the attention term.
        vocab_size: size of the output projection (0 for models without one).
        head_fraction: fraction of positions where the output projection is computed.
    """
    return 6.0 * (n_params + head_fraction * vocab_size * hidden) + 12.0 * n_layer * hidden * seq_len


def mfu(tokens_per_second: float, flops_per_tok: float, peak_flops: float) -> float:
    """Model FLOPs utilisation: achieved FLOP/s over the hardware peak."""
    return tokens_per_second * flops_per_tok / peak_flops
