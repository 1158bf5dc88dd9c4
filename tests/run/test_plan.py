from pathlib import Path

from dapt.run.layout import RunLayout
from dapt.run.plan import PretrainJob, finetune_key


def test_job_keys_round_trip_and_layout():
    for job in (PretrainJob("dapt"), PretrainJob("tapt", "chemprot"), PretrainJob("dapt+tapt", "chemprot")):
        assert PretrainJob.from_key(job.key) == job
    lay = RunLayout(Path("/r"))
    assert str(lay.job_dir(PretrainJob("dapt"))) == "/r/pretrain/dapt"
    assert str(lay.job_dir(PretrainJob("tapt", "t"))) == "/r/pretrain/tapt/t"
    assert str(lay.job_corpus_dir(PretrainJob("knn-tapt", "t"))) == "/r/knn-tapt/t"
    assert str(lay.job_corpus_dir(PretrainJob("general"))) == "/r/general"
    assert PretrainJob.for_variant("dapt", "t") == PretrainJob("dapt")


def test_finetune_keys():
    assert finetune_key("t", "dapt", 2) == "finetune/t/dapt/seed2"
    assert finetune_key("t", "dapt", 2, 0.1) == "finetune/t/dapt/frac0.1/seed2"


def test_in_context_seeds_can_outnumber_the_fine_tuning_seeds():
    """``transfer.icl_seeds``: more demonstration draws for the cheap in-context mode, without more fine-tunes;
    zero-shot stays one run, and a repeated seed is refused."""
    import pytest
    import yaml

    from dapt.recipe import Recipe
    from dapt.run.plan import fewshot_finetune_jobs, prompting_jobs

    recipe = yaml.safe_load((Path(__file__).parents[2] / "pipelines/recipes/dapt-biomed-clm-cpu.yaml").read_text())
    recipe["transfer"]["general_tasks"] = []
    recipe["transfer"]["icl_seeds"] = [0, 1, 2, 3]
    r = Recipe.model_validate(recipe)
    jobs = prompting_jobs(r)
    icl = [(t, v, s) for t, m, v, s in jobs if m == "few_shot_icl"]
    assert len(icl) == 2 * 3 * 4 and {s for *_, s in icl} == {0, 1, 2, 3}
    assert len([j for j in jobs if j[1] == "zero_shot"]) == 2 * 3
    assert {s for *_, s, _ in fewshot_finetune_jobs(r)} == set(r.seeds) == {0, 1}
    recipe["transfer"]["icl_seeds"] = [0, 1, 1]
    with pytest.raises(ValueError, match=r"icl_seeds.*repeats"):
        Recipe.model_validate(recipe)


def test_few_shot_settings_layer_task_over_transfer_over_the_task_finetune():
    """Few-shot fine-tuning settings: the task's fine-tuning ones, then ``transfer.few_shot_finetune``, then the
    task's ``few_shot_finetune_tasks`` entry; an unknown task or a bad value fails naming the key."""
    import pytest
    import yaml

    from dapt.recipe import Recipe

    recipe = yaml.safe_load((Path(__file__).parents[2] / "pipelines/recipes/dapt-biomed-clm-cpu.yaml").read_text())
    recipe["transfer"]["few_shot_finetune"] = {"learning_rate": 1e-4}
    recipe["transfer"]["few_shot_finetune_tasks"] = {"nicta_piboso": {"learning_rate": 3e-3, "epochs": 5}}
    r = Recipe.model_validate(recipe)
    assert r.few_shot_finetune_for("chemprot").learning_rate == 1e-4
    nicta = r.few_shot_finetune_for("nicta_piboso")
    assert (nicta.learning_rate, nicta.epochs, nicta.strategy) == (3e-3, 5, "lora")
    assert r.finetune_for("nicta_piboso").epochs == r.finetune.epochs  # full fine-tuning untouched
    recipe["transfer"]["few_shot_finetune_tasks"] = {"nope": {"learning_rate": 3e-3}}
    with pytest.raises(ValueError, match=r"few_shot_finetune_tasks: \['nope'\] are not tasks"):
        Recipe.model_validate(recipe)
    recipe["transfer"]["few_shot_finetune_tasks"] = {"chemprot": {"learning_rate": "fast"}}
    with pytest.raises(ValueError, match=r"transfer.few_shot_finetune_tasks.chemprot: learning_rate"):
        Recipe.model_validate(recipe)


def test_a_bad_task_override_is_named_as_the_task_s_even_in_a_transfer_recipe():
    """The few-shot layers sit on the task's settings; a bad task override must not be blamed on them."""
    import pytest
    import yaml

    from dapt.recipe import Recipe

    recipe = yaml.safe_load((Path(__file__).parents[2] / "pipelines/recipes/dapt-biomed-clm-cpu.yaml").read_text())
    recipe["tasks"][1]["finetune"] = {"learning_rate": "fast"}
    with pytest.raises(ValueError, match=r"tasks\[nicta_piboso\]\.finetune: learning_rate"):
        Recipe.model_validate(recipe)
