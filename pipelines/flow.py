"""The ``dapt-pipeline`` flow: one Prefect task per stage, per pretraining job and per (task, variant, seed).

Every task calls a stage of :class:`dapt.run.Run`; all logic lives in the library. Caching is the run
directory's: each stage records the hash of the recipe settings it depends on in ``run.json`` and is skipped when
its output is complete for the same hash, so a rerun redoes only what is missing or changed, and a killed
pretraining resumes from its checkpoint. Prefect's own cache is off (``cache_policy=NONE``): its default key
includes the flow-run id and would never hit across runs. Stages hold a file lock, so the same stage started twice
on one run directory runs once. Failures that can be transient (I/O errors, timeouts, lost connections) are
retried with backoff; any failure attaches the error and the tail of the run's log as an artifact.
"""

from __future__ import annotations

import errno
import sys
import traceback
from typing import Any

from pipelines.prefect_env import configure_prefect_env

configure_prefect_env()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NONE  # noqa: E402

from dapt.run import PretrainJob, Run  # noqa: E402
from dapt.run.untrusted import (  # noqa: E402
    FlowPolicy,
    allow_outside_data_root,
    check_flow_parameters,
    process_is_trusted,
)
from pipelines.engine import gpu_annotation, pin_worker_gpu, task_runner  # noqa: E402

TRANSIENT_ERRNOS = {errno.EIO, errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.ECONNRESET, errno.ESTALE}


def is_transient(exc: BaseException | None) -> bool:
    """Worth retrying: network and timeout errors, and I/O errors of the passing kind (a missing file or a bad
    recipe fails the same way every time and is not retried)."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


def _retry_transient(task, task_run, state) -> bool:
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            state.result(raise_on_failure=True)
        except BaseException as e:  # inspected, not swallowed: Prefect re-raises it
            exc = e
    return is_transient(exc)


STAGE = dict(cache_policy=NONE, retries=2, retry_delay_seconds=[10, 60], retry_condition_fn=_retry_transient)


def _staged(run: Run, name: str, fn, *args, **kwargs):
    """Run a stage; on failure, attach the error and the run log's tail to the task run, then re-raise."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:
        create_markdown_artifact(
            key=_artifact_key(run.recipe.name, f"failure-{name}"),
            markdown=(
                f"# {name} failed\n\n```\n{''.join(traceback.format_exception(e))[-6000:]}```\n\n"
                f"## Last lines of `{run.log_file}`\n\n```\n{run.log_tail()}\n```\n"
            ),
            description=f"dapt stage {name} failed: {type(e).__name__}: {e}"[:500],
        )
        raise


@task(name="ingest", **STAGE)
def ingest(run: Run) -> dict:
    return _staged(run, "ingest", run.ingest, progress=_progress())


@task(name="ingest-part", task_run_name="ingest-{fn.__name__}", **STAGE)
def ingest_part(fn, args: tuple):
    """One map or reduce call of a sharded ingest (:mod:`dapt.ingest.process`), on the engine's workers."""
    return fn(*args)


@task(name="pretrain", task_run_name="pretrain-{job.variant}-{job.task}", **STAGE)
def pretrain(run: Run, job: PretrainJob) -> dict:
    return _staged(run, job.key, run.pretrain_job, job, progress=_progress())


@task(name="floors", task_run_name="floors-{task_name}", **STAGE)
def floors(run: Run, task_name: str) -> dict | None:
    return _staged(run, f"floors-{task_name}", run.floors, task_name)


@task(name="finetune", task_run_name="finetune-{task_name}-{variant}-seed{seed}", **STAGE)
def finetune(
    run: Run, task_name: str, variant: str, seed: int, fraction: float = 1.0, shots: int | None = None
) -> dict:
    pin_worker_gpu()
    name = f"finetune-{task_name}-{variant}-{seed}" + ("" if fraction == 1 else f"-frac{fraction:g}")
    name += "" if shots is None else f"-shots{shots}"
    return _staged(
        run, name, run.finetune, task_name, variant, seed, progress=_progress(), fraction=fraction, shots=shots
    )


@task(name="prompting", task_run_name="prompting-{task_name}-{mode}-{variant}-seed{seed}", **STAGE)
def prompting(run: Run, task_name: str, mode: str, variant: str, seed: int) -> dict:
    return _staged(run, f"prompting-{task_name}-{mode}-{variant}-{seed}", run.prompting, task_name, mode, variant, seed)


@task(name="evaluate", **STAGE)
def evaluate(run: Run) -> dict:
    return _staged(run, "evaluate", run.evaluate)


@task(name="report", **STAGE)
def report(run: Run) -> dict:
    return _staged(run, "report", run.report)


