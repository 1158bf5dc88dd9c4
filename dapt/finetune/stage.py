"""The fine-tuning stage of a run: one (task, variant, seed, train fraction) job, from the variant's model."""

from __future__ import annotations

import json

from dapt.device import pick_device
from dapt.precision import resolve_precision
from dapt.pretrain import job_inputs
from dapt.run.context import RunContext
from dapt.run.plan import PretrainJob, finetune_key
from dapt.run.provenance import source_hash


def finetune_settings(ctx: RunContext, task_name: str, shots: int | None = None):
    """The fine-tuning settings of a job: the recipe's with the task's overrides, and for a few-shot fine-tune
    (the transfer table) ``transfer.few_shot_finetune`` and the task's ``few_shot_finetune_tasks`` on top."""
    r = ctx.recipe
    return r.finetune_for(task_name) if shots is None else r.few_shot_finetune_for(task_name)


def finetune_inputs(
    ctx: RunContext, task_name: str, variant: str, seed: str | int, fraction: float = 1.0, shots: int | None = None
) -> dict:
    """``seed`` as it appears in the stage key (``seed<k>``): hashes of finished runs must not change."""
    r = ctx.recipe
    cfg = finetune_settings(ctx, task_name, shots)
    model = (
        {"base_model": r.base_model}
        if variant == "baseline"
        else job_inputs(ctx, PretrainJob.for_variant(variant, task_name))
    )
    return {
        "task": ctx.task(task_name).hash_dump(),
        "finetune": cfg.hash_dump(),
        "model": model,
        "variant": variant,
        "seed": seed,
        "code": source_hash("finetune", "tasks", "metrics"),
        "precision": resolve_precision(cfg.mixed_precision, pick_device()).dtype,
        # Only on learning-curve points, so the full-train stages keep their hashes.
        **(
            {"train_fraction": f"frac{fraction:g}", "min_train_steps": r.learning_curve.min_train_steps}
            if fraction != 1
            else {}
        ),
        **({"shots_per_label": shots, "min_train_steps": r.transfer.ft_min_train_steps} if shots is not None else {}),
        **({"max_test_examples": r.test_cap} if r.test_cap is not None else {}),
    }


def finetune_stage(
    ctx: RunContext,
    task_name: str,
    variant: str,
    seed: int,
    progress: bool = True,
    fraction: float = 1.0,
    shots: int | None = None,
) -> dict:
    key = finetune_key(task_name, variant, seed, fraction, shots)
    out = ctx.layout.finetune_dir(task_name, variant, seed, fraction, shots)
    outputs = (out / "summary.json", out / "predictions_test.jsonl")
    with ctx.stage(key, finetune_inputs(ctx, task_name, variant, f"seed{seed}", fraction, shots), outputs) as st:
        if st.done:
            return json.loads((out / "summary.json").read_text())
        model_dir = ctx.model_dir(variant, task_name)
        if not (model_dir / "config.json").is_file():
            raise FileNotFoundError(f"variant {variant!r} needs {model_dir}: run `dapt pretrain` first")
        from dapt.finetune.train import run_finetune

        res = run_finetune(
            ctx.task(task_name),
            model_dir,
            finetune_settings(ctx, task_name, shots),
            seed,
            ctx.data_root,
            out,
            trust_remote_code=ctx.recipe.trust_remote_code,
            progress=progress,
            train_fraction=fraction,
            min_train_steps=(
                ctx.recipe.learning_curve.min_train_steps
                if fraction < 1
                else ctx.recipe.transfer.ft_min_train_steps
                if shots is not None
                else 0
            ),
            train_shots=shots,
            max_test_examples=ctx.recipe.test_cap,
        )
        return res.summary
