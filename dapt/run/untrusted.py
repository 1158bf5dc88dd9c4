"""Flow parameters are untrusted input.

A deployment's run can be triggered, with any parameters, by anyone who can reach the Prefect API. Before any work,
its parameters are checked against a policy the worker's operator sets in the worker's environment (parameters
cannot change it):

- ``recipe``: a shipped recipe name (a recipe file only with ``DAPT_ALLOW_RECIPE_FILES=1``);
- ``data_dir``: inside the data root (``DAPT_DATA_DIR``, else ``../shared/data``); ``out``: inside the output root
  (``DAPT_OUT_ROOT``, else ``./runs``); absolute paths elsewhere and ``..`` escapes are refused;
- ``overrides``: never ``trust_remote_code`` (anywhere in the recipe) unless ``DAPT_ALLOW_REMOTE_CODE=1``, and a
  ``base_model`` only by name (``dapt models``), not as a path; the recipe's own paths must then stay inside the data
  root (:mod:`dapt.recipe.confinement`).

A person at a terminal (``dapt run``) is not a remote caller: the CLI marks its own process trusted
(:func:`trust_this_process`), and a worker or ``dapt serve`` child process, which imports this afresh, never is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dapt.recipe import RecipeError, list_recipes, resolve_data_dir

SECURITY_KEYS = frozenset({"trust_remote_code"})
"""Recipe keys that turn on code execution from a model or dataset folder."""


class UntrustedInputError(RecipeError):
    """A flow parameter the policy refuses; the message names each parameter and why."""


@dataclass(frozen=True)
class FlowPolicy:
    data_root: Path
    out_root: Path
    allow_remote_code: bool = False
    allow_recipe_files: bool = False

    @classmethod
    def from_env(cls) -> FlowPolicy:
        return cls(
            data_root=resolve_data_dir(None),
            out_root=Path(os.environ.get("DAPT_OUT_ROOT", "runs")).expanduser().resolve(),
            allow_remote_code=os.environ.get("DAPT_ALLOW_REMOTE_CODE") == "1",
            allow_recipe_files=os.environ.get("DAPT_ALLOW_RECIPE_FILES") == "1",
        )


_TRUSTED = {"process": False, "allow_outside_data_root": False}


def trust_this_process(allow_outside_data_root: bool = False) -> None:
    """Called by the CLI only: flows started from this process run a local user's parameters unchecked (their recipe
    paths still stay in the data root unless ``allow_outside_data_root``)."""
    _TRUSTED.update(process=True, allow_outside_data_root=allow_outside_data_root)


def process_is_trusted() -> bool:
    return _TRUSTED["process"]


def allow_outside_data_root() -> bool:
    return _TRUSTED["process"] and _TRUSTED["allow_outside_data_root"]


def check_flow_parameters(
    recipe: str, data_dir: str | None, out: str | None, overrides: dict | None, policy: FlowPolicy
) -> None:
    """Raise :class:`UntrustedInputError` listing every parameter the policy refuses; return if all pass."""
    problems = []
    if recipe not in list_recipes() and not policy.allow_recipe_files:
        problems.append(f"recipe: {recipe!r} is not a shipped recipe ({', '.join(list_recipes())})")
    if data_dir is not None and not _inside(data_dir, policy.data_root):
        problems.append(f"data_dir: {data_dir!r} is outside the data root {policy.data_root}")
    if out is not None and not _inside(out, policy.out_root):
        problems.append(f"out: {out!r} is outside the output root {policy.out_root}")
    for key, value in (overrides or {}).items():
        if not policy.allow_remote_code and (key.split(".")[-1] in SECURITY_KEYS or _names_security_key(value)):
            problems.append(f"overrides.{key}: a flow run cannot set trust_remote_code (DAPT_ALLOW_REMOTE_CODE)")
        if key.split(".")[-1] == "base_model" and not _named_model(value):
            problems.append(f"overrides.{key}: {value!r} is not a named model (`dapt models`); paths are refused")
    if problems:
        raise UntrustedInputError("flow parameters refused:\n" + "\n".join(f"  {p}" for p in problems))


def _inside(path: str, root: Path) -> bool:
    p = Path(path).expanduser()
    p = p if p.is_absolute() else Path.cwd() / p
    return p.resolve().is_relative_to(root)


def _names_security_key(value) -> bool:
    if isinstance(value, dict):
        return any(k in SECURITY_KEYS or _names_security_key(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_names_security_key(v) for v in value)
    return False


def _named_model(value) -> bool:
    from dapt.models import NAMED_MODELS

    return isinstance(value, str) and value in NAMED_MODELS
