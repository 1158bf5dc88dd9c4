"""The stages of a run, as plain functions over a run directory (no Prefect here: the flow only wires these).

Run directory layout::

    <out>/recipe.yaml               the recipe as validated (JSON-compatible YAML)
    <out>/run.json                  recipe name, config hash, data root, versions, stage timings
    <out>/corpus/                   ingest of the domain corpus: dataset/{train,heldout}/shard-*.arrow, stats.json,
                                    manifest.json, rejects.jsonl, data_card.md, diagnostics.json
    <out>/general/                  the same for the general-domain corpus, when the recipe has one
    <out>/pretrain/                 pretrain: model/ (Hugging Face folder), metrics.jsonl, summary.json
    <out>/floors/<task>.json        majority and tfidf-lr reference scores
    <out>/finetune/<task>/<variant>/seed<k>/   predictions_{dev,test}.jsonl, summary.json
    <out>/evaluation.json           test scores per task/variant/seed (local evaluate modules)
    <out>/results.json, report.md   report

A stage whose output is complete for the same inputs (the hash of the recipe settings it depends on, see
``Run.stage_inputs``) is skipped: a rerun after a crash redoes only what is missing, and a changed key redoes only
the stages downstream of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from dapt.recipe import (
    TASK_VARIANTS,
    PretrainConfig,
    Recipe,
    RecipeError,
    check_paths,
    load_recipe,
    resolve_data_dir,
    resolve_recipe_path,
)

log = logging.getLogger("dapt")

STAGES = ("ingest", "pretrain", "floors", "finetune", "evaluate", "report")


@dataclass
class Run:
    recipe: Recipe
    recipe_file: Path
    data_root: Path
    out_dir: Path

    @classmethod
    def open(
        cls,
        recipe: str | os.PathLike,
        data_dir: str | None = None,
        out: str | None = None,
        overrides: dict | None = None,
    ) -> Run:
        """Load and validate the recipe (with dotted-key ``overrides``) and check every data path before any work
        starts."""
        recipe_file = resolve_recipe_path(recipe)
        r = load_recipe(recipe_file, overrides)
        data_root = resolve_data_dir(data_dir)
        check_paths(r, data_root, recipe_file)
        out_dir = Path(out) if out else Path("runs") / r.name
        out_dir = out_dir.resolve()
        out_dir.mkdir(parents=True, exist_ok=True)
        run = cls(r, recipe_file, data_root, out_dir)
        run._write_run_json()
        run._attach_log()
        return run

    @property
    def log_file(self) -> Path:
        return self.out_dir / "logs" / "dapt.log"

    def _attach_log(self) -> None:
        """Everything the library logs also goes to ``<out>/logs/dapt.log`` (attached to a failed stage's report)."""
        self.log_file.parent.mkdir(exist_ok=True)
        root = logging.getLogger("dapt")
        if not any(getattr(h, "baseFilename", None) == str(self.log_file) for h in root.handlers):
            h = logging.FileHandler(self.log_file)
            h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            root.addHandler(h)
            if root.level == logging.NOTSET or root.level > logging.INFO:
                root.setLevel(logging.INFO)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_file.is_file():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    # ---- bookkeeping -------------------------------------------------------------------------------------------
    def _write_run_json(self) -> None:
        with self._lock("run.json"):
            self._write_run_json_unlocked()

    def _write_run_json_unlocked(self) -> None:
        (self.out_dir / "recipe.yaml").write_text(
            f"# validated copy of {self.recipe_file}\n"
            + yaml.safe_dump(self.recipe.model_dump(mode="json"), sort_keys=False)
        )
        info = self.run_info()
        info.update(
            {
                "recipe": self.recipe.name,
                "recipe_file": str(self.recipe_file),
                "config_hash": self.recipe.config_hash(),
                "data_root": str(self.data_root),
                "provenance": provenance(),
            }
        )
        self._save_run_info(info)

    def run_info(self) -> dict:
        p = self.out_dir / "run.json"
        return json.loads(p.read_text()) if p.exists() else {"stages": {}}

    def _save_run_info(self, info: dict) -> None:
        tmp = self.out_dir / "run.json.tmp"
        tmp.write_text(json.dumps(info, indent=2))
        tmp.replace(self.out_dir / "run.json")

    def stage_inputs(self, key: str) -> dict:
        """The recipe settings a stage's output depends on: a change elsewhere in the recipe does not redo it."""
        r = self.recipe
        corpus = {
            "base_model": r.base_model,
            "trust_remote_code": r.trust_remote_code,
            "corpus": r.corpus.hash_dump(),
            "general_corpus": r.general_corpus.hash_dump() if r.general_corpus else None,
            # Decontamination reads the tasks' dev/test text; diagnostics their train text.
            "tasks": [
                t.hash_dump(include={"name", "format", "train", "dev", "test", "text_field", "token_column"})
                for t in r.tasks
            ],
            "block_size": r.pretrain.block_size,
            "heldout_fraction": r.pretrain.heldout_fraction,
            "seed": r.pretrain.seed,
        }
        if key == "ingest":
            return corpus
        if key.startswith("ingest/"):  # ingest/tapt/<task>, ingest/knn-tapt/<task>
            _, kind, task_name = key.split("/")
            out = {**corpus, "task_corpus": kind, "task": self.task(task_name).hash_dump()}
            if kind == "knn-tapt":
                out["knn"] = r.tapt.hash_dump(include={"knn_per_example", "knn_embedding_model"})
            return out
        if key.startswith("pretrain/"):
            job = PretrainJob.from_key(key)
            init = self.stage_inputs("pretrain/dapt") if job.variant == "dapt+tapt" else {"base": r.base_model}
            corpus_key = "ingest" if job.task is None else f"ingest/{job.corpus_kind}/{job.task}"
            pretrain = r.pretrain.hash_dump()
            if job.variant != "dapt-replay":
                pretrain.pop("replay_ratio", None)  # only that variant mixes: others keep their hash
            else:
                pretrain["replay_ratio"] = r.pretrain.replay_ratio
                pretrain["replay_corpus"] = r.general_corpus.hash_dump()
            return {
                "corpus": self.stage_inputs(corpus_key),
                "pretrain": pretrain,
                "tapt": r.tapt.hash_dump() if job.task else None,
                "init": init,
                "variant": job.variant,
            }
        if "/" not in key:  # evaluate, report: cheap, and they read everything
            return {"recipe": r.model_dump(mode="json")}
        stage, task_name, *rest = key.split("/")
        task = self.task(task_name).hash_dump()
        if stage == "floors":
            return {"task": task}
        if stage == "finetune":
            variant, *frac, seed = rest
            model = (
                {"base_model": r.base_model}
                if variant == "baseline"
                else self.stage_inputs(PretrainJob.for_variant(variant, task_name).key)
            )
            return {
                "task": task,
                "finetune": r.finetune_for(task_name).hash_dump(),
                "model": model,
                "variant": variant,
                "seed": seed,
                # Only on learning-curve points, so the full-train stages keep their hashes.
                **({"train_fraction": frac[0], "min_train_steps": r.learning_curve.min_train_steps} if frac else {}),
            }
        return {"recipe": r.model_dump(mode="json")}

    def stage_hash(self, key: str) -> str:
        blob = json.dumps(self.stage_inputs(key), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def _done(self, key: str) -> bool:
        st = self.run_info()["stages"].get(key)
        return bool(st and st.get("inputs_hash") == self.stage_hash(key) and st.get("status") == "done")

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        """One process at a time per stage: a second run of the same stage on the same run directory waits, then
        finds it done (same inputs) and reuses it. ``flock`` locks die with their process, so a killed run never
        leaves a stale lock."""
        import fcntl

        locks = self.out_dir / "locks"
        locks.mkdir(exist_ok=True)
        with open(locks / (key.replace("/", "__") + ".lock"), "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("%s: running in another process; waiting for it", key)
                fcntl.flock(f, fcntl.LOCK_EX)
            yield

    def _mark(self, key: str, seconds: float, **extra) -> None:
        with self._lock("run.json"):  # read-modify-write: concurrent stages must not lose each other's entries
            self._mark_unlocked(key, seconds, **extra)

    def _mark_unlocked(self, key: str, seconds: float, **extra) -> None:
        info = self.run_info()
        info["stages"][key] = {
            "status": "done",
            "inputs_hash": self.stage_hash(key),
            "seconds": round(seconds, 2),
            "finished_at": time.time(),
            **extra,
        }
        self._save_run_info(info)

    # ---- paths -------------------------------------------------------------------------------------------------
    @property
    def corpus_dir(self) -> Path:
        return self.out_dir / "corpus"

    @property
    def general_dir(self) -> Path:
        return self.out_dir / "general"

    @property
    def pretrain_dir(self) -> Path:
        """The DAPT run's folder (``pretrain/dapt``)."""
        return self.job_dir(PretrainJob("dapt"))

    def job_dir(self, job: PretrainJob) -> Path:
        return self.out_dir / "pretrain" / job.variant / (job.task or "")

    def job_corpus_dir(self, job: PretrainJob) -> Path:
        if job.variant in ("dapt", "dapt-replay"):
            return self.corpus_dir
        if job.variant == "general":
            return self.general_dir
        return self.out_dir / job.corpus_kind / job.task

    def model_hashes(self) -> dict[str, str]:
        """sha256 (first 16 hex digits) of the weights of the base model and of every adapted model."""
        from dapt.ingest.manifest import file_sha256

        dirs = {"baseline": self.model_dir("baseline")}
        dirs.update({job.key.removeprefix("pretrain/"): self.job_dir(job) / "model" for job in self.pretrain_jobs()})
        out = {}
        for name, d in dirs.items():
            weights = sorted(Path(d).glob("*.safetensors"))
            if weights:
                out[name] = file_sha256(weights[0])[:16]
        return out

    def pretrain_jobs(self) -> list[PretrainJob]:
        """Every continued-pretraining run the recipe's variants need, in dependency order (DAPT before DAPT+TAPT)."""
        v = self.recipe.variants
        jobs = []
        if "dapt" in v or "dapt+tapt" in v:
            jobs.append(PretrainJob("dapt"))
        if "dapt-replay" in v:
            jobs.append(PretrainJob("dapt-replay"))
        if "general" in v:
            jobs.append(PretrainJob("general"))
        for t in self.recipe.tasks:
            jobs += [PretrainJob(x, t.name) for x in TASK_VARIANTS if x in v]
        return jobs

    def model_dir(self, variant: str, task: str | None = None) -> Path:
        """The model a variant fine-tunes from (for the per-task variants, that task's)."""
        from dapt.models import resolve_model

        if variant == "baseline":
            return resolve_model(self.recipe.base_model)
        if variant not in ("dapt", "dapt-replay", "general") and task is None:
            raise ValueError(f"variant {variant!r} has one model per task: name the task")
        return self.job_dir(PretrainJob.for_variant(variant, task)) / "model"

    def finetune_key(self, task: str, variant: str, seed: int, fraction: float = 1.0) -> str:
        """``finetune/<task>/<variant>/seed<k>``; a learning-curve point adds ``frac<f>`` before the seed."""
        frac = "" if fraction == 1 else f"frac{fraction:g}/"
        return f"finetune/{task}/{variant}/{frac}seed{seed}"

    def finetune_dir(self, task: str, variant: str, seed: int, fraction: float = 1.0) -> Path:
        return self.out_dir / self.finetune_key(task, variant, seed, fraction)

    def finetune_jobs(self) -> list[tuple[str, str, int, float]]:
        """Every fine-tuning run: ``(task, variant, seed, train fraction)``; the full train set first."""
        r = self.recipe
        full = [(t.name, v, s, 1.0) for t in r.tasks for v in r.variants for s in r.seeds]
        return full + [(t, v, s, f) for t, v, f in r.curve_points() for s in r.seeds]

    def task(self, name: str):
        for t in self.recipe.tasks:
            if t.name == name:
                return t
        raise RecipeError(f"{self.recipe_file}: no task named {name!r}")

    # ---- stages ------------------------------------------------------------------------------------------------
    def ingest(self, progress: bool = True) -> dict:
        with self._lock("ingest"):
            return self._ingest(progress)

    def _ingest(self, progress: bool = True) -> dict:
        """Ingest the domain corpus (decontaminated against the tasks) and the general corpus if any, then the
        domain diagnostics (fertility, vocabulary overlap) across corpora and tasks."""
        if self._done("ingest"):
            log.info("ingest: complete for this recipe hash, skipped")
            return json.loads((self.corpus_dir / "stats.json").read_text())
        from transformers import AutoTokenizer

        from dapt.ingest import run_ingest
        from dapt.ingest.data_card import render_data_card
        from dapt.ingest.diagnostics import domain_diagnostics
        from dapt.models import resolve_model

        t0 = time.perf_counter()
        r = self.recipe
        tok = AutoTokenizer.from_pretrained(resolve_model(r.base_model), trust_remote_code=r.trust_remote_code)
        common = dict(
            tokenizer=tok,
            block_size=r.pretrain.block_size,
            heldout_fraction=r.pretrain.heldout_fraction,
            seed=r.pretrain.seed,
            progress=progress,
            tasks=r.tasks,
            tokenizer_name=r.base_model,
        )
        res = run_ingest(r.corpus, self.data_root, self.corpus_dir, name=f"{r.name} domain corpus", **common)
        corpora = {"domain": self.corpus_dir}
        if r.general_corpus is not None:
            run_ingest(r.general_corpus, self.data_root, self.general_dir, name=f"{r.name} general corpus", **common)
            corpora["general"] = self.general_dir
        diag = domain_diagnostics(corpora, r.tasks, self.data_root, tok, tokenizer_name=r.base_model)
        (self.corpus_dir / "diagnostics.json").write_text(json.dumps(diag, indent=2))
        (self.corpus_dir / "data_card.md").write_text(
            render_data_card(res.stats["name"], r.corpus, res.stats, diagnostics=diag)
        )
        self._mark("ingest", time.perf_counter() - t0)
        return res.stats

    def pretrain(self, progress: bool = True) -> dict | None:
        """Every pretraining job (see :meth:`pretrain_jobs`); returns the DAPT summary (or None without DAPT)."""
        out = None
        for job in self.pretrain_jobs():
            summary = self.pretrain_job(job, progress=progress)
            if job.variant == "dapt":
                out = summary
        if not self.pretrain_jobs():
            log.info("pretrain: no variant needs it, skipped")
        return out

    def pretrain_job(self, job: PretrainJob, progress: bool = True) -> dict:
        with self._lock(job.key):
            return self._pretrain_job(job, progress)

    def _pretrain_job(self, job: PretrainJob, progress: bool = True) -> dict:
        out_dir = self.job_dir(job)
        if self._done(job.key):
            log.info("%s: complete for this recipe hash, skipped", job.key)
            return json.loads((out_dir / "summary.json").read_text())
        if not (self.corpus_dir / "dataset" / "train").is_dir():
            raise FileNotFoundError(f"pretrain needs the ingested corpus: run `dapt ingest` first ({self.corpus_dir})")
        from dapt.models import resolve_model
        from dapt.pretrain import run_pretrain

        t0 = time.perf_counter()
        corpus = self.job_corpus_dir(job)
        if job.task is not None:
            self.ingest_task_corpus(job.corpus_kind, job.task, progress=progress)
        cfg = self.job_config(job)
        init = self.model_dir("dapt") if job.variant == "dapt+tapt" else resolve_model(self.recipe.base_model)
        if not (init / "config.json").is_file():
            raise FileNotFoundError(f"{job.key} starts from {init}: run the dapt pretraining first")
        train_data = corpus / "dataset"
        if cfg.extend_vocab_words and job.variant in ("dapt", "dapt-replay"):
            init, train_data = self._extend_vocab(job, init, cfg, progress)
        log.info("%s: %d tokens from %s on %s", job.key, cfg.max_tokens, init, train_data)
        res = run_pretrain(
            cfg,
            init,
            train_data,
            out_dir,
            trust_remote_code=self.recipe.trust_remote_code,
            progress=progress,
            general_dir=self.general_dir / "dataset" if self.recipe.general_corpus else None,
            heldout_dir=self.corpus_dir / "dataset",
            description=job.describe(self.recipe.base_model),
            replay_dir=self.general_dir / "dataset" if job.variant == "dapt-replay" else None,
        )
        self._mark(job.key, time.perf_counter() - t0)
        return res.summary

    def _extend_vocab(self, job: PretrainJob, init: Path, cfg: PretrainConfig, progress: bool) -> tuple[Path, Path]:
        """Extended tokenizer + model (``<job>/extended/init``) and the domain corpus re-packed with it
        (``<job>/extended/corpus``). Held-out perplexity stays on the base tokenization (old ids keep their
        meaning), so it is comparable across variants."""
        import gzip

        from transformers import AutoTokenizer

        from dapt.ingest import run_ingest
        from dapt.pretrain.train import load_lm
        from dapt.pretrain.vocab import extend_vocabulary, find_domain_words
        from dapt.recipe import CorpusConfig, CorpusSource, DecontaminationConfig, DedupConfig

        out = self.job_dir(job) / "extended"
        docs = self.corpus_dir / "documents.jsonl.gz"
        tokenizer = AutoTokenizer.from_pretrained(init, trust_remote_code=self.recipe.trust_remote_code)
        with gzip.open(docs, "rt", encoding="utf-8") as f:
            words = find_domain_words(
                (json.loads(line)["text"] for line in f), tokenizer, cfg.extend_vocab_words, cfg.extend_vocab_min_count
            )
        model = load_lm(init, cfg.objective, self.recipe.trust_remote_code)
        extend_vocabulary(model, tokenizer, [w.word for w in words])
        model.save_pretrained(out / "init", safe_serialization=True)
        tokenizer.save_pretrained(out / "init")
        (out / "words.json").write_text(
            json.dumps([{"word": w.word, "count": w.count, "pieces": w.pieces} for w in words], indent=1)
        )
        log.info("%s: vocabulary +%d domain words (e.g. %s)", job.key, len(words), ", ".join(w.word for w in words[:8]))
        # Already cleaned, deduplicated and decontaminated: only tokenize and pack again.
        repack = CorpusConfig(
            sources=[CorpusSource(name="domain", path=docs.name, format="jsonl", text_field="text", id_field="id")],
            min_chars=0,
            dedup=DedupConfig(exact=False, near=False),
            decontaminate=DecontaminationConfig(mode="off"),
        )
        res = run_ingest(
            repack,
            self.corpus_dir,
            out / "corpus",
            tokenizer,
            cfg.block_size,
            self.recipe.pretrain.heldout_fraction,
            seed=self.recipe.pretrain.seed,
            progress=progress,
            name="domain corpus, extended vocabulary",
        )
        return out / "init", res.dataset_dir

    def job_config(self, job: PretrainJob) -> PretrainConfig:
        """DAPT and the general control share ``pretrain``; the TAPT jobs run ``tapt.epochs`` passes over their
        task corpus, with ``tapt``'s learning rate and batch size where set."""
        p = self.recipe.pretrain
        if job.task is None:
            return p
        t = self.recipe.tapt
        stats = json.loads((self.job_corpus_dir(job) / "stats.json").read_text())
        blocks = stats["blocks"]["train"]
        return p.model_copy(
            update={
                "max_tokens": max(1, t.epochs * blocks * p.block_size),
                "learning_rate": t.learning_rate or p.learning_rate,
                "batch_size": min(t.batch_size or p.batch_size, blocks),
            }
        )

    def ingest_task_corpus(self, kind: str, task_name: str, progress: bool = True) -> dict:
        with self._lock(f"ingest/{kind}/{task_name}"):
            return self._ingest_task_corpus(kind, task_name, progress)

    def _ingest_task_corpus(self, kind: str, task_name: str, progress: bool = True) -> dict:
        """The corpus of a per-task variant: the task's train text (``tapt``), plus its nearest domain documents
        (``knn-tapt``). Decontaminated against every task's dev/test text like the domain corpus."""
        key = f"ingest/{kind}/{task_name}"
        out = self.out_dir / kind / task_name
        if self._done(key):
            return json.loads((out / "stats.json").read_text())
        from transformers import AutoTokenizer

        from dapt.ingest import run_ingest
        from dapt.models import resolve_model
        from dapt.recipe import CorpusConfig, CorpusSource

        t0 = time.perf_counter()
        r = self.recipe
        sources = [CorpusSource(name=f"{task_name}-train", path=task_name, format="task")]
        if kind == "knn-tapt":
            from dapt.ingest.knn import select_neighbours

            selected = select_neighbours(
                self.corpus_dir,
                self.task(task_name),
                self.data_root,
                resolve_model(r.tapt.knn_embedding_model),
                r.tapt.knn_per_example,
                out,
            )
            sources.append(CorpusSource(name="knn-domain", path=str(selected), format="jsonl", id_field="id"))
        cfg = CorpusConfig(
            sources=sources,
            quality=r.corpus.filters,
            detokenize=r.corpus.detokenize,
            dedup=r.corpus.dedup,
            decontaminate=r.corpus.decontaminate,
        )
        tok = AutoTokenizer.from_pretrained(resolve_model(r.base_model), trust_remote_code=r.trust_remote_code)
        res = run_ingest(
            cfg,
            self.data_root,
            out,
            tok,
            r.pretrain.block_size,
            0.0,  # perplexity is measured on the domain corpus's held-out split, the same for every variant
            seed=r.pretrain.seed,
            progress=progress,
            name=f"{r.name} {kind} corpus for {task_name}",
            tasks=r.tasks,
            tokenizer_name=r.base_model,
        )
        self._mark(key, time.perf_counter() - t0)
        return res.stats

    def floors(self, task_name: str) -> dict | None:
        with self._lock(f"floors/{task_name}"):
            return self._floors(task_name)

    def _floors(self, task_name: str) -> dict | None:
        if not self.recipe.floors:
            return None
        key = f"floors/{task_name}"
        path = self.out_dir / "floors" / f"{task_name}.json"
        if self._done(key):
            return json.loads(path.read_text())
        from dapt.floors import compute_floors

        t0 = time.perf_counter()
        res = compute_floors(self.task(task_name), self.data_root, self.out_dir / "floors")
        self._mark(key, time.perf_counter() - t0)
        return res

    def finetune(self, task_name: str, variant: str, seed: int, progress: bool = True, fraction: float = 1.0) -> dict:
        with self._lock(self.finetune_key(task_name, variant, seed, fraction)):
            return self._finetune(task_name, variant, seed, progress, fraction)

    def _finetune(self, task_name: str, variant: str, seed: int, progress: bool, fraction: float) -> dict:
        key = self.finetune_key(task_name, variant, seed, fraction)
        out = self.finetune_dir(task_name, variant, seed, fraction)
        if self._done(key):
            return json.loads((out / "summary.json").read_text())
        model_dir = self.model_dir(variant, task_name)
        if not (model_dir / "config.json").is_file():
            raise FileNotFoundError(f"variant {variant!r} needs {model_dir}: run `dapt pretrain` first")
        from dapt.finetune import run_finetune
        from dapt.finetune.token_train import run_token_finetune

        t0 = time.perf_counter()
        task = self.task(task_name)
        res = (run_token_finetune if task.is_tagging else run_finetune)(
            task,
            model_dir,
            self.recipe.finetune_for(task_name),
            seed,
            self.data_root,
            out,
            trust_remote_code=self.recipe.trust_remote_code,
            progress=progress,
            train_fraction=fraction,
            min_train_steps=self.recipe.learning_curve.min_train_steps if fraction < 1 else 0,
        )
        self._mark(key, time.perf_counter() - t0)
        return res.summary

    def evaluate(self) -> dict:
        with self._lock("evaluate"):
            return self._evaluate()

    def _evaluate(self) -> dict:
        """Score every test prediction file with the local evaluate modules; bootstrap each variant vs baseline."""

        t0 = time.perf_counter()
        evaluation: dict = {"test": {}, "comparisons": {}, "learning_curve": {}}
        r = self.recipe
        for task in r.tasks:
            files = {
                v: [self.finetune_dir(task.name, v, s) / "predictions_test.jsonl" for s in r.seeds] for v in r.variants
            }
            scores, comparisons = self._score_variants(task, files)
            evaluation["test"][task.name] = scores
            evaluation["comparisons"][task.name] = comparisons
        points: dict[tuple[str, float], list[str]] = {}
        for task_name, variant, fraction in r.curve_points():  # one scoring per (task, fraction), baseline once
            points.setdefault((task_name, fraction), []).append(variant)
        for (task_name, fraction), variants in points.items():
            files = {
                v: [self.finetune_dir(task_name, v, s, fraction) / "predictions_test.jsonl" for s in r.seeds]
                for v in variants
            }
            scores, comparisons = self._score_variants(self.task(task_name), files)
            evaluation["learning_curve"].setdefault(task_name, {})[f"{fraction:g}"] = {
                v: {**scores[v], **({"vs_baseline": comparisons[v]} if v in comparisons else {})} for v in variants
            }
        (self.out_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2))
        self._mark("evaluate", time.perf_counter() - t0)
        return evaluation

    def _score_variants(self, task, files: dict[str, list[Path]]) -> tuple[dict, dict]:
        """Score each variant's per-seed test predictions; paired bootstrap of each variant against baseline."""
        from dapt.evaluation.bootstrap import paired_bootstrap
        from dapt.evaluation.stage import read_predictions, score_predictions

        missing = [str(f) for fs in files.values() for f in fs if not f.is_file()]
        if missing:
            raise FileNotFoundError(f"evaluate: missing predictions (run `dapt finetune` first): {missing[:3]}")
        kwargs = {"scheme": task.tag_scheme} if task.is_tagging else {}
        scores = score_predictions(task.metric, {task.name: files}, kwargs)[task.name]
        preds = {v: [_as_array(read_predictions(f)[0]) for f in fs] for v, fs in files.items()}
        gold = _as_array(read_predictions(files["baseline"][0])[1])
        comparisons = {
            v: paired_bootstrap(task.metric, gold, preds[v], preds["baseline"], tag_scheme=task.tag_scheme)
            for v in files
            if v != "baseline"
        }
        return scores, comparisons

    def report(self) -> dict:
        with self._lock("report"):
            return self._report()

    def _report(self) -> dict:
        from dapt.report import build_results, render_report, validate_results

        ev_path = self.out_dir / "evaluation.json"
        if not ev_path.is_file():
            raise FileNotFoundError(f"report needs {ev_path}: run `dapt evaluate` first")
        evaluation = json.loads(ev_path.read_text())
        dev, cost, labels = {}, {}, {}
        for task in self.recipe.tasks:
            dev[task.name], cost[task.name] = {}, {}
            for v in self.recipe.variants:
                sums = [
                    json.loads((self.finetune_dir(task.name, v, s) / "summary.json").read_text())
                    for s in self.recipe.seeds
                ]
                dev[task.name][v] = [s[f"dev_{task.metric}"] for s in sums]
                cost[task.name][v] = {
                    "train_seconds_mean": float(np.mean([s["train_seconds"] for s in sums])),
                    "best_epochs": [s["best_epoch"] for s in sums],
                }
                labels[task.name] = sums[0]["labels"]
        from dapt.report.results import variant_row

        curve: dict = {}
        for task_name, points in evaluation.get("learning_curve", {}).items():
            metric = self.task(task_name).metric
            for frac, variants in points.items():
                for v, entry in variants.items():
                    sums = [
                        json.loads((self.finetune_dir(task_name, v, s, float(frac)) / "summary.json").read_text())
                        for s in self.recipe.seeds
                    ]
                    row = variant_row(
                        entry, list(self.recipe.seeds), [x[f"dev_{metric}"] for x in sums], entry.get("vs_baseline")
                    )
                    row["train_fraction"] = float(frac)
                    row["train_examples"] = [x["examples"]["train"] for x in sums]
                    row["train_seconds_mean"] = float(np.mean([x["train_seconds"] for x in sums]))
                    curve.setdefault(task_name, {}).setdefault(frac, {})[v] = row
        floors = {}
        for task in self.recipe.tasks:
            p = self.out_dir / "floors" / f"{task.name}.json"
            if p.is_file():
                floors[task.name] = json.loads(p.read_text())
        info = self.run_info()
        extra = {
            "corpus": _read_json(self.corpus_dir / "stats.json"),
            "general_corpus": _read_json(self.general_dir / "stats.json"),
            "diagnostics": _read_json(self.corpus_dir / "diagnostics.json"),
            "pretrain": _read_json(self.pretrain_dir / "summary.json"),
            "pretrain_jobs": {
                job.key.removeprefix("pretrain/"): {
                    "summary": _read_json(self.job_dir(job) / "summary.json"),
                    "curve": _read_jsonl(self.job_dir(job) / "metrics.jsonl"),
                }
                for job in self.pretrain_jobs()
            },
            "finetune_cost": cost,
            **({"learning_curve": curve} if curve else {}),
            "labels": labels,
            "floors": floors,
            "wall_seconds": sum(s.get("seconds", 0) for s in info["stages"].values()),
            "provenance": {
                **info.get("provenance", {}),
                "recipe_file": info.get("recipe_file"),
                "data_root": info.get("data_root"),
                "corpus_manifest_hash": (_read_json(self.corpus_dir / "stats.json") or {}).get("manifest_hash"),
                "model_sha256": self.model_hashes(),
            },
        }
        results = build_results(
            self.recipe.name,
            self.recipe.config_hash(),
            list(self.recipe.seeds),
            evaluation["test"],
            dev,
            evaluation["comparisons"],
            floors,
            extra,
        )
        validate_results(results)
        (self.out_dir / "results.json").write_text(json.dumps(results, indent=2))
        from dapt.report.html import render_html
        from dapt.report.plots import render_figures

        figures = render_figures(results, self.out_dir / "figures")
        md = render_report(results, figures)
        (self.out_dir / "report.md").write_text(md)
        (self.out_dir / "report.html").write_text(render_html(md, self.out_dir, f"dapt report: {self.recipe.name}"))
        return results


def _as_array(values: list) -> np.ndarray:
    """Label ids as an int array; tag sequences (lists of varying length) as a 1-D object array."""
    if values and isinstance(values[0], list):
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr
    return np.asarray(values)


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.is_file() else []


@dataclass(frozen=True)
class PretrainJob:
    """One continued-pretraining run: ``dapt`` and ``general`` once per recipe, the TAPT variants once per task."""

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
        }[self.variant]


def provenance() -> dict:
    import importlib.metadata as md

    versions = {}
    for pkg in (
        "dapt",
        "torch",
        "transformers",
        "datasets",
        "tokenizers",
        "evaluate",
        "prefect",
        "scikit-learn",
    ):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"],
                cwd=Path(__file__).parent,
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "git_commit": commit,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        **{f"version_{k}": v for k, v in versions.items()},
    }
