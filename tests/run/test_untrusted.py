"""Flow parameters from a deployment trigger are checked before any work; a local `dapt run` is trusted."""

import pytest

from dapt.recipe import RecipeError
from dapt.run import untrusted
from dapt.run.untrusted import FlowPolicy, UntrustedInputError, check_flow_parameters


@pytest.fixture
def policy(tmp_path, data_root):
    return FlowPolicy(data_root=data_root, out_root=tmp_path / "runs")


def test_good_parameters_pass(policy, tmp_path, data_root):
    check_flow_parameters("smoke", str(data_root), str(tmp_path / "runs" / "smoke"), {"seeds": [0]}, policy)
    check_flow_parameters("smoke", None, None, None, policy)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"overrides": {"trust_remote_code": True}}, "overrides.trust_remote_code: a flow run cannot set"),
        ({"overrides": {"corpus": {"sources": [{"trust_remote_code": True}]}}}, "overrides.corpus: a flow run"),
        ({"overrides": {"base_model": "/home/someone/model"}}, "overrides.base_model: '/home/someone/model' is not"),
        ({"data_dir": "/etc"}, "data_dir: '/etc' is outside the data root"),
        ({"out": "/tmp/../etc/dapt"}, "is outside the output root"),
        ({"recipe": "/tmp/my-recipe.yaml"}, "recipe: '/tmp/my-recipe.yaml' is not a shipped recipe"),
    ],
)
def test_each_refusal_names_the_parameter(policy, kwargs, needle):
    args = {"recipe": "smoke", "data_dir": None, "out": None, "overrides": None, **kwargs}
    with pytest.raises(UntrustedInputError) as e:
        check_flow_parameters(args["recipe"], args["data_dir"], args["out"], args["overrides"], policy)
    assert needle in str(e.value)
    assert isinstance(e.value, RecipeError)  # the CLI's one-line, exit-2 error


def test_the_operator_can_allow_remote_code_and_recipe_files(policy):
    lenient = FlowPolicy(policy.data_root, policy.out_root, allow_remote_code=True, allow_recipe_files=True)
    check_flow_parameters("/tmp/my-recipe.yaml", None, None, {"trust_remote_code": True}, lenient)


def test_the_flow_refuses_before_any_work(tmp_path, data_root, monkeypatch):
    """The deployment's entry point itself: refused before the run directory exists."""
    from pipelines.flow import dapt_pipeline

    monkeypatch.setattr(untrusted, "_TRUSTED", {"process": False, "allow_outside_data_root": False})
    monkeypatch.setenv("DAPT_DATA_DIR", str(data_root))
    monkeypatch.setenv("DAPT_OUT_ROOT", str(tmp_path / "runs"))
    out = tmp_path / "runs" / "x"
    with pytest.raises(UntrustedInputError, match="trust_remote_code"):
        dapt_pipeline.fn("smoke", out=str(out), overrides={"trust_remote_code": True})
    with pytest.raises(UntrustedInputError, match="outside the output root"):
        dapt_pipeline.fn("smoke", out=str(tmp_path / "elsewhere"))
    # A path the recipe itself names (here through an override) must stay inside the data root as well.
    with pytest.raises(RecipeError, match=r"tasks\[0\]\.train: '/etc/passwd' is an absolute path"):
        dapt_pipeline.fn("smoke", out=str(out), overrides={"tasks.chemprot.train": "/etc/passwd"})
    with pytest.raises(RecipeError, match=r"corpus.sources\[0\].path: '../../etc' is a path with '..'"):
        dapt_pipeline.fn("smoke", out=str(out), overrides={"corpus.sources.0.path": "../../etc"})
    assert not out.exists()
