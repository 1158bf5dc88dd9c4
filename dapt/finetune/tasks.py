"""Readers for labelled task files: JSON lines (chemprot, citation_intent, sciie) and NICTA-PIBOSO.

Records that cannot be used (bad JSON, missing text or label) are quarantined with a reason and counted;
nothing is dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dapt.recipe import TaskConfig


@dataclass(frozen=True, slots=True)
class Example:
    example_id: str
    text: str
    label: str


@dataclass
class SplitData:
    examples: list[Example]
    quarantined: dict[str, int] = field(default_factory=dict)
    """reason -> count of records that could not be used."""

    def quarantine(self, reason: str) -> None:
        self.quarantined[reason] = self.quarantined.get(reason, 0) + 1


class TaskFormatError(ValueError):
    pass


def read_jsonl_task(path: Path, text_field: str = "text", label_field: str = "label") -> SplitData:
    out = SplitData(examples=[])
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                out.quarantine("invalid_json")
                continue
            text, label = (obj.get(text_field), obj.get(label_field)) if isinstance(obj, dict) else (None, None)
            if not isinstance(text, str) or not text.strip():
                out.quarantine("missing_text")
                continue
            if label is None or (isinstance(label, str) and not label.strip()):
                out.quarantine("missing_label")
                continue
            out.examples.append(Example(f"{path.name}:{i}", text, str(label)))
    return out


def read_piboso(path: Path) -> SplitData:
    """``###<abstract id>`` starts an abstract; then ``<label>\\t<sentence>`` per line; a blank line ends it."""
    out = SplitData(examples=[])
    abstract, n_in_abstract = None, 0
    with open(path, encoding="utf-8") as f:
        for i, raw in enumerate(f, start=1):
            line = raw.rstrip("\n")
            if not line.strip():
                abstract, n_in_abstract = None, 0
                continue
            if line.startswith("###"):
                abstract, n_in_abstract = line[3:].strip(), 0
                continue
            label, sep, sentence = line.partition("\t")
            if not sep or not sentence.strip():
                out.quarantine("no_tab_separated_sentence")
                continue
            if not label.strip():
                out.quarantine("missing_label")
                continue
            n_in_abstract += 1
            ex_id = f"{abstract}/{n_in_abstract}" if abstract else f"{path.name}:{i}"
            out.examples.append(Example(ex_id, sentence.strip(), label.strip()))
    return out


def load_split(task: TaskConfig, split: str, data_root: Path) -> SplitData:
    """Read one split of a task (``train``, ``dev`` or ``test``), truncated to ``task.max_examples`` if set."""
    path = data_root / getattr(task, split)
    if task.format == "jsonl":
        data = read_jsonl_task(path, task.text_field, task.label_field)
    elif task.format == "piboso":
        data = read_piboso(path)
    else:  # pragma: no cover - the recipe schema forbids other values
        raise TaskFormatError(f"unknown task format {task.format!r}")
    if not data.examples:
        raise TaskFormatError(f"task {task.name}: no usable examples in {path} (quarantined: {data.quarantined})")
    if task.max_examples is not None:
        data.examples = data.examples[: task.max_examples]
    return data
