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
    context: str = ""
    """Second segment given with the text (e.g. the neighbouring sentences of an abstract); empty for none."""


@dataclass(frozen=True, slots=True)
class TaggedSentence:
    example_id: str
    tokens: list[str]
    tags: list[str]


@dataclass
class SplitData:
    examples: list[Example] | list[TaggedSentence]
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


def read_csv_task(
    path: Path, label_column: int, text_columns: list[int], label_names: list[str] | None = None
) -> SplitData:
    """A labelled CSV without header (AG News: ``"3","title","description"``): the text columns joined by a space;
    with ``label_names``, the label cell is a 1-based index into them. Rows that do not fit are quarantined."""
    import csv

    out = SplitData(examples=[])
    with open(path, encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f), start=1):
            if not row:
                continue
            if max(label_column, *text_columns) >= len(row):
                out.quarantine("missing_column")
                continue
            text = " ".join(row[c].strip() for c in text_columns if row[c].strip())
            label = row[label_column].strip()
            if label_names is not None:
                if not label.isdigit() or not 1 <= int(label) <= len(label_names):
                    out.quarantine("unknown_label")
                    continue
                label = label_names[int(label) - 1]
            if not text or not label:
                out.quarantine("missing_text" if not text else "missing_label")
                continue
            out.examples.append(Example(f"{path.name}:{i}", text, label))
    return out


def read_piboso(path: Path, context_sentences: int = 0) -> SplitData:
    """``###<abstract id>`` starts an abstract; then ``<label>\\t<sentence>`` per line; a blank line ends it.

    Args:
        context_sentences: give each sentence its ``k`` preceding and ``k`` following sentences of the same
            abstract as context (the role of a sentence depends on where it stands).
    """
    out = SplitData(examples=[])
    abstracts: list[list[tuple[str, str, str]]] = []
    current: list[tuple[str, str, str]] = []
    abstract = None
    with open(path, encoding="utf-8") as f:
        for i, raw in enumerate(f, start=1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("###"):
                if current:
                    abstracts.append(current)
                current, abstract = [], (line[3:].strip() if line.startswith("###") else None)
                continue
            label, sep, sentence = line.partition("\t")
            if not sep or not sentence.strip():
                out.quarantine("no_tab_separated_sentence")
                continue
            if not label.strip():
                out.quarantine("missing_label")
                continue
            ex_id = f"{abstract}/{len(current) + 1}" if abstract else f"{path.name}:{i}"
            current.append((ex_id, sentence.strip(), label.strip()))
    if current:
        abstracts.append(current)
    k = context_sentences
    for sents in abstracts:
        for j, (ex_id, sentence, label) in enumerate(sents):
            context = ""
            if k:
                before = " ".join(s for _, s, _ in sents[max(0, j - k) : j])
                after = " ".join(s for _, s, _ in sents[j + 1 : j + 1 + k])
                # Position words make "first sentence" / "last sentence" visible to a bag-of-words floor too.
                context = f"sentence {j + 1} of {len(sents)} . before : {before} . after : {after}"
            out.examples.append(Example(ex_id, sentence, label, context))
    return out


def read_conll(path: Path, token_column: int = 0, tag_column: int = -1) -> SplitData:
    """CoNLL/IOB: one token per line, columns split on tabs (else on spaces); a blank line ends a sentence;
    ``-DOCSTART-`` lines are document markers, not tokens. A sentence with a line lacking the columns is
    quarantined whole (a partial sentence would shift its spans)."""
    out = SplitData(examples=[])
    tokens: list[str] = []
    tags: list[str] = []
    bad = False
    start = 1

    def flush() -> None:
        nonlocal tokens, tags, bad
        if bad:
            out.quarantine("malformed_line")
        elif tokens:
            out.examples.append(TaggedSentence(f"{path.name}:{start}", tokens, tags))
        tokens, tags, bad = [], [], False

    with open(path, encoding="utf-8") as f:
        for i, raw in enumerate(f, start=1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("-DOCSTART-"):
                flush()
                start = i + 1
                continue
            cols = line.split("\t") if "\t" in line else line.split()
            if len(cols) < 2:  # a token without a tag (the two column indexes would point at the same text)
                bad = True
                continue
            try:
                tok, tag = cols[token_column].strip(), cols[tag_column].strip()
            except IndexError:
                bad = True
                continue
            if not tok or not tag:
                bad = True
                continue
            tokens.append(tok)
            tags.append(tag)
    flush()
    return out


def load_split(task: TaskConfig, split: str, data_root: Path) -> SplitData:
    """Read one split of a task (``train``, ``dev`` or ``test``), truncated to ``task.max_examples`` if set."""
    path = data_root / getattr(task, split)
    if task.format == "jsonl":
        data = read_jsonl_task(path, task.text_field, task.label_field)
    elif task.format == "piboso":
        data = read_piboso(path, task.context_sentences)
    elif task.format == "conll":
        data = read_conll(path, task.token_column, task.tag_column)
    else:  # pragma: no cover - the recipe schema forbids other values
        raise TaskFormatError(f"unknown task format {task.format!r}")
    if not data.examples:
        raise TaskFormatError(f"task {task.name}: no usable examples in {path} (quarantined: {data.quarantined})")
    if task.max_examples is not None:
        data.examples = data.examples[: task.max_examples]
    return data
