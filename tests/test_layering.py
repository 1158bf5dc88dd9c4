"""The house rules, checked on the source: data flows one way (recipe -> ingest -> pretrain -> floors ->
finetune -> evaluation -> report), a stage reaches another only through that stage's package (``dapt.<stage>``,
its ``__init__``), never into its modules, and the neutral packages import no stage (the run facade and the CLI,
the two entry points, excepted)."""

import ast
from pathlib import Path

import pytest

DAPT = Path(__file__).resolve().parent.parent / "dapt"
STAGES = ["ingest", "pretrain", "floors", "finetune", "prompting", "evaluation", "report"]
ENTRY_POINTS = {"run/facade.py", "cli.py"}
MAX_LINES = 300


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``dapt...`` module a file imports (module level or inside functions), with its line."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return [(n, m) for n, m in out if m == "dapt" or m.startswith("dapt.")]


def _stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def violations(root: Path = DAPT) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        own = rel.split("/")[0] if "/" in rel else None
        own = own if own in STAGES else None
        for line, module in _imports(path):
            target = _stage_of(module)
            if target is None or target == own:
                continue
            where = f"dapt/{rel}:{line} imports {module}"
            if own is None:
                if rel not in ENTRY_POINTS:
                    bad.append(f"{where}: a neutral module imports a stage")
                continue
            if module != f"dapt.{target}":
                bad.append(f"{where}: reaches into another stage's internals (use dapt.{target})")
            if STAGES.index(target) > STAGES.index(own):
                bad.append(f"{where}: imports a downstream stage")
    return bad


def test_no_stage_reaches_into_another():
    assert violations() == []


def test_the_check_catches_a_sideways_import(tmp_path):
    """The walk itself must be able to fail: a fake tree with each kind of violation."""
    (tmp_path / "ingest").mkdir()
    (tmp_path / "report").mkdir()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "ingest" / "a.py").write_text("from dapt.report import render_report\n")
    (tmp_path / "report" / "b.py").write_text("def f():\n    from dapt.ingest.diagnostics import x\n")
    (tmp_path / "tasks" / "c.py").write_text("import dapt.finetune\n")
    found = violations(tmp_path)
    assert any("a.py:1" in v and "downstream" in v for v in found)
    assert any("b.py:2" in v and "internals" in v for v in found)
    assert any("c.py:1" in v and "neutral" in v for v in found)


@pytest.mark.parametrize("path", sorted(DAPT.rglob("*.py")), ids=lambda p: p.relative_to(DAPT).as_posix())
def test_small_files(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES, f"{path}: over {MAX_LINES} lines; split it by job"
