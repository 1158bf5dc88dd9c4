"""Pretraining, task, TAPT, fine-tuning and learning-curve settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from dapt.recipe.base import (
    Metric,
    PositiveInt,
    Probability,
    Variant,
    _Strict,
)
from dapt.recipe.transfer import PromptConfig


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
        "peak_flops",
        "compile",
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
    """``auto``: bf16 autocast (fp32 master weights) where the device has native bf16 (a GPU that supports it, a CPU
    with AVX512_BF16 or AMX), fp32 elsewhere (:mod:`dapt.precision`); the choice is recorded in the summary."""
    compile: bool = False
    """``torch.compile`` the encoder (pretraining blocks have one shape, so it compiles once; the masked-position head,
    whose input size varies, stays eager). Compile time is counted in the run's tokens/s."""
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
    peak_flops: Annotated[float, Field(gt=0)] | None = None
    """Hardware peak per device in FLOP/s that MFU is measured against; ``None``: measured on this machine in the
    run's dtype (:mod:`dapt.measured_peak`, cached per machine). Set it to compare against a datasheet instead
    (~989e12 for H100 bf16 dense)."""

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

    HASH_OMIT_AT_DEFAULT = ("entity_markers", "pooling", "prompt")

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
    prompt: PromptConfig | None = None
    """The task as a prompt for a decoder's zero-shot and in-context modes (the recipe's ``transfer``)."""

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


class ScratchConfig(_Strict):
    """The ``scratch`` variant (the PubMedBERT alternative to DAPT): the base's architecture with fresh weights and a
    vocabulary trained on the domain corpus, pretrained from scratch on it."""

    vocab_size: Annotated[int, Field(ge=100)] = 30_522
    """Size of the domain vocabulary, trained (a tokenizer of the base's kind: WordPiece, BPE...) on the domain
    corpus's training documents only."""
    min_frequency: PositiveInt = 2
    """A piece must occur this often in the training documents to enter the vocabulary."""
    budget_multiple: Annotated[float, Field(gt=0)] = 4.0
    """Pretraining tokens as a multiple of ``pretrain.max_tokens`` (DAPT's budget): from scratch needs more."""
    learning_rate: Annotated[float, Field(gt=0)] | None = None
    """Default: ``pretrain.learning_rate``."""
    seed: int = 0
    """Seeds the fresh weights."""


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
        "mixed_precision",
        "max_train_examples",
        "max_eval_examples",
        "compile",
    )

    learning_rate: Annotated[float, Field(ge=0)] = 1e-4
    """0 is allowed on purpose: it is how the bag-of-words floor flag is exercised."""
    epochs: PositiveInt = 3
    batch_size: PositiveInt = 32
    eval_batch_size: PositiveInt = 256
    max_length: PositiveInt = 128
    compile: bool = False
    """``torch.compile`` the training forward, with batch widths padded to multiples of 32 tokens (at most
    ``max_length``) so it compiles once per width, not per batch; prediction stays eager. Compile time is counted
    in ``train_seconds``. Off by default: it did not pay for fp32 on a 2-core CPU (tests/benchmarks/README.md)."""
    mixed_precision: Literal["auto", "no", "bf16"] = "auto"
    """As ``pretrain.mixed_precision``, for training and prediction: ``auto`` is bf16 autocast where the device has
    native bf16, fp32 elsewhere."""
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
    max_train_examples: PositiveInt | None = None
    """Train on a label-stratified subset of this many examples (the same for every variant of a seed): a large
    model on a small machine. The summary and the report's settings show it; None: the whole train split."""
    max_eval_examples: PositiveInt | None = None
    """Choose the epoch on a label-stratified subset of this many dev examples (fixed, the same for every variant);
    test is always scored whole. None: all of dev."""


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
