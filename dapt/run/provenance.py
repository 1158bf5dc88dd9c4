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


def source_hash(*packages: str) -> str:
    """sha256 (16 hex digits) of the source files of ``dapt/<package>`` for each package (a folder, or a module
    without ``.py``): part of a stage's inputs, so changing the code that builds a stage redoes it."""
    h = hashlib.sha256()
    for pkg in packages:
        path = DAPT_DIR / pkg
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
        for f in files:
            h.update(f.relative_to(DAPT_DIR).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def stage_provenance() -> dict:
    """What each stage record carries: the commit and dapt version that built it."""
    try:
        version = md.version("dapt")
    except md.PackageNotFoundError:
        version = None
    return {"git_commit": _git_commit(), "dapt_version": version}
