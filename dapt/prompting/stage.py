"""The prompting stage of a run: one in-context scoring (zero-shot, or few-shot with a seed's demonstrations) of one
variant's causal LM on a task's test split, written as the fine-tuning stage writes its predictions, so evaluation
scores both the same way."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import torch

from dapt.device import pick_device
from dapt.precision import autocast, resolve_precision
from dapt.pretrain import job_inputs
from dapt.run.context import RunContext
from dapt.run.plan import PretrainJob, prompting_key
from dapt.run.provenance import source_hash
from dapt.tasks import cut_test

log = logging.getLogger("dapt")


def general_task(ctx: RunContext, name: str):
    """The recipe's ``transfer.general_tasks`` entry of that name, or None (a recipe task)."""
    return next((g for g in ctx.recipe.transfer.general_tasks if g.name == name), None)


def prompting_inputs(ctx: RunContext, task_name: str, mode: str, variant: str, seed: int) -> dict:
    r = ctx.recipe
    general = general_task(ctx, task_name)
    task = general or ctx.task(task_name)
    model = (
        {"base_model": r.base_model}
        if variant == "baseline"
        else job_inputs(ctx, PretrainJob.for_variant(variant, task_name))
    )
    shots = {"icl_shots_per_label": r.transfer.icl_shots_per_label} if mode == "few_shot_icl" else {}
    return {
        "task": task.hash_dump(exclude={"prompt"} if general else {"finetune", "prompt"}),
        "prompt": task.prompt.hash_dump(),
        "max_test_examples": general.max_examples if general else r.test_cap,
        **shots,
        "model": model,
        "mode": mode,
        "seed": seed,
        "code": source_hash("prompting", "tasks"),
        "precision": resolve_precision(r.finetune.mixed_precision, pick_device()).dtype,
    }


def prompting_stage(ctx: RunContext, task_name: str, mode: str, variant: str, seed: int) -> dict:
    key = prompting_key(task_name, mode, variant, seed)
    out = ctx.layout.prompting_dir(task_name, mode, variant, seed)
    outputs = (out / "summary.json", out / "predictions_test.jsonl")
    with ctx.stage(key, prompting_inputs(ctx, task_name, mode, variant, seed), outputs) as st:
        if st.done:
            return json.loads((out / "summary.json").read_text())
        model_dir = ctx.model_dir(variant, task_name)
        if not (model_dir / "config.json").is_file():
            raise FileNotFoundError(f"variant {variant!r} needs {model_dir}: run `dapt pretrain` first")
        return score_task(ctx, task_name, mode, seed, model_dir, out)


def _task_data(ctx: RunContext, task_name: str):
    """``(train examples or None, test examples, label space, prompt, subset size, key for messages)``."""
    from dapt.tasks import LabelSpace, load_split, read_csv_task

    general = general_task(ctx, task_name)
    if general is not None:
        test = read_csv_task(ctx.data_root / general.path, general.label_column, general.text_columns,
                             general.label_names)  # fmt: skip
        names = general.label_names or sorted({e.label for e in test.examples})
        key = f"transfer.general_tasks[{task_name}]"
        return None, test, LabelSpace(labels=list(names)), general.prompt, general.max_examples, key
    task = ctx.task(task_name)
    train, test = load_split(task, "train", ctx.data_root), load_split(task, "test", ctx.data_root)
    space = LabelSpace.from_train([e.label for e in train.examples])
    return train.examples, test, space, task.prompt, ctx.recipe.test_cap, f"tasks[{task_name}]"


def score_task(ctx: RunContext, task_name: str, mode: str, seed: int, model_dir: Path, out: Path) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from dapt.prompting.demonstrations import choose_demonstrations, demonstration_prefix, fill_template
    from dapt.prompting.scoring import encode, label_logprobs

    r = ctx.recipe
    train, test, space, prompt, subset, key = _task_data(ctx, task_name)
    if missing := sorted(set(space.labels) - set(prompt.verbalizers)):
        raise ValueError(f"{key}.prompt.verbalizers: no words for labels {missing}")
    test_total = cut_test(test, subset)
    examples = test.examples
    demos = []
    if mode == "few_shot_icl":
        demos = choose_demonstrations(train, space.labels, r.transfer.icl_shots_per_label, seed)
    prefix = demonstration_prefix(demos, prompt.template, prompt.verbalizers)

    device = pick_device()
    precision = resolve_precision(r.finetune.mixed_precision, device)
    tok = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=r.trust_remote_code)
    model = AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.float32, trust_remote_code=r.trust_remote_code
    ).to(device)
    verbal = [prompt.verbalizers[lab] for lab in space.labels]
    t0 = time.perf_counter()
    prompts = [fill_template(prompt.template, ex) for ex in examples]
    with autocast(precision, device):
        scores = label_logprobs(model, encode(tok, prefix, prompts, verbal), prompt.per_token)
        if prompt.calibrate:
            # Zhao et al. (2021): the prompt's own preference, read on a content-free input, is divided out.
            free = prompt.template.format(text=prompt.content_free, context="")
            cf = label_logprobs(model, encode(tok, prefix, [free], verbal), prompt.per_token)
            scores = scores.log_softmax(-1) - cf.log_softmax(-1)
    seconds = time.perf_counter() - t0
    pred = scores.argmax(-1).tolist()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "predictions_test.jsonl", "w") as f:
        for ex, p in zip(examples, pred, strict=True):
            g = space.encode(ex.label)
            row = {"id": ex.example_id, "gold": g, "pred": p, "gold_label": ex.label, "pred_label": space.name(p)}
            f.write(json.dumps(row) + "\n")
    summary = {
        "mode": mode,
        "seed": seed,
        "model": str(model_dir),
        "test_examples": len(examples),
        "test_examples_total": test_total,
        "quarantined": test.quarantined,
        "demonstrations": [d.example_id for d in demos],
        "prefix_tokens": len(tok(prefix, add_special_tokens=False)["input_ids"]) if prefix else 0,
        "seconds": round(seconds, 2),
        "examples_per_s": round(len(examples) / max(seconds, 1e-9), 2),
        "precision": precision.dtype,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    log.info("%s %s seed %d: %d test examples in %.1f s", task_name, mode, seed, len(examples), seconds)
    return summary
