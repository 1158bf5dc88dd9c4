"""Evidence that travels: ``results.json`` never carries the absolute paths of the machine that made it.

Shipped results are read on other machines (``pipelines/results/``, ``dapt compare``); an absolute path there says
where one checkout lived and nothing about the run. Every string in the results that is a path is rewritten
relative to what it belongs to: the run directory (``<run>/...``), the data root (``<data>/...``), the checkout
(``<repo>/...``); the base model's resolved folder becomes its name; any other absolute path keeps only its last
two parts (``<elsewhere>/...``).
"""

from __future__ import annotations

from pathlib import Path


def portable_paths(obj, roots: dict[str, Path], exact: dict[str, str] | None = None):
    """``obj`` (dicts, lists, strings) with absolute paths rewritten. ``roots``: ``{"<run>": run_dir, ...}``, most
    specific first; ``exact``: whole strings replaced as they are (a model folder -> the model's name)."""
    exact = exact or {}
    if isinstance(obj, dict):
        return {k: portable_paths(v, roots, exact) for k, v in obj.items()}
    if isinstance(obj, list):
        return [portable_paths(v, roots, exact) for v in obj]
    if isinstance(obj, str):
        return portable_path(obj, roots, exact)
    return obj


def portable_path(s: str, roots: dict[str, Path], exact: dict[str, str]) -> str:
    if s in exact:
        return exact[s]
    if not s.startswith("/") or "\n" in s or " " in s.strip("/").split("/")[0]:
        return s  # not a path (or prose that happens to start with a slash)
    p = Path(s)
    for name, root in roots.items():
        if p == root or p.is_relative_to(root):
            rel = p.relative_to(root).as_posix()
            return name if rel == "." else f"{name}/{rel}"
    return "<elsewhere>/" + "/".join(p.parts[-2:])
