"""Corpus settings: sources, quality filters, dedup, decontamination."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from dapt.recipe.base import (
    PositiveInt,
    Probability,
    SourceFormat,
    _Strict,
)


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
    min_words: PositiveInt = 8
    """A task text shorter than ``ngram_words`` but at least this long is matched as a word run inside corpus
    documents; shorter ones (a 3-word heading would match half the corpus) only as a whole document."""
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
