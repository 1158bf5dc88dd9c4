"""Recipe paths stay inside the data root.

A recipe (or a flow run's overrides, which anyone who can reach the Prefect API can send) names the files a run
reads. Ingestion copies excerpts of what it reads into ``rejects.jsonl`` and the corpus, so a path that escapes the
data root (``/etc/...``, ``../../home/...``, a glob or symlink leading out) would make the worker read any file its
user can. Every path a recipe names, and every file a glob or a directory expands to, must resolve inside the data
root; a person running their own recipe on their own files can opt out (``dapt run --allow-outside-data-root``),
a flow run cannot.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath


def escapes(relative: str) -> str | None:
    """Why a recipe path is refused before touching the filesystem: absolute, or climbing with ``..``."""
    p = PurePosixPath(relative.replace("\\", "/"))
    if p.is_absolute() or relative.startswith("~"):
        return "an absolute path"
    if ".." in p.parts:
        return "a path with '..'"
    return None


def inside(path: Path, root: Path) -> bool:
    """``path`` (symlinks resolved) is ``root`` or below it."""
    return path.resolve().is_relative_to(root.resolve())


SPLITS = ("train", "dev", "test")


def paths_outside(recipe, data_root: Path, files_of) -> list[str]:
    """One line per recipe key whose path leaves ``data_root``: ``key: why``. ``files_of(source)`` lists a corpus
    source's files (globs and directories expanded), each of which must stay inside too."""
    problems = []
    corpora = [("corpus", recipe.corpus)] + (
        [("general_corpus", recipe.general_corpus)] if recipe.general_corpus else []
    )
    for key, corpus in corpora:
        for i, src in enumerate(corpus.sources):
            where = f"{key}.sources[{i}].path"
            if src.format == "task":
                continue  # a task of the recipe, by name: its split paths are checked below
            if src.format == "hf" and not looks_local(src.path):
                continue  # a dataset name, not a file
            why = escapes(src.path)
            if why:
                problems.append(f"  {where}: {src.path!r} is {why}")
                continue
            if src.glob and escapes(src.glob):
                problems.append(f"  {key}.sources[{i}].glob: {src.glob!r} is {escapes(src.glob)}")
                continue
            out = [f for f in files_of(src) if not inside(f, data_root)]
            if out:
                problems.append(f"  {where}: {len(out)} file(s) resolve outside the data root, e.g. {out[0].resolve()}")
    named = [(f"tasks[{i}].{split}", getattr(t, split)) for i, t in enumerate(recipe.tasks) for split in SPLITS]
    named += [
        (f"transfer.general_tasks[{i}].path", g.path)
        for i, g in enumerate(recipe.transfer.general_tasks if recipe.transfer else [])
    ]
    for key, rel in named:
        why = escapes(rel)
        if why:
            problems.append(f"  {key}: {rel!r} is {why}")
        elif (data_root / rel).exists() and not inside(data_root / rel, data_root):
            problems.append(f"  {key}: {rel!r} resolves outside the data root (a symlink)")
    return problems


def looks_local(name: str) -> bool:
    """An ``hf`` source given as a folder rather than a hub dataset name (``org/name``)."""
    return name.startswith(("/", ".", "~")) or ".." in PurePosixPath(name).parts
