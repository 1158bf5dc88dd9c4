"""Nothing dapt loads can run code: every ``torch.load`` in the library passes ``weights_only=True`` and nothing
unpickles. Checked on the syntax tree, so a new call site cannot slip past."""

import ast
from pathlib import Path

DAPT = Path(__file__).resolve().parent.parent / "dapt"


def calls(name: str):
    for path in sorted(DAPT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == name:
                yield path, node


def test_every_torch_load_is_weights_only():
    found = list(calls("torch.load"))
    assert found, "expected the checkpoint loader's torch.load calls"
    for path, node in found:
        kw = {k.arg: k.value for k in node.keywords}
        assert "weights_only" in kw and ast.literal_eval(kw["weights_only"]) is True, f"{path}:{node.lineno}"


def test_nothing_unpickles():
    for name in ("pickle.load", "pickle.loads", "dill.load", "joblib.load", "np.load", "numpy.load"):
        for path, node in calls(name):
            kw = {k.arg: k.value for k in node.keywords}
            allowed = name in ("np.load", "numpy.load") and "allow_pickle" not in kw  # numpy refuses pickles by default
            assert allowed, f"{name} at {path}:{node.lineno}"
