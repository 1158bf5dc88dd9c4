"""End to end against a real Prefect server started here on 127.0.0.1: `dapt deploy` registers the deployments
for a process pool, the `dapt-biomed` deployment is triggered with the smoke recipe's parameters, a worker runs
it (`--run-once`), the flow run ends Completed and its artifacts exist. About 2 minutes: marked slow."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def prefect_server(tmp_path):
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("Prefect server did not become healthy: " + (tmp_path / "server.log").read_text()[-2000:])
        yield {**env, "PREFECT_API_URL": url}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def deploy_trigger_work(env: dict, runs: Path, data_root: Path, cwd: Path) -> dict:
    """`dapt deploy` for a process pool, trigger `dapt-biomed` with the smoke recipe, one worker pass; the flow run's
    state and artifacts as the server reports them."""
    env = {
        **env,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
        # The worker's roots: the flow refuses parameters outside them (dapt/run/untrusted.py).
        "DAPT_DATA_DIR": str(data_root),
        "DAPT_OUT_ROOT": str(runs),
    }
    subprocess.run(
        [str(BIN / "dapt"), "deploy", "--pool", "dapt-test", "--data-dir", str(data_root), "--out-root", str(runs)],
        env=env,
        check=True,
        cwd=REPO,
        timeout=120,
    )
    params = {"recipe": "smoke", "out": str(runs / "smoke-via-dapt-biomed"), "overrides": {"seeds": [0]}}
    trigger = subprocess.run(
        [str(BIN / "prefect"), "deployment", "run", "dapt-pipeline/dapt-biomed", "--params", json.dumps(params)],
        env=env,
        check=True,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "dapt-biomed" in trigger.stdout
    worker = subprocess.run(
        [str(BIN / "prefect"), "worker", "start", "--pool", "dapt-test", "--run-once"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert worker.returncode == 0, worker.stdout[-3000:] + worker.stderr[-3000:]
    return server_state(env)


def server_state(env: dict) -> dict:
    check = subprocess.run(
        [sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(check.stdout.strip().splitlines()[-1])


def assert_completed_with_artifacts(state: dict, runs: Path) -> None:
    assert state["deployments"] >= 4  # one per shipped recipe
    assert state["state"] == "COMPLETED", state
    assert {"smoke-report", "smoke-results", "smoke-run-dir", "smoke-report-html"} <= set(state["artifacts"])
    results = json.loads((runs / "smoke-via-dapt-biomed" / "results.json").read_text())
    assert results["seeds"] == [0] and "dapt" in results["tasks"]["chemprot"]


@pytest.mark.slow
def test_deploy_trigger_worker_completes_with_artifacts(prefect_server, tmp_path, data_root):
    runs = tmp_path / "runs"
    assert_completed_with_artifacts(deploy_trigger_work(prefect_server, runs, data_root, tmp_path), runs)


CHECK = """
import json
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
with get_client(sync_client=True) as c:
    deps = c.read_deployments()
    runs = c.read_flow_runs()
    run = [r for r in runs if r.deployment_id in {d.id for d in deps if d.name == "dapt-biomed"}][0]
    arts = c.read_artifacts()
    print(json.dumps({"deployments": len(deps), "state": run.state.type.value, "flow_run_id": str(run.id),
                      "artifacts": sorted({a.key for a in arts if a.flow_run_id == run.id and a.key})}))
"""
