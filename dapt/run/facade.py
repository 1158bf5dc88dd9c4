"""``Run``: the entry point the CLI and the Prefect flow call. It opens a run directory (validated recipe, data
root, ledger, log file) and hands each stage its :class:`~dapt.run.context.RunContext`; the stages' bodies and the
inputs they depend on live in their own folders."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dapt.models import ModelNotFoundError, check_model_available
from dapt.recipe import Recipe, RecipeError, check_paths, load_recipe, resolve_data_dir, resolve_recipe_path
from dapt.run.context import RunContext
from dapt.run.layout import RunLayout
from dapt.run.ledger import Ledger, inputs_hash
from dapt.run.plan import PretrainJob, fewshot_finetune_jobs, finetune_jobs, pretrain_jobs, prompting_jobs
from dapt.run.provenance import freeze_code, provenance

STAGES = ("ingest", "pretrain", "floors", "finetune", "evaluate", "report")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass
class Run:
    ctx: RunContext
    _handlers: list[logging.Handler] = field(default_factory=list, repr=False)

    @classmethod
    def open(
        cls,
        recipe: str | os.PathLike,
        data_dir: str | None = None,
        out: str | None = None,
        overrides: dict | None = None,
        allow_outside_data_root: bool = False,
    ) -> Run:
        """Load and validate the recipe (with dotted-key ``overrides``) and check every data path before any work
        starts: each must exist and, unless ``allow_outside_data_root``, stay inside the data root."""
        recipe_file, r, data_root = cls.check(recipe, data_dir, overrides, allow_outside_data_root)
        freeze_code()  # the code stages will run is the code their records name
        out_dir = (Path(out) if out else Path("runs") / r.name).resolve()
        out_dir.mkdir(parents=True, exist_ok=True)
        layout = RunLayout(out_dir)
        run = cls(RunContext(r, recipe_file, data_root, layout, Ledger(layout.run_json, layout.locks_dir)))
        run._write_run_json()
        run._attach_log()
        return run

    @staticmethod
    def check(
        recipe: str | os.PathLike,
        data_dir: str | None = None,
        overrides: dict | None = None,
        allow_outside_data_root: bool = False,
    ) -> tuple[Path, Recipe, Path]:
        """Everything :meth:`open` validates, without creating anything: the recipe file, the recipe, the data root.

        Raises:
            RecipeError: naming the file and each offending key or path.
        """
        recipe_file = resolve_recipe_path(recipe)
        r = load_recipe(recipe_file, overrides)
        data_root = resolve_data_dir(data_dir)
        check_paths(r, data_root, recipe_file, allow_outside_data_root)
        try:
            check_model_available(r.base_model)
        except ModelNotFoundError as e:
            raise RecipeError(f"{recipe_file}: base_model: {e}") from None
        return recipe_file, r, data_root

    # ---- what the run is -------------------------------------------------------------------------------------
    @property
    def recipe(self) -> Recipe:
        return self.ctx.recipe

    @property
    def data_root(self) -> Path:
        return self.ctx.data_root

    @property
    def out_dir(self) -> Path:
        return self.ctx.layout.out_dir

    @property
    def layout(self) -> RunLayout:
        return self.ctx.layout

    @property
    def log_file(self) -> Path:
        return self.ctx.layout.log_file

    def pretrain_jobs(self) -> list[PretrainJob]:
        return pretrain_jobs(self.recipe)

    def finetune_jobs(self) -> list[tuple[str, str, int, float]]:
        return finetune_jobs(self.recipe)

    def fewshot_finetune_jobs(self) -> list[tuple[str, str, int, int]]:
        return fewshot_finetune_jobs(self.recipe)

    def prompting_jobs(self) -> list[tuple[str, str, str, int]]:
        return prompting_jobs(self.recipe)

    def job_dir(self, job: PretrainJob) -> Path:
        return self.ctx.layout.job_dir(job)

    def run_info(self) -> dict:
        return self.ctx.ledger.read()

    def stage_inputs(self, key: str) -> dict:
        """The recipe settings the stage ``key`` depends on (declared by each stage beside its code)."""
        from dapt.evaluation import evaluation_inputs
        from dapt.finetune import finetune_inputs
        from dapt.floors import floor_inputs
        from dapt.ingest import corpus_inputs, task_corpus_inputs
        from dapt.pretrain import job_inputs

        if key == "ingest":
            return corpus_inputs(self.ctx)
        if key.startswith("ingest/"):  # ingest/tapt/<task>, ingest/knn-tapt/<task>
            _, kind, task_name = key.split("/")
            return task_corpus_inputs(self.ctx, kind, task_name)
        if key.startswith("pretrain/"):
            return job_inputs(self.ctx, PretrainJob.from_key(key))
        if key.startswith("floors/"):
            return floor_inputs(self.ctx, key.split("/")[1])
        if key.startswith("prompting/"):
            from dapt.prompting import prompting_inputs

            _, task_name, mode, variant, seed = key.split("/")
            return prompting_inputs(self.ctx, task_name, mode, variant, int(seed.removeprefix("seed")))
        if key.startswith("finetune/"):
            _, task_name, variant, *subset, seed = key.split("/")
            frac = [x for x in subset if x.startswith("frac")]
            shots = [int(x.removeprefix("shots")) for x in subset if x.startswith("shots")]
            fraction = float(frac[0].removeprefix("frac")) if frac else 1.0
            return finetune_inputs(self.ctx, task_name, variant, seed, fraction, shots[0] if shots else None)
        return evaluation_inputs(self.ctx)  # evaluate, report: they read everything

    def stage_hash(self, key: str) -> str:
        return inputs_hash(self.stage_inputs(key))

    # ---- the stages --------------------------------------------------------------------------------------------
    def ingest(self, progress: bool = True, submit=None) -> dict:
        from dapt.ingest import ingest_corpora

        return ingest_corpora(self.ctx, progress, submit)

    def ingest_task_corpus(self, kind: str, task_name: str, progress: bool = True) -> dict:
        from dapt.ingest import ingest_task_corpus

        return ingest_task_corpus(self.ctx, kind, task_name, progress)

    def pretrain(self, progress: bool = True) -> dict | None:
        from dapt.pretrain import pretrain_all

        return pretrain_all(self.ctx, progress)

    def pretrain_job(self, job: PretrainJob, progress: bool = True) -> dict:
        from dapt.pretrain import pretrain_job

        return pretrain_job(self.ctx, job, progress)

    def floors(self, task_name: str) -> dict | None:
        from dapt.floors import floors_stage

        return floors_stage(self.ctx, task_name)

    def finetune(
        self,
        task_name: str,
        variant: str,
        seed: int,
        progress: bool = True,
        fraction: float = 1.0,
        shots: int | None = None,
    ) -> dict:
        from dapt.finetune import finetune_stage

        return finetune_stage(self.ctx, task_name, variant, seed, progress, fraction, shots)

    def prompting(self, task_name: str, mode: str, variant: str, seed: int) -> dict:
        from dapt.prompting import prompting_stage

        return prompting_stage(self.ctx, task_name, mode, variant, seed)

    def evaluate(self) -> dict:
        from dapt.evaluation import evaluate_stage

        return evaluate_stage(self.ctx)

    def report(self) -> dict:
        from dapt.report import report_stage

        return report_stage(self.ctx)

    # ---- the run directory's own files ------------------------------------------------------------------------
    def _write_run_json(self) -> None:
        ctx = self.ctx
        ctx.layout.recipe_yaml.write_text(
            f"# validated copy of {ctx.recipe_file}\n"
            + yaml.safe_dump(ctx.recipe.model_dump(mode="json"), sort_keys=False)
        )

        def change(info: dict) -> None:
            info.update(
                {
                    "recipe": ctx.recipe.name,
                    "recipe_file": str(ctx.recipe_file),
                    "config_hash": ctx.recipe.config_hash(),
                    "data_root": str(ctx.data_root),
                    "provenance": provenance(),
                }
            )

        ctx.ledger.update(change)

    def _attach_log(self) -> None:
        """Everything the library logs also goes to ``<out>/logs/dapt.log`` (attached to a failed stage's report),
        until :meth:`close`."""
        self.log_file.parent.mkdir(exist_ok=True)
        root = logging.getLogger("dapt")
        if not any(getattr(h, "baseFilename", None) == str(self.log_file) for h in root.handlers):
            h = logging.FileHandler(self.log_file)
            h.setFormatter(logging.Formatter(LOG_FORMAT))
            root.addHandler(h)
            self._handlers.append(h)
            if root.level == logging.NOTSET or root.level > logging.INFO:
                root.setLevel(logging.INFO)

    def close(self) -> None:
        """Detach this run's log file: later runs in the same process (a sweep, a test session, a worker serving
        several flow runs) must not write into it."""
        root = logging.getLogger("dapt")
        for h in self._handlers:
            root.removeHandler(h)
            h.close()
        self._handlers.clear()

    def __getstate__(self) -> dict:
        # A run travels to engine workers (Dask processes) without its log handlers; there it freezes its own code
        # (what its stage records name) and logs into the same run log.
        return {"ctx": self.ctx}

    def __setstate__(self, state: dict) -> None:
        self.ctx, self._handlers = state["ctx"], []
        freeze_code()
        self._attach_log()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_file.is_file():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
