"""Labelled tasks, a concept every stage shares: their file formats and readers (:mod:`.formats`), the label
space fixed by the train split (:mod:`.labels`), k-per-label few-shot sets (:mod:`.shots`) and the transfer table's
test subset (:mod:`.test_subset`). Ingest reads their dev/test text (decontamination) and train text (TAPT corpora);
floors, fine-tuning, prompting and evaluation read their examples."""

from dapt.tasks.formats import (
    Example,
    SplitData,
    TaggedSentence,
    TaskFormatError,
    load_split,
    read_conll,
    read_csv_task,
    read_jsonl_task,
    read_piboso,
)
from dapt.tasks.labels import LabelSpace, label_report
from dapt.tasks.shots import sample_per_label, shots_rng
from dapt.tasks.test_subset import cut_test, stratified_test_subset

__all__ = [
    "Example",
    "LabelSpace",
    "SplitData",
    "TaggedSentence",
    "TaskFormatError",
    "cut_test",
    "label_report",
    "load_split",
    "read_conll",
    "read_csv_task",
    "read_jsonl_task",
    "read_piboso",
    "sample_per_label",
    "shots_rng",
    "stratified_test_subset",
]
