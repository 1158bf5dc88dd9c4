from pathlib import Path

import pytest
import yaml

from dapt.recipe import RECIPES_DIR, Recipe, RecipeError, check_paths, list_recipes, load_recipe

MINIMAL = """
name: t
base_model: splade-tiny
seeds: [0]
variants: [baseline, dapt]
corpus:
  sources:
    - {name: c, path: biomed_unlabelled/pubmedqa/abstracts.txt}
pretrain:
  max_tokens: 1000
  learning_rate: 5e-4
tasks:
  - {name: chemprot, format: jsonl, train: chemprot/train.txt, dev: chemprot/dev.txt, test: chemprot/test.txt}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "r.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("name", list_recipes())
def test_every_shipped_recipe_loads_and_its_data_exists(name, data_root):
    r = load_recipe(name)
    check_paths(r, data_root, name)
    assert "baseline" in r.variants


def test_shipped_recipes_include_the_required_ones():
    assert {"dapt-biomed", "dapt-biomed-tiny", "smoke"} <= set(list_recipes())
    tiny = load_recipe("dapt-biomed-tiny")
    assert len(tiny.seeds) == 3 and tiny.base_model == "splade-tiny"
    assert load_recipe("dapt-biomed").base_model == "all-minilm-l6-v2"


def test_minimal_recipe_and_scientific_notation(tmp_path):
    r = load_recipe(write(tmp_path, MINIMAL))
    assert r.pretrain.learning_rate == 5e-4  # YAML 1.1 would read "5e-4" as a string
    assert r.finetune.epochs == 3  # defaults fill in


def test_unknown_key_names_key_and_file(tmp_path):
    p = write(tmp_path, MINIMAL.replace("  max_tokens: 1000", "  max_tokens: 1000\n  max_tokenz: 5"))
    with pytest.raises(RecipeError) as e:
        load_recipe(p)
    assert str(p) in str(e.value) and "pretrain.max_tokenz" in str(e.value)


def test_wrong_type_names_key(tmp_path):
    p = write(tmp_path, MINIMAL.replace("seeds: [0]", "seeds: [zero]"))
    with pytest.raises(RecipeError, match=r"seeds\[0\]"):
        load_recipe(p)


def test_strict_types_do_not_coerce_strings(tmp_path):
    p = write(tmp_path, MINIMAL.replace("max_tokens: 1000", "max_tokens: '1000'"))
    with pytest.raises(RecipeError, match=r"pretrain\.max_tokens"):
        load_recipe(p)


def test_missing_required_key(tmp_path):
    p = write(tmp_path, MINIMAL.replace("base_model: splade-tiny\n", ""))
    with pytest.raises(RecipeError, match="base_model"):
        load_recipe(p)


def test_unknown_variant_and_missing_baseline(tmp_path):
    with pytest.raises(RecipeError, match="variants"):
        load_recipe(write(tmp_path, MINIMAL.replace("[baseline, dapt]", "[baseline, magic]")))
    with pytest.raises(RecipeError, match="baseline"):
        load_recipe(write(tmp_path, MINIMAL.replace("[baseline, dapt]", "[dapt]")))


def test_duplicate_task_names(tmp_path):
    task = (
        "  - {name: chemprot, format: jsonl, train: chemprot/train.txt, dev: chemprot/dev.txt, test: chemprot/test.txt}"
    )
    with pytest.raises(RecipeError, match="duplicate"):
        load_recipe(write(tmp_path, MINIMAL + task + "\n"))


def test_not_a_mapping_and_bad_yaml(tmp_path):
    with pytest.raises(RecipeError, match="mapping"):
        load_recipe(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(RecipeError, match="YAML"):
        load_recipe(write(tmp_path, "a: [1, 2\n"))


def test_yaml_objects_are_not_constructed(tmp_path):
    # A safe loader refuses Python object tags instead of running them.
    with pytest.raises(RecipeError):
        load_recipe(write(tmp_path, "name: !!python/object/apply:os.system ['true']\n"))


def test_missing_data_file_names_key(tmp_path, data_root):
    r = load_recipe(write(tmp_path, MINIMAL.replace("chemprot/dev.txt", "chemprot/nope.txt")))
    with pytest.raises(RecipeError, match=r"tasks\[0\]\.dev: file not found"):
        check_paths(r, data_root, "r.yaml")


def test_unknown_recipe_name_lists_shipped():
    with pytest.raises(RecipeError, match="dapt-biomed-tiny"):
        load_recipe("no-such-recipe")


def test_config_hash_ignores_formatting(tmp_path):
    a = load_recipe(write(tmp_path, MINIMAL))
    b = Recipe.model_validate(a.model_dump())
    assert a.config_hash() == b.config_hash()
    c = a.model_copy(update={"seeds": [1]})
    assert c.config_hash() != a.config_hash()


def test_per_task_finetune_overrides(tmp_path):
    text = MINIMAL.replace("test: chemprot/test.txt}", "test: chemprot/test.txt, finetune: {epochs: 7}}")
    r = load_recipe(write(tmp_path, text))
    assert r.finetune_for("chemprot").epochs == 7
    assert r.finetune_for("chemprot").learning_rate == r.finetune.learning_rate
    bad = MINIMAL.replace("test: chemprot/test.txt}", "test: chemprot/test.txt, finetune: {epochz: 7}}")
    with pytest.raises(RecipeError, match="epochz"):
        load_recipe(write(tmp_path, bad))


def test_corpus_source_field_rules():
    from dapt.recipe import CorpusSource

    with pytest.raises(ValueError, match="column indices only work"):
        CorpusSource(name="a", path="x.jsonl", format="jsonl", text_field=1)
    with pytest.raises(ValueError, match="needs 0-based column indices"):
        CorpusSource(name="a", path="x.csv", format="csv", header=False, text_field="title")
    assert CorpusSource(name="a", path="x.csv", format="csv", header=False, text_field=[1, 2]).text_field == [1, 2]


def test_unknown_corpus_key_names_the_key(tmp_path):
    raw = yaml.safe_load((RECIPES_DIR / "smoke.yaml").read_text())
    raw["corpus"]["dedup"] = {"near": True, "treshold": 0.8}
    p = tmp_path / "r.yaml"
    p.write_text(yaml.safe_dump(raw))
    with pytest.raises(RecipeError, match=r"r\.yaml[\s\S]*corpus\.dedup\.treshold"):
        load_recipe(p)


def test_task_source_must_name_a_recipe_task(tmp_path):
    raw = yaml.safe_load((RECIPES_DIR / "smoke.yaml").read_text())
    raw["corpus"]["sources"].append({"name": "tapt", "path": "chemprot_typo", "format": "task"})
    p = tmp_path / "r.yaml"
    p.write_text(yaml.safe_dump(raw))
    with pytest.raises(RecipeError, match=r"chemprot_typo.*not a task of this recipe"):
        load_recipe(p)
    raw["corpus"]["sources"][-1]["path"] = "chemprot"
    p.write_text(yaml.safe_dump(raw))
    assert load_recipe(p).corpus.sources[-1].format == "task"


def test_overrides_set_dotted_keys_and_fail_clearly():
    from dapt.recipe import parse_overrides

    ov = parse_overrides(["finetune.epochs=2", "tasks.chemprot.max_examples=50", "seeds=[0]", "tapt.epochs=3"])
    r = load_recipe("smoke", ov)
    assert r.finetune.epochs == 2 and r.seeds == [0] and r.tapt.epochs == 3
    assert next(t for t in r.tasks if t.name == "chemprot").max_examples == 50
    with pytest.raises(RecipeError, match=r"finetune\.epocs"):
        load_recipe("smoke", parse_overrides(["finetune.epocs=2"]))
    with pytest.raises(RecipeError, match="no item 'nope'"):
        load_recipe("smoke", {"tasks.nope.max_examples": 3})
    with pytest.raises(RecipeError, match="KEY=VALUE"):
        parse_overrides(["finetune.epochs"])


def test_learning_curve_settings_are_checked():
    with pytest.raises(RecipeError, match=r"learning_curve\.variants"):
        load_recipe("dapt-biomed-tiny", {"learning_curve": {"fractions": [0.1], "variants": ["dapt"]}})
    with pytest.raises(RecipeError, match=r"learning_curve\.tasks"):
        load_recipe("dapt-biomed-tiny", {"learning_curve": {"fractions": [0.1], "tasks": ["nope"]}})
    with pytest.raises(RecipeError, match="fractions"):
        load_recipe("dapt-biomed-tiny", {"learning_curve": {"fractions": [1.0]}})
    r = load_recipe("dapt-biomed-tiny", {"learning_curve": {"fractions": [0.1, 0.01], "variants": ["baseline"]}})
    assert r.curve_points() == [
        ("chemprot", "baseline", 0.01),
        ("chemprot", "baseline", 0.1),
        ("nicta_piboso", "baseline", 0.01),
        ("nicta_piboso", "baseline", 0.1),
    ]


def test_new_settings_at_their_default_keep_stage_hashes():
    """A setting added after runs exist does not invalidate finished stages while it is at its default."""
    from dapt.recipe import FinetuneConfig

    class Later(FinetuneConfig):
        HASH_OMIT_AT_DEFAULT = (*FinetuneConfig.HASH_OMIT_AT_DEFAULT, "added_later")
        added_later: int = 3

    assert Later().hash_dump() == FinetuneConfig().hash_dump()
    assert Later(added_later=4).hash_dump() != FinetuneConfig().hash_dump()


def test_replay_variant_needs_general_text_and_a_share():
    with pytest.raises(RecipeError, match="general_corpus"):
        load_recipe("dapt-biomed-tiny", {"general_corpus": None, "variants": ["baseline", "dapt", "dapt-replay"]})
    with pytest.raises(RecipeError, match="replay_ratio"):
        load_recipe(
            "dapt-biomed-tiny", {"pretrain.replay_ratio": 0.001, "variants": ["baseline", "dapt", "dapt-replay"]}
        )
    r = load_recipe("dapt-biomed-tiny", {"variants": ["baseline", "dapt", "dapt-replay"]})
    assert r.pretrain.replay_ratio == 0.25


def test_yaml_1_2_booleans_in_overrides_and_recipes():
    from dapt.recipe import load_recipe, parse_overrides

    assert parse_overrides(["pretrain.mixed_precision=no", "floors=false", "x=yes", "y=True"]) == {
        "pretrain.mixed_precision": "no",
        "floors": False,
        "x": "yes",
        "y": True,
    }
    r = load_recipe("smoke", parse_overrides(["pretrain.mixed_precision=no"]))
    assert r.pretrain.mixed_precision == "no"
    import yaml

    assert yaml.safe_load("a: no") == {"a": False}  # the stock loader is untouched


def test_engine_is_execution_only_and_validated(tmp_path):
    base = load_recipe("smoke")
    fanned = load_recipe("smoke", {"engine.kind": "dask", "engine.finetune_workers": 4, "engine.ingest_workers": 2})
    assert fanned.engine.kind == "dask" and fanned.engine.finetune_workers == 4
    assert fanned.config_hash() == base.config_hash()  # where work runs changes no output
    with pytest.raises(RecipeError, match=r"engine.*address.*needs kind: dask"):
        load_recipe("smoke", {"engine.address": "tcp://10.0.0.5:8786"})
    with pytest.raises(RecipeError, match="not a Dask scheduler address"):
        load_recipe("smoke", {"engine.kind": "dask", "engine.address": "10.0.0.5"})
    with pytest.raises(RecipeError, match=r"engine\.finetune_workers"):
        load_recipe("smoke", {"engine.finetune_workers": 0})