@flow(name="dapt-pipeline", log_prints=False, persist_result=True)  # log_prints: `datasets` prints bytecode dumps
def dapt_pipeline(
    recipe: str, data_dir: str | None = None, out: str | None = None, overrides: dict[str, Any] | None = None
) -> dict:
    """Ingest -> pretrain (each job) -> floors -> prompting (decoders' in-context modes) -> fine-tune every (task,
    variant, seed) -> evaluate -> report.

    Args:
        recipe: a shipped recipe name or a recipe file.
        data_dir: the data root (default: ``$DAPT_DATA_DIR``, else ``../shared/data``).
        out: the run directory (default: ``runs/<recipe name>``).
        overrides: dotted recipe keys to override, e.g. ``{"finetune.epochs": 2}``.

    Started by a deployment, the parameters are checked first (:mod:`dapt.run.untrusted`): shipped recipes, paths
    inside the worker's data and output roots, no ``trust_remote_code`` from overrides.
    """
    if not process_is_trusted():  # a deployment's run: its parameters may come from anyone who reaches the API
        policy = FlowPolicy.from_env()
        check_flow_parameters(recipe, data_dir, out, overrides, policy)
        out = out or str(policy.out_root / recipe)
    run = Run.open(
        recipe, data_dir=data_dir, out=out, overrides=overrides, allow_outside_data_root=allow_outside_data_root()
    )
    with run:  # detaches the run's log file when the flow ends, however it ends
        logger = get_run_logger()
        logger.info("recipe %s (hash %s) -> %s", run.recipe.name, run.recipe.config_hash(), run.out_dir)
        engine = run.recipe.engine
        if engine.kind == "dask":  # the ingest's map and reduce calls fan out as tasks on the cluster
            with task_runner(engine) as runner:
                stats = _staged(
                    run,
                    "ingest",
                    run.ingest,
                    progress=False,
                    submit=lambda fn, *args: runner.submit(ingest_part, {"fn": fn, "args": args}),
                )
        else:  # local: one task; ingest_workers > 1 uses a local process pool inside it
            stats = ingest(run)
        logger.info("corpus: %s documents kept, %s tokens", stats["documents"]["kept"], stats["content_tokens"])
        for job in run.pretrain_jobs():  # dependency order: DAPT before DAPT+TAPT
            pretrain(run, job)
        for t in run.recipe.tasks:
            floors(run, t.name)
        for task_name, mode, variant, seed in run.prompting_jobs():  # decoders' in-context modes (recipe.transfer)
            prompting(run, task_name, mode, variant, seed)
        # Full train sets, then learning curves, then the transfer table's few-shot fine-tunes (shots per label).
        jobs = [(t, v, s, f, None) for t, v, s, f in run.finetune_jobs()]
        jobs += [(t, v, s, 1.0, k) for t, v, s, k in run.fewshot_finetune_jobs()]
        if engine.finetune_workers == 1:
            # Sequential by default: on a CPU box the cores are already used by each fine-tune's intra-op threads.
            for task_name, variant, seed, fraction, shots in jobs:
                finetune(run, task_name, variant, seed, fraction, shots)
        else:  # fan out: engine.finetune_workers at once (threads here, or Dask workers, one per GPU with resources)
            with task_runner(engine) as runner, gpu_annotation(engine):
                futures = [
                    runner.submit(
                        finetune,
                        {"run": run, "task_name": t, "variant": v, "seed": s, "fraction": f, "shots": k},
                    )
                    for t, v, s, f, k in jobs
                ]
                for fut in futures:
                    fut.result()
        evaluate(run)
        results = report(run)
        _publish(run, results)
        return {"out_dir": str(run.out_dir), "results": results}


def _publish(run: Run, results: dict) -> None:
    name = run.recipe.name
    create_markdown_artifact(
        key=_artifact_key(name, "report"), markdown=(run.out_dir / "report.md").read_text(), description="dapt report"
    )
    create_table_artifact(
        key=_artifact_key(name, "results"), table=_table_rows(results), description="test scores per task and variant"
    )
    create_link_artifact(
        key=_artifact_key(name, "run-dir"),
        link=run.out_dir.as_uri(),
        link_text=str(run.out_dir),
        description="run directory (results.json, report.html, logs)",
    )
    create_link_artifact(
        key=_artifact_key(name, "report-html"),
        link=(run.out_dir / "report.html").as_uri(),
        link_text="report.html",
        description="self-contained report with figures",
    )
    for job in run.pretrain_jobs():
        model = run.job_dir(job) / "model"
        if model.is_dir():
            create_link_artifact(
                key=_artifact_key(name, f"model-{job.variant}-{job.task or 'all'}"),
                link=model.as_uri(),
                link_text=str(model),
                description=f"{job.key}: Hugging Face model folder",
            )


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
