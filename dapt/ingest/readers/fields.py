"""Pulling the document text (and an id) out of a structured record: JSON objects, CSV rows, Parquet/HF rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def as_fields(text_field: str | int | list[str | int]) -> list[str | int]:
    return list(text_field) if isinstance(text_field, list) else [text_field]


def record_text(record: Mapping | Sequence, fields: list[str | int]) -> tuple[str | None, str]:
    """``(text, "")`` or ``(None, why)``. Each field may hold a string or a list of strings (joined with spaces, as
    in PubMedQA's ``CONTEXTS``); several fields are joined with a space, skipping empty ones. The record is
    rejected only when none of its fields holds text, or a field holds something that is not text."""
    parts = []
    for f in fields:
        try:
            value = record[f]
        except (KeyError, IndexError, TypeError):
            continue
        if value is None:
            continue
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            parts.append(" ".join(value))
        else:
            return None, f"field {f!r} holds {type(value).__name__}, not text"
    parts = [p for p in parts if p.strip()]
    if not parts:
        return None, f"no text in field(s) {fields}"
    return " ".join(parts), ""
