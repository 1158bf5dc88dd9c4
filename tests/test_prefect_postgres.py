"""The compose topology without Docker: a Prefect server on a real PostgreSQL (Debian's package, installed if
missing, on loopback), the deployments registered, `dapt-biomed` triggered with the smoke recipe and run by a
process worker; then the server is stopped and started again and the run's history is still there. Minutes:
marked slow."""

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from pipelines.postgres_server import PostgresCluster, PrefectServer
from tests.test_prefect_e2e import assert_completed_with_artifacts, deploy_trigger_work, server_state


@pytest.mark.slow
def test_prefect_on_postgres_runs_the_flow_and_keeps_history_across_restarts(tmp_path, data_root):
    # Not under pytest's tmp_path: its parents are private to root, and the cluster runs as `postgres`.
    pg_root = Path(tempfile.mkdtemp(prefix="dapt-pg-"))
    t0 = time.perf_counter()
    pg = PostgresCluster(pg_root).start()
    server = PrefectServer(pg.url, tmp_path / "prefect-home").start()
    try:
        runs = tmp_path / "runs"
        state = deploy_trigger_work(server.client_env(), runs, data_root, tmp_path)
        assert_completed_with_artifacts(state, runs)
        # The server's own database is PostgreSQL, not a SQLite file in its home.
        assert not list((tmp_path / "prefect-home").glob("*.db"))
        server.stop()
        server = PrefectServer(pg.url, tmp_path / "prefect-home", server.port).start()
        after = server_state(server.client_env())
        assert after["flow_run_id"] == state["flow_run_id"] and after["state"] == "COMPLETED"
        assert after["artifacts"] == state["artifacts"]
        print(f"prefect-on-postgres: {time.perf_counter() - t0:.0f} s wall")
    finally:
        server.stop()
        pg.stop()
        shutil.rmtree(pg_root, ignore_errors=True)
