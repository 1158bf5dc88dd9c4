"""The transfer table's settings (decoders): how a task is put to a causal LM as a prompt, and which transfer modes
a run measures (zero-shot, few-shot in context, few-shot fine-tuned, fully fine-tuned)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from dapt.recipe.base import Metric, Variant, _Strict

TransferMode = Literal["zero_shot", "few_shot_icl", "few_shot_ft", "full_ft"]


class PromptConfig(_Strict):
    """A task as a prompt: ``template`` with ``{text}`` (and ``{context}`` where the task has one) is followed by
    a label's verbalizer, whose log-likelihood scores the label."""

    template: str
    verbalizers: dict[str, str] = Field(min_length=2)
    """label -> its words after the prompt, with the leading space (``" agonist"``): encoded separately and
    appended, so a label's tokens never depend on the prompt."""
    per_token: bool = False
    """Length-normalised: each verbalizer's log-likelihood divided by its number of tokens."""
    calibrate: bool = False
    """Contextual calibration (Zhao et al., 2021): subtract each label's log-probability on ``content_free``, so a
    label the prompt alone favours is not predicted for every input."""
    content_free: str = "N/A"

    @field_validator("template")
    @classmethod
    def _has_text(cls, v: str) -> str:
        if "{text}" not in v:
            raise ValueError("template: needs a {text} placeholder")
        try:
            v.format(text="", context="")
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"template: only {{text}} and {{context}} may be filled in ({e})") from None
        return v

    @field_validator("verbalizers")
    @classmethod
    def _distinct(cls, v: dict[str, str]) -> dict[str, str]:
        words = [w for w in v.values()]
        if any(not w.strip() for w in words):
            raise ValueError("verbalizers: a label's words are empty")
        if len(set(words)) != len(words):
            raise ValueError("verbalizers: two labels share the same words")
        return v


class ZeroShotTaskConfig(_Strict):
    """A general-domain task scored zero-shot only, before and after continued pretraining: forgetting in task
    terms (AG News), beside general-text perplexity. Keep its text out of the general corpus, or replay trains on
    it."""

    name: str
    path: str
    """A header-less CSV under the data root (``general/ag_news_csv/test.csv``)."""
    label_column: Annotated[int, Field(ge=0)] = 0
    text_columns: list[Annotated[int, Field(ge=0)]] = Field(default_factory=lambda: [1, 2], min_length=1)
    label_names: list[str] | None = None
    """The label cell is a 1-based index into these (AG News: ``classes.txt``); None: the cell is the label."""
    prompt: PromptConfig
    max_examples: Annotated[int, Field(ge=10)] | None = None
    """A label-stratified subset of this many examples (the same for every variant)."""
    metric: Metric = "accuracy"


class TransferConfig(_Strict):
    modes: list[TransferMode] = Field(min_length=1)
    icl_shots_per_label: Annotated[int, Field(ge=1, le=10)] = 1
    """``few_shot_icl``: demonstrations per label before each test input (seed-chosen, label-balanced, the same
    for every variant of a seed)."""
    icl_seeds: list[Annotated[int, Field(ge=0)]] | None = Field(default=None, min_length=2)
    """``few_shot_icl``: the demonstration draws (default: the recipe's seeds). Scoring in context costs about a
    zero-shot pass, far less than a fine-tune, and the demonstrations chosen move the score a lot, so more draws
    than fine-tuning seeds buy a usable interval cheaply (with 2, the t interval has 1 degree of freedom)."""
    ft_shots_per_label: Annotated[int, Field(ge=1)] = 16
    """``few_shot_ft``: labelled train examples per label (seed-chosen, as the demonstrations)."""
    few_shot_finetune: dict[str, Any] = Field(default_factory=dict)
    """``few_shot_ft``: settings over the task's fine-tuning ones (e.g. ``{strategy: lora, learning_rate: 1e-3}``),
    the same for every variant."""
    few_shot_finetune_tasks: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """``few_shot_ft``: per-task settings over ``few_shot_finetune`` (``{task: {learning_rate: 3e-3}}``), where a
    dev sweep (``dapt sweep --shots K``) finds the tasks want different ones."""
    ft_min_train_steps: Annotated[int, Field(ge=0)] = 50
    """``few_shot_ft``: epochs are raised until at least this many optimizer steps are taken."""
    max_test_examples: Annotated[int, Field(ge=10)] | None = None
    """Score the in-context modes on a label-stratified subset of this many test examples (the same for every
    variant, seed and mode); the report says so. None: the whole test split."""
    variants: list[Variant] | None = None
    """Variants given the in-context modes (default: every variant with one model for all tasks)."""
    general_tasks: list[ZeroShotTaskConfig] = []
    """General-domain tasks scored zero-shot for every variant (forgetting in task terms)."""

    @model_validator(mode="after")
    def _icl_seeds_distinct(self) -> TransferConfig:
        if self.icl_seeds is not None and len(set(self.icl_seeds)) != len(self.icl_seeds):
            raise ValueError(f"icl_seeds: {self.icl_seeds} repeats a seed (the same demonstrations twice)")
        return self

    @model_validator(mode="after")
    def _full_ft_is_the_reference(self) -> TransferConfig:
        if "full_ft" not in self.modes:
            raise ValueError("modes: must include full_ft (each cell is reported as a share of it)")
        return self
