"""The ``dapt-pipeline`` flow: one Prefect task per stage and per (task, variant, seed), nothing else.

Every task calls a stage of :class:`dapt.pipeline.Run`; all logic lives in the library. Stage skipping on rerun
is the run directory's (``run.json`` records each completed stage with the recipe hash), so Prefect's own cache
is off (``cache_policy=NONE``): its default key includes the flow-run id and would never hit across runs. Without
``PREFECT_API_URL`` the flow runs against a temporary local Prefect server backed by SQLite.
"""

from __future__ import annotations

import sys

from pipelines.prefect_env import configure_prefect_env

configure_prefect_env()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NONE  # noqa: E402

from dapt.pipeline import PretrainJob, Run  # noqa: E402


@task(name="ingest", cache_policy=NONE)
def ingest(run: Run) -> dict:
    return run.ingest(progress=_progress())


@task(name="pretrain", cache_policy=NONE, task_run_name="pretrain-{job.variant}-{job.task}")
def pretrain(run: Run, job: PretrainJob) -> dict:
    return run.pretrain_job(job, progress=_progress())


@task(name="floors", cache_policy=NONE, task_run_name="floors-{task_name}")
def floors(run: Run, task_name: str) -> dict | None:
    return run.floors(task_name)


@task(name="finetune", cache_policy=NONE, task_run_name="finetune-{task_name}-{variant}-seed{seed}")
def finetune(run: Run, task_name: str, variant: str, seed: int) -> dict:
    return run.finetune(task_name, variant, seed, progress=_progress())


@task(name="evaluate", cache_policy=NONE)
def evaluate(run: Run) -> dict:
    return run.evaluate()


@task(name="report", cache_policy=NONE)
def report(run: Run) -> dict:
    return run.report()


@flow(name="dapt-pipeline", log_prints=False)  # True would log the bytecode dumps `datasets` prints to buffers
def dapt_pipeline(recipe: str, data_dir: str | None = None, out: str | None = None) -> dict:
    """Ingest -> pretrain -> floors -> fine-tune every (task, variant, seed) -> evaluate -> report."""
    logger = get_run_logger()
    run = Run.open(recipe, data_dir=data_dir, out=out)
    logger.info("recipe %s (hash %s) -> %s", run.recipe.name, run.recipe.config_hash(), run.out_dir)
    stats = ingest(run)
    logger.info("corpus: %s documents kept, %s tokens", stats["documents"]["kept"], stats["content_tokens"])
    for job in run.pretrain_jobs():  # dependency order: DAPT before DAPT+TAPT
        pretrain(run, job)
    for t in run.recipe.tasks:
        floors(run, t.name)
    # Sequential on purpose: the CPU cores are already used by each fine-tune's intra-op threads.
    for task_name, variant, seed in run.finetune_jobs():
        finetune(run, task_name, variant, seed)
    evaluate(run)
    results = report(run)
    create_markdown_artifact(
        key=_artifact_key(run.recipe.name, "report"),
        markdown=(run.out_dir / "report.md").read_text(),
        description="dapt report",
    )
    create_table_artifact(
        key=_artifact_key(run.recipe.name, "results"),
        table=_table_rows(results),
        description="test scores per task and variant",
    )
    return {"out_dir": str(run.out_dir), "results": results}


def _progress() -> bool:
    # Bars for a person at a terminal; none in a worker's captured logs.
    return sys.stderr.isatty()


def _artifact_key(recipe: str, what: str) -> str:
    # Artifact keys allow lowercase letters, digits and dashes only.
    return "".join(c if c.isalnum() else "-" for c in f"{recipe}-{what}".lower())


def _table_rows(results: dict) -> list[dict]:
    rows = []
    for task_name, variants in results["tasks"].items():
        for variant, r in variants.items():
            rows.append(
                {
                    "task": task_name,
                    "variant": variant,
                    "metric": r["metric"],
                    "mean": round(r["mean"], 4),
                    "std": round(r["std"], 4),
                    "below_floor": r.get("below_floor", False),
                }
            )
    return rows
