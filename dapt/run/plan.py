"""Which pretraining and fine-tuning jobs a recipe implies, in dependency order."""

from __future__ import annotations

from dataclasses import dataclass

from dapt.recipe import TASK_VARIANTS, Recipe


@dataclass(frozen=True)
class PretrainJob:
    """One pretraining run: ``dapt``, ``dapt-replay``, ``general`` and ``scratch`` once per recipe, the TAPT variants
    once per task."""

    variant: str
    task: str | None = None

    @property
    def key(self) -> str:
        return f"pretrain/{self.variant}" + (f"/{self.task}" if self.task else "")

    @property
    def corpus_kind(self) -> str:
        """Which ingested corpus it trains on: ``tapt`` (task train text) or ``knn-tapt`` (plus neighbours)."""
        return "knn-tapt" if self.variant == "knn-tapt" else "tapt"

    @classmethod
    def from_key(cls, key: str) -> PretrainJob:
        parts = key.split("/")
        return cls(parts[1], parts[2] if len(parts) > 2 else None)

    @classmethod
    def for_variant(cls, variant: str, task: str | None) -> PretrainJob:
        return cls(variant, task if variant in TASK_VARIANTS else None)

    def describe(self, base: str) -> str:
        return {
            "dapt": f"{base} continued-pretrained on the domain corpus (DAPT)",
            "dapt-replay": f"{base} continued-pretrained on the domain corpus with general-text replay (DAPT+replay)",
            "general": f"{base} continued-pretrained on the general corpus (budget-matched control)",
            "tapt": f"{base} continued-pretrained on the {self.task} train text (TAPT)",
            "dapt+tapt": f"{base} DAPT model continued-pretrained on the {self.task} train text (DAPT+TAPT)",
            "knn-tapt": f"{base} continued-pretrained on the {self.task} train text + nearest domain documents",
            "scratch": f"{base}'s architecture with fresh weights and a domain vocabulary, pretrained from scratch on "
            "the domain corpus",
        }[self.variant]


def pretrain_jobs(recipe: Recipe) -> list[PretrainJob]:
    """Every continued-pretraining run the recipe's variants need, in dependency order (DAPT before DAPT+TAPT)."""
    v = recipe.variants
    jobs = []
    if "dapt" in v or "dapt+tapt" in v:
        jobs.append(PretrainJob("dapt"))
    if "dapt-replay" in v:
        jobs.append(PretrainJob("dapt-replay"))
    if "general" in v:
        jobs.append(PretrainJob("general"))
    if "scratch" in v:
        jobs.append(PretrainJob("scratch"))
    for t in recipe.tasks:
        jobs += [PretrainJob(x, t.name) for x in TASK_VARIANTS if x in v]
    return jobs


def finetune_key(task: str, variant: str, seed: int, fraction: float = 1.0, shots: int | None = None) -> str:
    """``finetune/<task>/<variant>/seed<k>``; a learning-curve point adds ``frac<f>`` before the seed, a few-shot
    fine-tune (the transfer table) ``shots<k>`` (k train examples per label)."""
    frac = "" if fraction == 1 else f"frac{fraction:g}/"
    few = "" if shots is None else f"shots{shots}/"
    return f"finetune/{task}/{variant}/{frac}{few}seed{seed}"


def finetune_jobs(recipe: Recipe) -> list[tuple[str, str, int, float]]:
    """Every fine-tuning run: ``(task, variant, seed, train fraction)``; the full train set first."""
    full = [(t.name, v, s, 1.0) for t in recipe.tasks for v in recipe.variants for s in recipe.seeds]
    return full + [(t, v, s, f) for t, v, f in recipe.curve_points() for s in recipe.seeds]


def prompting_key(task: str, mode: str, variant: str, seed: int) -> str:
    """``prompting/<task>/<mode>/<variant>/seed<k>``: one in-context scoring of a variant's model."""
    return f"prompting/{task}/{mode}/{variant}/seed{seed}"


def prompting_jobs(recipe: Recipe) -> list[tuple[str, str, str, int]]:
    """Every in-context scoring of the transfer table: ``(task, mode, variant, seed)``. Zero-shot has nothing
    random in it: one run (seed 0's slot) per variant; few-shot in context, one per seed (its demonstrations):
    ``transfer.icl_seeds``, else the recipe's seeds."""
    tr = recipe.transfer
    if tr is None:
        return []
    variants = [v for v in (tr.variants or recipe.variants) if v not in TASK_VARIANTS]
    tasks = [t.name for t in recipe.tasks if t.prompt is not None]
    jobs = []
    for mode in ("zero_shot", "few_shot_icl"):
        if mode in tr.modes:
            seeds = recipe.seeds[:1] if mode == "zero_shot" else (tr.icl_seeds or recipe.seeds)
            jobs += [(t, mode, v, s) for t in tasks for v in variants for s in seeds]
    # General tasks (forgetting in task terms): zero-shot, every variant.
    jobs += [(g.name, "zero_shot", v, recipe.seeds[0]) for g in tr.general_tasks for v in variants]
    return jobs


def fewshot_finetune_jobs(recipe: Recipe) -> list[tuple[str, str, int, int]]:
    """The transfer table's few-shot fine-tunes: ``(task, variant, seed, shots per label)``."""
    tr = recipe.transfer
    if tr is None or "few_shot_ft" not in tr.modes:
        return []
    variants = [v for v in (tr.variants or recipe.variants) if v not in TASK_VARIANTS]
    return [(t.name, v, s, tr.ft_shots_per_label) for t in recipe.tasks for v in variants for s in recipe.seeds]
