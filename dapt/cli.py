"""``dapt``: the command line. ``dapt run RECIPE`` runs the whole chain as the Prefect flow ``dapt-pipeline``;
the stage commands run one stage on a run directory without Prefect.

Heavy imports (torch, transformers, prefect) happen inside the commands, so ``dapt --help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from dapt.recipe import RecipeError, parse_overrides, resolve_data_dir


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="a shipped recipe name (see `dapt recipes`) or a path to a recipe YAML file")
    p.add_argument(
        "--data-dir",
        default=None,
        help="data root laid out like ../shared/data (default: $DAPT_DATA_DIR, else ../shared/data)",
    )
    p.add_argument("--out", default=None, help="run directory (default: runs/<recipe name>)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe key (dotted; list items by name or index), e.g. --set finetune.epochs=2 "
        "--set tasks.chemprot.max_examples=500 (repeatable)",
    )
    p.add_argument(
        "--allow-outside-data-root",
        action="store_true",
        help="let the recipe read files outside the data root (your own files; a flow run never can)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dapt",
        description="dapt: domain-adaptive pretraining pipeline. `dapt run RECIPE` runs the whole chain as the "
        "Prefect flow `dapt-pipeline`; the stage commands run one stage on a run directory.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the full chain as the Prefect flow `dapt-pipeline`")
    _common(p)
    sub.add_parser("recipes", help="list the shipped recipes")
    p = sub.add_parser("models", help="list the named base models and where they are; import a GGUF checkpoint")
    msub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    q = msub.add_parser("import-gguf", help="turn a GGUF file (llama.cpp, quantized or not) into a Hugging Face folder")
    q.add_argument("gguf_file", help="path to the .gguf file")
    q.add_argument("out_dir", help="folder to write (config.json, model.safetensors, tokenizer)")

    p = sub.add_parser("ingest", help="read, clean, dedup, tokenize and pack the domain corpus")
    _common(p)
    p = sub.add_parser("pretrain", help="continued MLM pretraining on the ingested corpus")
    _common(p)
    p = sub.add_parser("floors", help="majority-class and TF-IDF + logistic-regression reference scores")
    _common(p)
    p.add_argument("--task", action="append", help="only this task (repeatable; default: all)")
    p = sub.add_parser("finetune", help="fine-tune each (task, variant, seed) and predict dev/test")
    _common(p)
    p.add_argument("--task", action="append", help="only this task (repeatable)")
    p.add_argument("--variant", action="append", help="only this variant (repeatable)")
    p.add_argument("--seed", type=int, action="append", help="only this seed (repeatable)")
    p = sub.add_parser(
        "prompt", help="decoders: score each variant zero-shot and few-shot in context (recipe.transfer)"
    )
    _common(p)
    p = sub.add_parser("evaluate", help="score test predictions with the local evaluate modules; bootstrap CIs")
    _common(p)
    p = sub.add_parser("report", help="write results.json and report.md")
    _common(p)
    for name, what in (
        ("serve", "serve one Prefect deployment per shipped recipe from this process"),
        ("deploy", "register one Prefect deployment per shipped recipe with a server (process pool)"),
    ):
        p = sub.add_parser(name, help=what)
        p.add_argument("--data-dir", default=None, help="data root the runs read (default: as `dapt run`)")
        p.add_argument("--out-root", default="runs", help="runs go to OUT_ROOT/<recipe> (default: runs)")
        p.add_argument("--only", action="append", metavar="RECIPE", help="only this recipe (repeatable)")
        if name == "deploy":
            p.add_argument("--pool", required=True, help="process work pool (created if missing)")
    p = sub.add_parser("compare", help="put several runs' results side by side")
    p.add_argument("run_dirs", nargs="+", help="run directories holding results.json")
    p.add_argument("--out", default=None, help="write the Markdown table here (default: print it)")
    p = sub.add_parser("sweep", help="dev-only sweep of fine-tuning settings on the base model")
    _common(p)
    p.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="KEY=V1,V2",
        help="a finetune setting and its values, e.g. learning_rate=3e-4,1e-3 (repeatable)",
    )
    p.add_argument("--task", action="append", help="only this task (repeatable; default: all)")
    p.add_argument(
        "--shots",
        type=int,
        default=None,
        metavar="K",
        help="sweep few-shot fine-tuning (the transfer table's) on K train examples per label",
    )
    return parser


def _summary(results: dict) -> str:
    lines = [f"results for {results['recipe']}:"]
    for task, rows in results["tasks"].items():
        for variant, r in rows.items():
            ref = " (reference)" if r.get("reference") else ""
            flag = "  <- below the tfidf-lr floor" if r.get("below_floor") else ""
            lines.append(f"  {task:<16} {variant + ref:<22} {r['metric']} {r['mean']:.4f} ± {r['std']:.4f}{flag}")
    for f in results.get("flags", []):
        lines.append(f"WARNING: {f['task']}/{f['variant']}: {f['message']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Prefect API call otherwise
    # Expected failures (a bad recipe, task file or corpus source, a missing file or model) are one line and exit
    # 2; anything else keeps its traceback.
    from dapt.ingest.readers.records import ReaderError
    from dapt.tasks import TaskFormatError

    try:
        return _dispatch(args)
    except (RecipeError, FileNotFoundError, TaskFormatError, ReaderError) as e:
        print(f"dapt: error: {e}", file=sys.stderr)
        return 2


def _dispatch(args) -> int:
    if args.command == "recipes":
        from dapt.recipe import RECIPES_DIR, list_recipes, load_recipe

        for name in list_recipes():
            print(f"{name:<20} {load_recipe(name).description}")
        print(f"(in {RECIPES_DIR})")
        return 0
    if args.command == "models" and args.models_command == "import-gguf":
        from dapt.models import import_gguf

        out = import_gguf(Path(args.gguf_file), Path(args.out_dir))
        print(f"imported {args.gguf_file} -> {out} (load with AutoModelForCausalLM.from_pretrained)")
        return
    if args.command == "models":
        from dapt.models import NAMED_MODELS, describe_model

        for name in NAMED_MODELS:
            print(f"{name:<18} {describe_model(name)}")
        return 0
    if args.command == "compare":
        from dapt.report.compare import compare_markdown

        md = compare_markdown([Path(d) for d in args.run_dirs])
        if args.out:
            Path(args.out).write_text(md)
            print(f"comparison: {args.out}")
        else:
            print(md)
        return 0
    if args.command in ("serve", "deploy"):
        import os

        from pipelines import deployments

        data_dir = str(resolve_data_dir(args.data_dir))
        out_root = os.path.abspath(args.out_root)
        if args.command == "serve":
            deployments.serve(data_dir, out_root, args.only)
        else:
            ids = deployments.deploy(args.pool, data_dir, out_root, args.only)
            print(f"registered {len(ids)} deployment(s) for pool {args.pool!r}; start a worker with:")
            print(f"  prefect worker start --pool {args.pool}")
            print("and trigger a run with:  prefect deployment run 'dapt-pipeline/<recipe>'")
        return 0
    if args.command == "run":
        from dapt.run import Run
        from dapt.run.untrusted import trust_this_process
        from pipelines.flow import dapt_pipeline

        trust_this_process(allow_outside_data_root=args.allow_outside_data_root)
        overrides = parse_overrides(args.overrides)
        # Expected errors (recipe, paths) as one line before a Prefect server starts, not as a flow-run traceback.
        Run.check(args.recipe, args.data_dir, overrides, args.allow_outside_data_root)

        out = dapt_pipeline(recipe=str(args.recipe), data_dir=args.data_dir, out=args.out, overrides=overrides)
        print(_summary(out["results"]))
        print(f"report: {out['out_dir']}/report.md")
        return 0

    from dapt.run import Run

    if args.command == "sweep":
        return _sweep(args)
    run = Run.open(
        args.recipe,
        data_dir=args.data_dir,
        out=args.out,
        overrides=parse_overrides(args.overrides),
        allow_outside_data_root=args.allow_outside_data_root,
    )
    if args.command == "ingest":
        print(json.dumps(run.ingest(), indent=2))
    elif args.command == "pretrain":
        print(json.dumps({job.key: run.pretrain_job(job) for job in run.pretrain_jobs()}, indent=2))
    elif args.command == "floors":
        for t in args.task or [t.name for t in run.recipe.tasks]:
            f = run.floors(t)
            if f:
                print(f"{t}: majority {f['majority']['test']:.4f}, tfidf-lr {f['tfidf-lr']['test']:.4f}")
    elif args.command == "finetune":
        for task, variant, seed, fraction in run.finetune_jobs():
            if (
                (args.task and task not in args.task)
                or (args.variant and variant not in args.variant)
                or (args.seed and seed not in args.seed)
            ):
                continue
            s = run.finetune(task, variant, seed, fraction=fraction)
            frac = "" if fraction == 1 else f" ({fraction:g} of train)"
            print(
                f"{task} {variant} seed {seed}{frac}: dev {s['metric']} {s['dev_' + s['metric']]:.4f} "
                f"(epoch {s['best_epoch']}, {s['train_seconds']} s)"
            )
        for task, variant, seed, shots in run.fewshot_finetune_jobs():
            s = run.finetune(task, variant, seed, shots=shots)
            print(f"{task} {variant} seed {seed} ({shots} per label): dev {s['metric']} {s['dev_' + s['metric']]:.4f}")
    elif args.command == "prompt":
        for job in run.prompting_jobs():
            s = run.prompting(*job)
            print(f"{' '.join(map(str, job))}: {s['test_examples']} test examples, {s['seconds']} s")
    elif args.command == "evaluate":
        ev = run.evaluate()
        print(json.dumps(ev["test"], indent=2))
    elif args.command == "report":
        results = run.report()
        print(_summary(results))
        print(f"report: {run.out_dir}/report.md")
    return 0


def _sweep(args) -> int:
    """A dev-only sweep in its own new folder (``--out``, else ``runs/sweeps/<recipe>/<UTC time>``); it opens no
    run directory, so no run's ``run.json`` or stages are touched."""
    import time

    from dapt.finetune.sweep import parse_grid, run_sweep
    from dapt.run import Run

    _, recipe, data_root = Run.check(
        args.recipe, args.data_dir, parse_overrides(args.overrides), args.allow_outside_data_root
    )
    out = Path(args.out) if args.out else Path("runs") / "sweeps" / recipe.name / time.strftime("%Y%m%d-%H%M%S")
    if out.exists() and any(out.iterdir()):
        raise RecipeError(f"sweep folder {out} is not empty: a sweep never overwrites another (choose a new --out)")
    run_sweep(recipe, parse_grid(args.grid), data_root, out, tasks=args.task, shots=args.shots)
    print(f"sweep table: {out / 'sweep.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
