"""One typed, validated config per run: the recipe.

A recipe is a YAML file (loaded with ``yaml.safe_load``: no arbitrary objects) parsed into :class:`Recipe`.
Every model forbids unknown keys and uses strict types, so a typo or a wrong type fails *before* any work starts,
with the key path and the recipe file in the message. Paths in a recipe are relative to the data root
(``--data-dir`` or ``DAPT_DATA_DIR``); :func:`check_paths` verifies every one exists up front.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

RECIPES_DIR = Path(__file__).resolve().parent.parent / "pipelines" / "recipes"

Variant = Literal["baseline", "dapt", "dapt-replay", "tapt", "dapt+tapt", "knn-tapt", "general"]
"""``baseline``: the base model; ``dapt``: continued pretraining on the domain corpus; ``dapt-replay``: the same
with ``pretrain.replay_ratio`` of every batch drawn from the general corpus (the defence against forgetting);
``tapt``: on the task's own
train text (many epochs); ``dapt+tapt``: TAPT starting from the DAPT model; ``knn-tapt``: TAPT on the task's train
text plus the domain documents nearest to it by sentence embedding; ``general``: the control, continued
pretraining on the general corpus with DAPT's token budget (separates "more training" from "domain")."""
TASK_VARIANTS = ("tapt", "dapt+tapt", "knn-tapt")
"""Variants whose pretrained model is specific to each task."""
Metric = Literal["micro_f1", "macro_f1", "accuracy", "span_f1"]
PositiveInt = Annotated[int, Field(gt=0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _RecipeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also reads ``5e-4`` as a float (YAML 1.1 wants ``5.0e-4``; users write both)."""


_RecipeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


class RecipeError(ValueError):
    """A recipe is invalid: the message names the recipe file and the offending key or path."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    HASH_OMIT_AT_DEFAULT: ClassVar[tuple[str, ...]] = ()
    """Settings added after runs already existed. While at their default they are left out of stage hashes, so
    adding a setting does not invalidate finished stages whose output it cannot have changed."""

    def hash_dump(self, **kwargs) -> dict:
        """``model_dump(mode="json")`` for stage hashes (see ``HASH_OMIT_AT_DEFAULT``)."""
        out = self.model_dump(mode="json", **kwargs)
        for key in self.HASH_OMIT_AT_DEFAULT:
            if key in out and getattr(self, key) == type(self).model_fields[key].get_default(call_default_factory=True):
                del out[key]
        return out


SourceFormat = Literal["text", "jsonl", "json", "csv", "tsv", "parquet", "conll", "pubmed_xml", "hf", "task"]

# When ``path`` is a directory and no ``glob`` is given: the files of the source's format (gzip forms included).
FORMAT_SUFFIXES: dict[str, tuple[str, ...]] = {
    "text": (".txt",),
    "jsonl": (".jsonl", ".ndjson"),
    "json": (".json",),
    "csv": (".csv",),
    "tsv": (".tsv", ".tab"),
    "parquet": (".parquet",),
    "conll": (".conll", ".iob", ".iob2", ".bio", ".tsv"),
    "pubmed_xml": (".xml",),
}


class CorpusSource(_Strict):
    """One source of unlabelled text."""

    name: str
    """Kept with every document through the pipeline (stats are counted per source)."""
    path: str
    """File, directory or glob, relative to the data root; for ``hf``, a Hugging Face dataset name (or folder)."""
    glob: str | None = None
    """When ``path`` is a directory: which files under it to read (default: every file of ``format``, gzipped too)."""
    format: SourceFormat = "text"
    """``text``: plain text (see ``text_unit``); ``jsonl``/``json``: records with ``text_field``; ``csv``/``tsv``:
    a column; ``parquet``: a column; ``conll``: token-column files (sentences rebuilt from ``token_column``);
    ``pubmed_xml``: PubMed/MEDLINE ``PubmedArticleSet`` (title + abstract, id = PMID); ``hf``: a Hugging Face
    dataset streamed by name (needs the Hub; use a local folder offline); ``task``: the train text of the recipe's
    task named by ``path`` (a TAPT corpus: never its dev or test text)."""
    text_unit: Literal["line", "paragraph"] = "line"
    """``text`` only: a document per line, or per blank-line-separated paragraph."""
    text_field: str | int | list[str | int] = "text"
    """Field(s) holding the text (several are joined with a space; a list-of-strings value is joined too). CSV/TSV
    without ``header``: 0-based column indices."""
    id_field: str | int | None = None
    """Field holding a document id (kept in rejects and dedup reports); default: file and line/row number."""
    header: bool = True
    """``csv``/``tsv``: the first row names the columns."""
    token_column: int = 0
    """``conll``: the column holding the token (negative counts from the end)."""
    hf_split: str = "train"
    hf_config: str | None = None
    license: str | None = None
    """Shown in the generated data card."""
    max_documents: PositiveInt | None = None
    """Read at most this many records (for smoke tests); ``None`` reads everything."""

    @model_validator(mode="after")
    def _consistent(self) -> CorpusSource:
        fields = self.text_field if isinstance(self.text_field, list) else [self.text_field]
        if not fields:
            raise ValueError("text_field: give at least one field")
        ints = [f for f in fields if isinstance(f, int)]
        if ints and not (self.format in ("csv", "tsv") and not self.header):
            raise ValueError("text_field: column indices only work for csv/tsv with header: false")
        if self.format in ("csv", "tsv") and not self.header and len(ints) != len(fields):
            raise ValueError("text_field: csv/tsv with header: false needs 0-based column indices")
        return self


class DedupConfig(_Strict):
    exact: bool = True
    """Drop documents equal after lowercasing and removing whitespace (first occurrence kept)."""
    near: bool = True
    """Drop near-duplicates: MinHash over word n-grams, LSH banding, first occurrence kept."""
    ngram_words: PositiveInt = 5
    threshold: Annotated[float, Field(gt=0, lt=1)] = 0.8
    """Estimated Jaccard similarity of word n-gram sets above which a document is a near-duplicate."""
    num_perm: Annotated[int, Field(ge=16, le=1024)] = 128
    seed: int = 0


class DecontaminationConfig(_Strict):
    mode: Literal["drop", "flag", "off"] = "drop"
    """``drop``: remove pretraining documents that share an n-gram with task dev/test text; ``flag``: keep them and
    list them in ``contaminated.jsonl``; ``off``: no check (the data card says so)."""
    ngram_words: PositiveInt = 13
    splits: list[Literal["train", "dev", "test"]] = ["dev", "test"]
    """Task splits the corpus is checked against (train text is allowed in pretraining: that is TAPT)."""


class QualityConfig(_Strict):
    min_chars: Annotated[int, Field(ge=0)] = 20
    """Documents shorter than this after normalisation are dropped (``too_short``)."""
    max_chars: PositiveInt = 1_000_000
    """Longer documents are rejected (``too_long``); readers stop buffering a record at 4x this many bytes."""
    min_alpha_ratio: Probability = 0.0
    """Minimum share of letters among non-space characters (``low_alpha``): drops tables of numbers, markup."""
    max_duplicate_line_fraction: Probability = 1.0
    """Maximum share of a multi-line document's lines that repeat an earlier line of it (``repeated_lines``)."""


class CorpusConfig(_Strict):
    sources: list[CorpusSource] = Field(min_length=1)
    min_chars: Annotated[int, Field(ge=0)] = 20
    """Documents shorter than this after normalisation are dropped (counted as ``too_short``)."""
    quality: QualityConfig | None = None
    """Quality filters; ``min_chars`` above is kept as a shortcut for ``quality.min_chars``."""
    detokenize: bool = False
    """Undo PTB-style spacing (``( SA )`` -> ``(SA)``) and WikiText's ``@-@`` before tokenizing."""
    dedup: DedupConfig = DedupConfig()
    decontaminate: DecontaminationConfig = DecontaminationConfig()
    shard_blocks: PositiveInt = 16_384
    """Packed blocks per output shard (16k x 128 tokens x 4 bytes = 8 MB)."""

    @model_validator(mode="after")
    def _one_min_chars(self) -> CorpusConfig:
        if self.quality is not None and "min_chars" in self.model_fields_set:
            raise ValueError("min_chars: set it in quality.min_chars when a quality block is given")
        return self

    @property
    def filters(self) -> QualityConfig:
        return self.quality if self.quality is not None else QualityConfig(min_chars=self.min_chars)


class PretrainConfig(_Strict):
    """Continued masked-LM pretraining of the base model."""

    HASH_OMIT_AT_DEFAULT = (
        "checkpoint_every_steps",
        "whole_word_mask",
        "replay_ratio",
        "zero_stage",
        "offload_optimizer",
        "offload_params",
        "gradient_accumulation_steps",
        "num_processes",
        "mixed_precision",
        "lora_r",
        "lora_alpha",
        "lora_targets",
        "extend_vocab_words",
        "extend_vocab_min_count",
    )

    objective: Literal["mlm", "clm"] = "mlm"
    """``mlm``: masked LM (BERT/RoBERTa/MPNet encoders); ``clm``: next-token prediction (GPT-2/Llama decoders)."""
    max_tokens: PositiveInt
    """Token budget: training stops once this many tokens (block_size x sequences) have been seen."""
    block_size: PositiveInt = 128
    batch_size: PositiveInt = 32
    learning_rate: Annotated[float, Field(gt=0)] = 5e-4
    weight_decay: Annotated[float, Field(ge=0)] = 0.01
    warmup_ratio: Probability = 0.06
    mask_prob: Annotated[float, Field(gt=0, lt=1)] = 0.15
    replay_ratio: Annotated[float, Field(ge=0, lt=1)] = 0.25
    """``dapt-replay`` variant: the share of each batch's blocks drawn from the general corpus's train split
    (replay / mixture); other variants never mix."""
    whole_word_mask: bool = False
    """Mask whole words (all pieces of a chosen word) instead of single pieces; WordPiece and BPE/SentencePiece
    vocabularies (see ``dapt.pretrain.whole_word``)."""
    max_grad_norm: Annotated[float, Field(gt=0)] = 1.0
    heldout_fraction: Annotated[float, Field(ge=0, lt=0.5)] = 0.01
    """Fraction of packed blocks kept out of training to measure domain perplexity."""
    document_mask: bool = False
    """Attend only within each document of a packed block (block-diagonal mask) instead of across the block."""
    seed: int = 0
    log_every_steps: PositiveInt = 20
    checkpoint_every_steps: PositiveInt | None = 200
    """Atomic checkpoint (model, optimizer, scheduler, RNG, step) this often; a restarted run resumes from it."""
    eval_every_steps: PositiveInt | None = None
    """Held-out domain and general perplexity every this many steps (the pretraining curves); None: start and end
    only."""
    num_processes: PositiveInt = 1
    """Training processes on this machine (GPUs, or CPU processes sharing the cores); the global batch is
    ``batch_size x gradient_accumulation_steps x num_processes`` blocks."""
    zero_stage: Literal[0, 1, 2, 3] | None = None
    """DeepSpeed ZeRO stage through accelerate; ``None``: plain PyTorch (DDP with several processes)."""
    offload_optimizer: bool = False
    """ZeRO 1-3: keep optimizer states in CPU memory."""
    offload_params: bool = False
    """ZeRO 3: keep parameters in CPU memory."""
    gradient_accumulation_steps: PositiveInt = 1
    mixed_precision: Literal["auto", "no", "bf16"] = "auto"
    """``auto``: bf16 on a GPU that has it, fp32 on CPU."""
    lora_r: PositiveInt | None = None
    """LoRA domain adapters (peft): train rank-``lora_r`` adapters on ``lora_targets`` only, merged into the weights
    on export (a plain model comes out); ``None``: every weight trains."""
    lora_alpha: PositiveInt = 16
    lora_targets: list[str] = ["query", "value"]
    """Module names the adapters go on (BERT: query/value; Llama/SmolLM2: q_proj/v_proj)."""
    extend_vocab_words: Annotated[int, Field(ge=0)] = 0
    """Vocabulary extension for the jobs on the domain corpus (``dapt``, ``dapt-replay``): add the K frequent domain
    words the base tokenizer splits into the most pieces (``dapt.pretrain.vocab``), each new embedding the mean of
    its old pieces; the domain corpus is re-packed with the extended tokenizer for training. 0: off."""
    extend_vocab_min_count: PositiveInt = 20
    """A word must occur this often in the domain corpus to be added."""
    peak_flops: Annotated[float, Field(gt=0)] = 1.0e12
    """Hardware peak in FLOP/s used for MFU (1e12 ~ a 2-core AVX2 CPU in fp32; ~989e12 for H100 bf16 dense)."""

    @model_validator(mode="after")
    def _engine_consistent(self) -> PretrainConfig:
        if self.offload_optimizer and not self.zero_stage:
            raise ValueError("pretrain.offload_optimizer: needs zero_stage 1, 2 or 3")
        if self.offload_params and self.zero_stage != 3:
            raise ValueError("pretrain.offload_params: needs zero_stage 3")
        if self.lora_r is not None and self.zero_stage == 3:
            raise ValueError("pretrain.lora_r: LoRA adapters with ZeRO-3 are not supported (use zero_stage 0-2)")
        if self.lora_r is not None and self.extend_vocab_words:
            raise ValueError("pretrain.extend_vocab_words: new embeddings must train; not with LoRA adapters (lora_r)")
        if self.objective == "clm" and (self.whole_word_mask or self.document_mask):
            raise ValueError("pretrain: whole_word_mask and document_mask are masked-LM settings (objective mlm)")
        return self


class TaskConfig(_Strict):
    """A labelled downstream task: sequence classification (``jsonl``, ``piboso``) or token tagging (``conll``)."""

    HASH_OMIT_AT_DEFAULT = ("entity_markers", "pooling")

    name: str
    format: Literal["jsonl", "piboso", "conll"]
    """``jsonl``: ``{"text": ..., "label": ...}`` per line; ``piboso``: ``###id`` + ``label<TAB>sentence``;
    ``conll``: one token per line with columns (tab- or space-separated), a blank line between sentences."""
    train: str
    dev: str
    test: str
    metric: Metric = "micro_f1"
    text_field: str = "text"
    label_field: str = "label"
    max_examples: PositiveInt | None = None
    """Use only the first N examples of each split (smoke tests)."""
    finetune: dict[str, Any] = Field(default_factory=dict)
    """Per-task overrides of the recipe's ``finetune`` settings (e.g. ``{epochs: 3}``); still identical for every
    variant of this task."""
    token_column: int = 0
    """``conll``: the column holding the token (0-based; negative counts from the end)."""
    tag_column: int = -1
    """``conll``: the column holding the BIO/BIOES tag."""
    tag_scheme: Literal["BIO", "BIOES"] = "BIO"
    context_sentences: Annotated[int, Field(ge=0)] = 0
    """``piboso`` only: pass the k sentences before and after (and the position in the abstract) as a second
    segment. The floors see the same context."""
    entity_markers: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = []
    """Relation tasks: the inline ``[open, close]`` marker pairs around each entity (chemprot:
    ``[["<<", ">>"], ["[[", "]]"]]``). They are added to the tokenizer as special tokens, so each marker is one
    token that WordPiece/BPE never splits; their new embeddings start at the mean of the old ones."""
    pooling: Literal["cls", "entity_start"] = "cls"
    """Sentence classification: the first token's final state (``cls``), or the concatenated final states at each
    entity's opening marker (``entity_start``, Baldini Soares et al. 2019; needs ``entity_markers``)."""

    @model_validator(mode="after")
    def _consistent(self) -> TaskConfig:
        if self.context_sentences and self.format != "piboso":
            raise ValueError("context_sentences: only the piboso format has abstracts to take context from")
        if self.pooling == "entity_start" and not self.entity_markers:
            raise ValueError("pooling: entity_start needs entity_markers (the opening markers are pooled)")
        if self.entity_markers and self.format == "conll":
            raise ValueError("entity_markers: for relation classification (jsonl/piboso), not token tagging")
        if self.format == "conll" and self.pooling != "cls":
            raise ValueError("pooling: token tagging classifies every token; pooling is for sentence tasks")
        if (self.format == "conll") != (self.metric == "span_f1"):
            raise ValueError("metric: span_f1 goes with format conll (token tagging), and only with it")
        return self

    @property
    def is_tagging(self) -> bool:
        return self.format == "conll"


class TaptConfig(_Strict):
    """Task-adaptive pretraining (Gururangan et al. 2020, section 4): the same objective on the task's train text."""

    epochs: PositiveInt = 20
    """Passes over the task corpus (the DAPT paper used 100 on GPUs)."""
    learning_rate: Annotated[float, Field(gt=0)] | None = None
    """Default: ``pretrain.learning_rate``."""
    batch_size: PositiveInt | None = None
    """Default: ``pretrain.batch_size``."""
    knn_per_example: PositiveInt = 4
    """``knn-tapt``: domain documents added per task train example (its nearest neighbours, cosine similarity)."""
    knn_embedding_model: str = "all-minilm-l6-v2"
    """Sentence-embedding model for ``knn-tapt`` (mean-pooled, normalised), a name from ``dapt models`` or a path."""


class FinetuneConfig(_Strict):
    """Identical for every variant, so the comparison isolates the pretraining."""

    HASH_OMIT_AT_DEFAULT = (
        "strategy",
        "partial_layers",
        "layer_lr_decay",
        "lora_r",
        "lora_alpha",
        "lora_dropout",
        "lora_targets",
    )

    learning_rate: Annotated[float, Field(ge=0)] = 1e-4
    """0 is allowed on purpose: it is how the bag-of-words floor flag is exercised."""
    epochs: PositiveInt = 3
    batch_size: PositiveInt = 32
    eval_batch_size: PositiveInt = 256
    max_length: PositiveInt = 128
    weight_decay: Annotated[float, Field(ge=0)] = 0.01
    warmup_ratio: Probability = 0.1
    max_grad_norm: Annotated[float, Field(gt=0)] = 1.0
    dropout: Probability | None = None
    """Override the model's hidden dropout; ``None`` keeps the checkpoint's value."""
    strategy: Literal["full", "frozen", "partial", "lora", "gradual", "discriminative", "auto"] = "full"
    """How much of the encoder trains (see ``dapt.finetune.strategies``); ``auto`` picks by train-set size."""
    partial_layers: PositiveInt = 2
    """``partial``: the top this many transformer blocks train (with the head)."""
    layer_lr_decay: Annotated[float, Field(gt=0, le=1)] = 0.8
    """``discriminative``: learning-rate factor per block down from the top."""
    lora_r: PositiveInt = 8
    lora_alpha: PositiveInt = 16
    lora_dropout: Probability = 0.1
    lora_targets: list[str] = ["query", "value"]
    """``lora``: the modules adapters are put on (BERT attention projection names)."""


class LearningCurveConfig(_Strict):
    """Fine-tune on fractions of each train set too (the same subsets for every variant): DAPT matters most when
    labels are scarce. The full train set (fraction 1) is the main comparison and always runs."""

    fractions: list[Annotated[float, Field(gt=0, lt=1)]] = Field(min_length=1)
    """Fractions of the train set below 1, e.g. ``[0.01, 0.1]``; stratified by label and nested."""
    variants: list[Variant] | None = None
    """Variants on the curve (must include ``baseline``); default: all of the recipe's."""
    tasks: list[str] | None = None
    """Tasks on the curve; default: all."""
    min_train_steps: Annotated[int, Field(ge=0)] = 100
    """A subset trains for the recipe's epochs, or more until it has taken this many optimizer steps."""


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
    floors: bool = True
    """Compute the majority-class and TF-IDF + logistic-regression reference rows for every task."""
    learning_curve: LearningCurveConfig | None = None

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
        for task in self.tasks:
            try:
                self.finetune_for(task.name)
            except ValidationError as e:
                bad = "; ".join(f"{_format_loc(err['loc'])}: {err['msg']}" for err in e.errors())
                raise ValueError(f"tasks[{task.name}].finetune: {bad}") from None
        return self

    def finetune_for(self, task_name: str) -> FinetuneConfig:
        """The recipe's fine-tuning settings with the task's own overrides applied."""
        task = next(t for t in self.tasks if t.name == task_name)
        if not task.finetune:
            return self.finetune
        return FinetuneConfig.model_validate({**self.finetune.model_dump(), **task.finetune})

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
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


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
        problems = [f"  {_format_loc(err['loc'])}: {err['msg']}" for err in e.errors()]
        raise RecipeError(f"{path}: invalid recipe\n" + "\n".join(problems)) from None


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """``--data-dir`` wins, then ``DAPT_DATA_DIR``, then ``../shared/data`` beside the checkout."""
    if data_dir is None:
        data_dir = os.environ.get("DAPT_DATA_DIR")
    if data_dir is None:
        data_dir = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
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


def check_paths(recipe: Recipe, data_root: Path, recipe_file: str | os.PathLike = "<recipe>") -> None:
    """Fail before any work starts if a file the recipe names is missing.

    Raises:
        RecipeError: naming each missing path with its key.
    """
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
    if missing:
        raise RecipeError(f"{recipe_file}: missing data under {data_root}\n" + "\n".join(missing))
