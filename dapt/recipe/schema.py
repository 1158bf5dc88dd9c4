"""The recipe itself: one validated object per run."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from pydantic import Field, ValidationError, model_validator

from dapt.recipe.base import (
    Variant,
    _Strict,
    format_loc,
)
from dapt.recipe.corpus import CorpusConfig
from dapt.recipe.engine import EngineConfig
from dapt.recipe.training import (
    FinetuneConfig,
    LearningCurveConfig,
    PretrainConfig,
    ScratchConfig,
    TaptConfig,
    TaskConfig,
)
from dapt.recipe.transfer import TransferConfig


class Recipe(_Strict):
    name: str
    description: str = ""
    base_model: str
    """A named packaged model (``dapt models``) or a local Hugging Face folder."""
    trust_remote_code: bool = False
    """Never on unless a recipe opts in by name."""
    seeds: list[int] = Field(min_length=1)
    variants: list[Variant] = Field(min_length=1)
    corpus: CorpusConfig
    general_corpus: CorpusConfig | None = None
    """General-domain text: its held-out split measures forgetting, and it is the reference for the domain
    diagnostics (tokenizer fertility, vocabulary overlap)."""
    pretrain: PretrainConfig
    tasks: list[TaskConfig] = Field(min_length=1)
    finetune: FinetuneConfig = FinetuneConfig()
    tapt: TaptConfig = TaptConfig()
    scratch: ScratchConfig = ScratchConfig()
    """Settings of the ``scratch`` variant (used only when it is in ``variants``)."""
    floors: bool = True
    """Compute the majority-class and TF-IDF + logistic-regression reference rows for every task."""
    forgetting_max_base_ppl: Annotated[float, Field(gt=0)] = 100.0
    """General-text perplexity change is called forgetting only when the base model's own general perplexity is at
    most this (it is a language model on general text); above it, the base has no usable LM head (a retrieval
    model's MLM head, a randomly initialised one) and the report shows the numbers without a verdict."""
    learning_curve: LearningCurveConfig | None = None
    transfer: TransferConfig | None = None
    """Decoders: the transfer table (zero-shot, few-shot in context, few-shot and full fine-tuning per variant)."""
    engine: EngineConfig = EngineConfig()
    """Where parallel work runs (execution only: outside every hash)."""

    @model_validator(mode="after")
    def _unique_names(self) -> Recipe:
        for kind, names in (
            ("tasks", [t.name for t in self.tasks]),
            ("corpus.sources", [s.name for s in self.corpus.sources]),
            ("variants", list(self.variants)),
            ("seeds", [str(s) for s in self.seeds]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{kind}: duplicate names {dupes}")
        task_names = {t.name for t in self.tasks}
        for key, corpus in (("corpus", self.corpus), ("general_corpus", self.general_corpus)):
            for i, src in enumerate(corpus.sources if corpus else []):
                if src.format == "task" and src.path not in task_names:
                    raise ValueError(f"{key}.sources[{i}].path: {src.path!r} is not a task of this recipe")
        if "general" in self.variants and self.general_corpus is None:
            raise ValueError("variants: 'general' (the budget-matched control) needs a general_corpus")
        if "dapt-replay" in self.variants:
            if self.general_corpus is None:
                raise ValueError("variants: 'dapt-replay' mixes general text in: it needs a general_corpus")
            if not 0 < round(self.pretrain.replay_ratio * self.pretrain.batch_size) < self.pretrain.batch_size:
                raise ValueError(
                    "pretrain.replay_ratio: 'dapt-replay' needs at least one general and one domain block per batch "
                    f"(ratio {self.pretrain.replay_ratio} x batch_size {self.pretrain.batch_size})"
                )
        if "baseline" not in self.variants:
            raise ValueError("variants: must include 'baseline' (every variant is compared against it)")
        if self.learning_curve is not None:
            lc = self.learning_curve
            if lc.variants is not None:
                if "baseline" not in lc.variants:
                    raise ValueError("learning_curve.variants: must include 'baseline'")
                if extra := sorted(set(lc.variants) - set(self.variants)):
                    raise ValueError(f"learning_curve.variants: {extra} not in the recipe's variants")
            if lc.tasks is not None and (extra := sorted(set(lc.tasks) - task_names)):
                raise ValueError(f"learning_curve.tasks: {extra} are not tasks of this recipe")
            if len(set(lc.fractions)) != len(lc.fractions):
                raise ValueError("learning_curve.fractions: duplicates")
        if self.transfer is not None:
            if self.pretrain.objective != "clm":
                raise ValueError("transfer: the in-context modes need a causal LM (pretrain.objective: clm)")
            in_context = {"zero_shot", "few_shot_icl"} & set(self.transfer.modes)
            if in_context and (missing := [t.name for t in self.tasks if t.prompt is None and t.format != "conll"]):
                raise ValueError(f"transfer: tasks {missing} have no prompt (tasks[].prompt)")
            if clash := sorted({g.name for g in self.transfer.general_tasks} & task_names):
                raise ValueError(f"transfer.general_tasks: {clash} are names of tasks already")
            if self.transfer.variants is not None and (
                extra := sorted(set(self.transfer.variants) - set(self.variants))
            ):
                raise ValueError(f"transfer.variants: {extra} not in the recipe's variants")
            if extra := sorted(set(self.transfer.few_shot_finetune_tasks) - task_names):
                raise ValueError(f"transfer.few_shot_finetune_tasks: {extra} are not tasks of this recipe")
        # Each task's settings are validated layer by layer, so a failure names the layer that brought the bad value:
        # the task's own override first, then (few-shot fine-tuning) the transfer section's layers on top of it.
        for task in self.tasks:
            layers = [(f"tasks[{task.name}].finetune", self.finetune_for)]
            if self.transfer is not None:
                few = self.transfer.few_shot_finetune_tasks
                key = f"few_shot_finetune_tasks.{task.name}" if task.name in few else "few_shot_finetune"
                layers.append((f"transfer.{key}", self.few_shot_finetune_for))
            for key, settings in layers:
                try:
                    settings(task.name)
                except ValidationError as e:
                    bad = "; ".join(f"{format_loc(err['loc'])}: {err['msg']}" for err in e.errors())
                    raise ValueError(f"{key}: {bad}") from None
        return self

    def finetune_for(self, task_name: str) -> FinetuneConfig:
        """The recipe's fine-tuning settings with the task's own overrides applied."""
        task = next(t for t in self.tasks if t.name == task_name)
        if not task.finetune:
            return self.finetune
        return FinetuneConfig.model_validate({**self.finetune.model_dump(), **task.finetune})

    def few_shot_finetune_for(self, task_name: str) -> FinetuneConfig:
        """The transfer table's few-shot fine-tuning settings for a task: the task's fine-tuning settings, then
        ``transfer.few_shot_finetune``, then that task's ``transfer.few_shot_finetune_tasks`` entry."""
        tr = self.transfer
        over = {**tr.few_shot_finetune, **tr.few_shot_finetune_tasks.get(task_name, {})} if tr is not None else {}
        cfg = self.finetune_for(task_name)
        return FinetuneConfig.model_validate({**cfg.model_dump(), **over}) if over else cfg

    @property
    def test_cap(self) -> int | None:
        """The transfer table's test subset size (``transfer.max_test_examples``): the in-context modes, both
        fine-tuning modes and the floors are all scored on that one stratified subset of each task's test split
        (:func:`dapt.tasks.stratified_test_subset`). None: the whole test split."""
        return self.transfer.max_test_examples if self.transfer is not None else None

    def curve_points(self) -> list[tuple[str, str, float]]:
        """``(task, variant, fraction)`` of the learning curve below fraction 1 (empty without one)."""
        lc = self.learning_curve
        if lc is None:
            return []
        tasks = [t.name for t in self.tasks if lc.tasks is None or t.name in lc.tasks]
        variants = [v for v in self.variants if lc.variants is None or v in lc.variants]
        return [(t, v, f) for t in tasks for v in variants for f in sorted(lc.fractions)]

    def config_hash(self) -> str:
        """Content hash of the validated recipe (key order and YAML formatting do not matter)."""
        d = self.model_dump(mode="json", exclude={"engine"})
        # Settings added later, while unset, leave the hash of every recipe written before them unchanged.
        if d.get("transfer") is None:
            d.pop("transfer", None)
        for t in d["tasks"]:
            if t.get("prompt") is None:
                t.pop("prompt", None)
        blob = json.dumps(d, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
