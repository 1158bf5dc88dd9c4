"""The recipe's shared pieces: value types, the strict base model, the YAML loader and the error type.

One typed, validated config per run: the recipe.

A recipe is a YAML file (loaded with ``yaml.safe_load``: no arbitrary objects) parsed into :class:`Recipe`.
Every model forbids unknown keys and uses strict types, so a typo or a wrong type fails *before* any work starts,
with the key path and the recipe file in the message. Paths in a recipe are relative to the data root
(``--data-dir`` or ``DAPT_DATA_DIR``); :func:`check_paths` verifies every one exists up front.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

RECIPES_DIR = Path(__file__).resolve().parent.parent.parent / "pipelines" / "recipes"

Variant = Literal["baseline", "dapt", "dapt-replay", "tapt", "dapt+tapt", "knn-tapt", "general", "scratch"]
"""``baseline``: the base model; ``dapt``: continued pretraining on the domain corpus; ``dapt-replay``: the same
with ``pretrain.replay_ratio`` of every batch drawn from the general corpus (the defence against forgetting);
``tapt``: on the task's own
train text (many epochs); ``dapt+tapt``: TAPT starting from the DAPT model; ``knn-tapt``: TAPT on the task's train
text plus the domain documents nearest to it by sentence embedding; ``general``: the control, continued
pretraining on the general corpus with DAPT's token budget (separates "more training" from "domain")."""
TASK_VARIANTS = ("tapt", "dapt+tapt", "knn-tapt")
"""Variants whose pretrained model is specific to each task."""
Metric = Literal["micro_f1", "macro_f1", "accuracy", "span_f1"]
PositiveInt = Annotated[int, Field(gt=0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _RecipeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2's scalars where 1.1 surprises: ``5e-4`` is a float (1.1 wants ``5.0e-4``;
    users write both), and only ``true``/``false`` are booleans (1.1 also reads ``no``/``yes``/``on``/``off``, so
    ``--set pretrain.mixed_precision=no`` arrived as ``False``)."""


_RecipeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
_BOOL = "tag:yaml.org,2002:bool"
# New lists (not edits of SafeLoader's): the plain SafeLoader keeps its own resolvers.
_RecipeLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for ch, resolvers in _RecipeLoader.yaml_implicit_resolvers.items()
}
_RecipeLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class RecipeError(ValueError):
    """A recipe is invalid: the message names the recipe file and the offending key or path."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    HASH_OMIT_AT_DEFAULT: ClassVar[tuple[str, ...]] = ()
    """Settings added after runs already existed. While at their default they are left out of stage hashes, so
    adding a setting does not invalidate finished stages whose output it cannot have changed."""

    def hash_dump(self, **kwargs) -> dict:
        """``model_dump(mode="json")`` for stage hashes (see ``HASH_OMIT_AT_DEFAULT``)."""
        out = self.model_dump(mode="json", **kwargs)
        for key in self.HASH_OMIT_AT_DEFAULT:
            if key in out and getattr(self, key) == type(self).model_fields[key].get_default(call_default_factory=True):
                del out[key]
        return out


SourceFormat = Literal["text", "jsonl", "json", "csv", "tsv", "parquet", "conll", "pubmed_xml", "hf", "task"]

# When ``path`` is a directory and no ``glob`` is given: the files of the source's format (gzip forms included).
FORMAT_SUFFIXES: dict[str, tuple[str, ...]] = {
    "text": (".txt",),
    "jsonl": (".jsonl", ".ndjson"),
    "json": (".json",),
    "csv": (".csv",),
    "tsv": (".tsv", ".tab"),
    "parquet": (".parquet",),
    "conll": (".conll", ".iob", ".iob2", ".bio", ".tsv"),
    "pubmed_xml": (".xml",),
}


def format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"
