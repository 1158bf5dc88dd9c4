"""The label space of a task, fixed by its train split.

Labels that appear only in dev/test cannot be predicted by a model trained on train; they are kept (so that
every test example is scored, and those count as errors) under ids after the trainable ones, and reported.
Train labels absent from dev or test are reported too (they change what macro-F1 averages over).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property


@dataclass
class LabelSpace:
    labels: list[str]
    """Trainable labels, in a deterministic order (by train frequency, then name)."""
    unseen: list[str] = field(default_factory=list)
    """Labels met in dev/test that train never had: never predicted, always scored as errors."""

    @classmethod
    def from_train(cls, train_labels: list[str]) -> LabelSpace:
        counts = Counter(train_labels)
        return cls(labels=sorted(counts, key=lambda lab: (-counts[lab], lab)))

    @property
    def num_labels(self) -> int:
        return len(self.labels)

    def encode(self, label: str) -> int:
        """Id of a label; a label unseen in train gets a stable id beyond the trainable range."""
        if label in self._index:
            return self._index[label]
        if label not in self.unseen:
            self.unseen.append(label)
        return self.num_labels + self.unseen.index(label)

    def name(self, idx: int) -> str:
        return self.labels[idx] if idx < self.num_labels else self.unseen[idx - self.num_labels]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {lab: i for i, lab in enumerate(self.labels)}


def label_report(space: LabelSpace, splits: dict[str, list[str]]) -> dict:
    """Per split: label counts, labels only there (not in train), and train labels missing there."""
    report: dict = {"train_labels": list(space.labels), "splits": {}}
    for split, labels in splits.items():
        counts = Counter(labels)
        report["splits"][split] = {
            "examples": len(labels),
            "counts": dict(sorted(counts.items())),
            "not_in_train": sorted(lab for lab in counts if lab not in space.labels),
            "train_labels_absent": sorted(lab for lab in space.labels if lab not in counts),
        }
    return report
