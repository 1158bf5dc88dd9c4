"""The transfer table's test subset: on a small machine the in-context modes score a label-stratified subset of
test, and every other mode (few-shot and full fine-tuning, the floors) is scored on the same examples, so a row's
cells, their shares and the floors compare like with like."""

from __future__ import annotations

import numpy as np


def stratified_test_subset(labels: list[str], n: int | None) -> list[int]:
    """A label-stratified subset of ``n`` test examples (each label's share kept, at least one each), from a fixed
    stream: the same examples for every variant, seed and mode. Sorted; None or n >= len: all of them."""
    if n is None or n >= len(labels):
        return list(range(len(labels)))
    rng = np.random.default_rng(0x7E57)
    by_label: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by_label.setdefault(lab, []).append(i)
    keep: list[int] = []
    for lab in sorted(by_label):
        idx = by_label[lab]
        k = min(len(idx), max(1, round(n * len(idx) / len(labels))))
        keep += [idx[j] for j in rng.permutation(len(idx))[:k]]
    return sorted(keep)


def cut_test(test, n: int | None) -> int:
    """Restrict a ``SplitData`` of labelled examples to :func:`stratified_test_subset` in place; returns the size
    it had. Tagging tasks have no transfer table: their test is never cut."""
    full = len(test.examples)
    if n is not None and n < full:
        keep = stratified_test_subset([e.label for e in test.examples], n)
        test.examples = [test.examples[i] for i in keep]
    return full
