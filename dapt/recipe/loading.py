"""Finding, loading (with overrides) and checking recipes against the data root."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dapt.recipe.base import (
    FORMAT_SUFFIXES,
    RECIPES_DIR,
    RecipeError,
    _RecipeLoader,
    format_loc,
)
from dapt.recipe.confinement import paths_outside
from dapt.recipe.corpus import CorpusSource
from dapt.recipe.schema import Recipe


def resolve_recipe_path(name_or_path: str | os.PathLike) -> Path:
    """A shipped recipe name (``dapt-biomed-tiny``) or a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in {".yaml", ".yml"} or p.exists():
        if not p.is_file():
            raise RecipeError(f"recipe file not found: {p}")
        return p
    shipped = RECIPES_DIR / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    raise RecipeError(f"unknown recipe {str(name_or_path)!r}; shipped recipes: {', '.join(list_recipes())}")


def list_recipes() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["pretrain.max_tokens=1000", "seeds=[0, 1]"]`` -> ``{"pretrain.max_tokens": 1000, "seeds": [0, 1]}``;
    values are YAML (numbers, lists, booleans...)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise RecipeError(f"override {item!r}: expected KEY=VALUE, e.g. finetune.epochs=2")
        out[key.strip()] = yaml.load(value, Loader=_RecipeLoader)
    return out


def apply_overrides(raw: dict, overrides: dict[str, Any], path: Path) -> dict:
    """Set dotted keys in the raw recipe before validation. In a list, a segment is an index or the ``name`` of
    an item (``tasks.chemprot.finetune.epochs=2``). The recipe is then validated as a whole, so a wrong value or
    an unknown leaf key fails like it would in the file."""
    import copy

    raw = copy.deepcopy(raw)
    for dotted, value in overrides.items():
        node, parts = raw, dotted.split(".")
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                match = [x for x in node if isinstance(x, dict) and x.get("name") == part]
                if part.isdigit() and int(part) < len(node):
                    node = node[int(part)]
                elif match:
                    node = match[0]
                else:
                    raise RecipeError(f"{path}: override {dotted}: no item {part!r} in {'.'.join(parts[:i])}")
            elif isinstance(node, dict):
                node = node.setdefault(part, {})
            else:
                raise RecipeError(f"{path}: override {dotted}: {'.'.join(parts[:i])} is not a mapping")
        if not isinstance(node, dict):
            raise RecipeError(f"{path}: override {dotted}: {'.'.join(parts[:-1])} is not a mapping")
        node[parts[-1]] = value
    return raw


def load_recipe(name_or_path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> Recipe:
    """Load and validate a recipe, with optional dotted-key ``overrides`` applied first.

    Raises:
        RecipeError: the file is missing, is not a YAML mapping, or a key is unknown, missing or of the wrong
            type. The message names the file and every offending key path.
    """
    path = resolve_recipe_path(name_or_path)
    try:
        raw = yaml.load(path.read_text(), Loader=_RecipeLoader)
    except yaml.YAMLError as e:
        raise RecipeError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: a recipe must be a YAML mapping, got {type(raw).__name__}")
    if overrides:
        raw = apply_overrides(raw, overrides, path)
    try:
        return Recipe.model_validate(raw)
    except ValidationError as e:
        problems = [f"  {format_loc(err['loc'])}: {err['msg']}" for err in e.errors()]
        raise RecipeError(f"{path}: invalid recipe\n" + "\n".join(problems)) from None


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """``--data-dir`` wins, then ``DAPT_DATA_DIR``, then ``../shared/data`` beside the checkout."""
    if data_dir is None:
        data_dir = os.environ.get("DAPT_DATA_DIR")
    if data_dir is None:
        data_dir = Path(__file__).resolve().parents[3] / "shared" / "data"  # <checkout>/../shared/data
    root = Path(data_dir).expanduser().resolve()
    if not root.is_dir():
        raise RecipeError(f"data root not found: {root} (set --data-dir or DAPT_DATA_DIR)")
    return root


def source_files(source: CorpusSource, data_root: Path) -> list[Path]:
    """The files a corpus source names, sorted so that ingestion is deterministic (``hf`` and ``task`` sources
    have none of their own)."""
    if source.format in ("hf", "task"):
        return []
    base = data_root / source.path
    if base.is_file():
        return [base]
    if base.is_dir():
        if source.glob is not None:
            return sorted(p for p in base.glob(source.glob) if p.is_file())
        suffixes = FORMAT_SUFFIXES[source.format]
        return sorted(p for p in base.rglob("*") if p.is_file() and p.name.removesuffix(".gz").endswith(suffixes))
    return sorted(Path(p) for p in glob.glob(str(base), recursive=True) if Path(p).is_file())


def check_paths(
    recipe: Recipe,
    data_root: Path,
    recipe_file: str | os.PathLike = "<recipe>",
    allow_outside_data_root: bool = False,
) -> None:
    """Fail before any work starts if a path the recipe names leaves the data root (:mod:`.confinement`; unless
    ``allow_outside_data_root``) or a file it names is missing.

    Raises:
        RecipeError: naming each offending path with its key.
    """
    if not allow_outside_data_root:
        outside = paths_outside(recipe, data_root, lambda src: source_files(src, data_root))
        if outside:
            raise RecipeError(
                f"{recipe_file}: paths must stay inside the data root {data_root} "
                "(for your own files elsewhere: dapt run --allow-outside-data-root)\n" + "\n".join(outside)
            )
    missing = []
    corpora = [("corpus", recipe.corpus)] + (
        [("general_corpus", recipe.general_corpus)] if recipe.general_corpus else []
    )
    for key, corpus in corpora:
        for i, src in enumerate(corpus.sources):
            if src.format not in ("hf", "task") and not source_files(src, data_root):
                where = src.glob or f"*{'|*'.join(FORMAT_SUFFIXES[src.format])}"
                missing.append(f"  {key}.sources[{i}].path: no files match {data_root / src.path} ({where})")
    for i, task in enumerate(recipe.tasks):
        for split in ("train", "dev", "test"):
            p = data_root / getattr(task, split)
            if not p.is_file():
                missing.append(f"  tasks[{i}].{split}: file not found: {p}")
    for i, g in enumerate(recipe.transfer.general_tasks if recipe.transfer else []):
        if not (data_root / g.path).is_file():
            missing.append(f"  transfer.general_tasks[{i}].path: file not found: {data_root / g.path}")
    if missing:
        raise RecipeError(f"{recipe_file}: missing data under {data_root}\n" + "\n".join(missing))
