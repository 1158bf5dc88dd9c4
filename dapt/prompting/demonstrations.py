"""Few-shot demonstrations: chosen from the train split by the seed alone (never by the variant, so every variant
of a seed is prompted with the same examples), label-balanced, in a seed-shuffled order."""

from __future__ import annotations

from dapt.tasks import sample_per_label, shots_rng


def choose_demonstrations(examples: list, labels: list[str], k_per_label: int, seed: int) -> list:
    """``k_per_label`` examples of each label in ``labels`` (all of a label's where it has fewer), drawn with a
    ``seed``-keyed RNG from the examples in their file order (:func:`dapt.tasks.sample_per_label`, the same draw
    few-shot fine-tuning makes), then shuffled together so no label always comes last.

    Args:
        examples: train examples with ``.label`` and ``.example_id``.
        labels: the label space, in a fixed order (the train split's).
    """
    rng = shots_rng(seed)
    chosen = sample_per_label(examples, labels, k_per_label, rng)
    rng.shuffle(chosen)
    return chosen


def fill_template(template: str, example) -> str:
    """The prompt of one example: ``{text}``, and ``{context}`` where the task gives one."""
    return template.format(text=example.text, context=getattr(example, "context", ""))


def demonstration_prefix(demos: list, template: str, verbalizers: dict[str, str], separator: str = "\n\n") -> str:
    """The demonstrations written as the test prompt will be, each followed by its label's verbalizer."""
    return "".join(fill_template(template, d) + verbalizers[d.label] + separator for d in demos)
