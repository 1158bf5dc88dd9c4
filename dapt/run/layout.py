"""Every path of a run directory, in one place. Stages ask the layout where to read and write; nothing else
builds a run-directory path.

::

    <out>/recipe.yaml, run.json     the validated recipe; the stage ledger and provenance (:mod:`.ledger`)
    <out>/logs/dapt.log             everything the library logged
    <out>/locks/                    one flock file per stage
    <out>/corpus/, general/         ingested domain and general corpora (dataset/{train,heldout}, stats, data card)
    <out>/<tapt|knn-tapt>/<task>/   per-task corpora of the TAPT variants
    <out>/pretrain/<variant>[/<task>]/   model/, metrics.jsonl, summary.json
    <out>/floors/<task>.json        majority and tfidf-lr reference scores
    <out>/finetune/<task>/<variant>/[frac<f>/]seed<k>/   predictions_{dev,test}.jsonl, summary.json
    <out>/evaluation.json           test scores and comparisons
    <out>/results.json, report.md, report.html, figures/
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dapt.run.plan import PretrainJob, finetune_key, prompting_key


@dataclass(frozen=True)
class RunLayout:
    out_dir: Path

    @property
    def recipe_yaml(self) -> Path:
        return self.out_dir / "recipe.yaml"

    @property
    def run_json(self) -> Path:
        return self.out_dir / "run.json"

    @property
    def log_file(self) -> Path:
        return self.out_dir / "logs" / "dapt.log"

    @property
    def locks_dir(self) -> Path:
        return self.out_dir / "locks"

    @property
    def corpus_dir(self) -> Path:
        return self.out_dir / "corpus"

    @property
    def general_dir(self) -> Path:
        return self.out_dir / "general"

    def task_corpus_dir(self, kind: str, task: str) -> Path:
        """``tapt/<task>`` or ``knn-tapt/<task>``."""
        return self.out_dir / kind / task

    def job_dir(self, job: PretrainJob) -> Path:
        return self.out_dir / "pretrain" / job.variant / (job.task or "")

    def job_corpus_dir(self, job: PretrainJob) -> Path:
        """The ingested corpus a pretraining job trains on."""
        if job.variant in ("dapt", "dapt-replay"):
            return self.corpus_dir
        if job.variant == "scratch":  # the domain corpus, re-packed with the domain vocabulary
            return self.job_dir(job) / "scratch" / "corpus"
        if job.variant == "general":
            return self.general_dir
        return self.task_corpus_dir(job.corpus_kind, job.task)

    def floors_file(self, task: str) -> Path:
        return self.out_dir / "floors" / f"{task}.json"

    def finetune_dir(self, task: str, variant: str, seed: int, fraction: float = 1.0, shots: int | None = None) -> Path:
        return self.out_dir / finetune_key(task, variant, seed, fraction, shots)

    def prompting_dir(self, task: str, mode: str, variant: str, seed: int) -> Path:
        return self.out_dir / prompting_key(task, mode, variant, seed)

    @property
    def evaluation_json(self) -> Path:
        return self.out_dir / "evaluation.json"

    @property
    def results_json(self) -> Path:
        return self.out_dir / "results.json"

    @property
    def report_md(self) -> Path:
        return self.out_dir / "report.md"

    @property
    def report_html(self) -> Path:
        return self.out_dir / "report.html"

    @property
    def figures_dir(self) -> Path:
        return self.out_dir / "figures"
