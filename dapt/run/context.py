"""What every stage is handed: the validated recipe, where its data is, the run directory's layout and ledger."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dapt.recipe import Recipe, RecipeError, TaskConfig
from dapt.run.layout import RunLayout
from dapt.run.ledger import Ledger


@dataclass
class RunContext:
    recipe: Recipe
    recipe_file: Path
    data_root: Path
    layout: RunLayout
    ledger: Ledger

    def task(self, name: str) -> TaskConfig:
        for t in self.recipe.tasks:
            if t.name == name:
                return t
        raise RecipeError(f"{self.recipe_file}: no task named {name!r}")

    def stage(self, key: str, inputs: dict, outputs: tuple[Path, ...] = (), reuse: bool = True):
        """The ledger's stage block (see :mod:`dapt.run.ledger`): done only if ``outputs`` all exist."""
        return self.ledger.stage(key, inputs, outputs, reuse)

    def model_dir(self, variant: str, task: str | None = None) -> Path:
        """The model a variant fine-tunes from (for the per-task variants, that task's)."""
        from dapt.models import resolve_model
        from dapt.run.plan import PretrainJob

        if variant == "baseline":
            return resolve_model(self.recipe.base_model)
        if variant not in ("dapt", "dapt-replay", "general", "scratch") and task is None:
            raise ValueError(f"variant {variant!r} has one model per task: name the task")
        return self.layout.job_dir(PretrainJob.for_variant(variant, task)) / "model"
