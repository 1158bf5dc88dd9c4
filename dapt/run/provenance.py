"""What produced a run: package versions, git commit, machine, and the content hashes of files."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
import platform
import subprocess
from pathlib import Path

PACKAGES = ("dapt", "torch", "transformers", "datasets", "tokenizers", "evaluate", "prefect", "scikit-learn")


def _git_commit() -> str | None:
    """The checkout's commit; in an image without git or a .git folder, the one it was built from
    (``DAPT_GIT_COMMIT``, the Dockerfile's ``GIT_COMMIT`` build arg)."""
    return _git_rev_parse() or os.environ.get("DAPT_GIT_COMMIT") or None


def _git_rev_parse() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def provenance() -> dict:
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return {
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        **{f"version_{k}": v for k, v in versions.items()},
    }


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


DAPT_DIR = Path(__file__).resolve().parent.parent

STAGE_CODE = (
    "ingest", "pretrain", "floors", "finetune", "prompting", "evaluation", "report", "tasks", "metrics", "run",
)  # fmt: skip
"""The packages whose code builds stages; :func:`freeze_code` imports all of them."""

_FROZEN: dict = {}
"""This process's code, fixed by :func:`freeze_code`: ``dir``, ``digests`` (file -> sha256), ``commit``, ``dirty``."""


def freeze_code() -> None:
    """Import every module of the stage packages now, and fix what this process's stage records say about code.

    Without it, a stage's code hash and commit would be read from disk when the stage runs, though a long-running
    process (a ``dapt run`` of hours, a worker) runs the modules it imported earlier: edits and commits made
    meanwhile would be recorded for stages they never touched. Imported up front, the code that runs is the code that
    was hashed (to within the moments of this call). Idempotent per process and source tree."""
    import importlib
    import pkgutil

    if _FROZEN.get("dir") == DAPT_DIR:
        return
    for pkg in STAGE_CODE:
        module = importlib.import_module(f"dapt.{pkg}")
        for info in pkgutil.walk_packages(module.__path__, f"dapt.{pkg}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    _FROZEN.clear()
    _FROZEN.update(
        dir=DAPT_DIR,
        digests={f: _digest(f) for f in sorted(DAPT_DIR.rglob("*.py"))},
        commit=_git_commit(),
        dirty=_git_dirty(),
    )


def _digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def _git_dirty() -> bool | None:
    """Whether ``dapt/`` had uncommitted changes (then the commit alone does not say what ran)."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", str(DAPT_DIR)],
            cwd=DAPT_DIR,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(out.stdout.strip()) if out.returncode == 0 else None


def source_hash(*packages: str) -> str:
    """sha256 (16 hex digits) of the source files of ``dapt/<package>`` for each package (a folder, or a module
    without ``.py``): part of a stage's inputs, so changing the code that builds a stage redoes it. After
    :func:`freeze_code`, the files as they were then (the code this process imported)."""
    frozen = _FROZEN.get("digests") if _FROZEN.get("dir") == DAPT_DIR else None
    h = hashlib.sha256()
    for pkg in packages:
        path = DAPT_DIR / pkg
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
        if frozen is not None:
            files = [f for f in frozen if f == path.with_suffix(".py") or f.is_relative_to(path)]
        for f in files:
            h.update(f.relative_to(DAPT_DIR).as_posix().encode())
            h.update(frozen[f] if frozen is not None else _digest(f))
    return h.hexdigest()[:16]


def stage_provenance() -> dict:
    """What each stage record carries: the commit (and whether ``dapt/`` differed from it) and dapt version that
    built it; after :func:`freeze_code`, those of this process's code."""
    try:
        version = md.version("dapt")
    except md.PackageNotFoundError:
        version = None
    if _FROZEN.get("dir") == DAPT_DIR:
        return {"git_commit": _FROZEN["commit"], "git_dirty": _FROZEN["dirty"], "dapt_version": version}
    return {"git_commit": _git_commit(), "git_dirty": _git_dirty(), "dapt_version": version}
