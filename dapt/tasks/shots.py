"""K examples per label, chosen by a seed alone: the few-shot sets of the transfer table. Few-shot fine-tuning and
few-shot prompting draw from the same stream, so with equal k the fine-tuning set is the demonstrations."""

from __future__ import annotations

import random
from collections import defaultdict


def shots_rng(seed: int) -> random.Random:
    return random.Random(f"demonstrations/{seed}")


def sample_per_label(examples: list, labels: list[str], k_per_label: int, rng: random.Random) -> list:
    """``k_per_label`` examples of each label in ``labels`` order (all of a label's where it has fewer), drawn from
    the examples in their file order. Examples need ``.label``."""
    by_label: dict[str, list] = defaultdict(list)
    for ex in examples:
        by_label[ex.label].append(ex)
    chosen = []
    for label in labels:
        pool = by_label.get(label, [])
        chosen += rng.sample(pool, min(k_per_label, len(pool)))
    return chosen
