"""A Prefect server on a real PostgreSQL, on this machine's loopback: the topology of ``docker/compose.yaml``
(server on PostgreSQL, a process worker) for machines without a Docker engine.

    python -m pipelines.postgres_server --dir /tmp/dapt-pg      # PostgreSQL + Prefect server until Ctrl-C

PostgreSQL comes from Debian's packages (installed with apt-get when missing and this runs as root); the cluster
runs as the ``postgres`` user when started by root (``initdb`` refuses root), listens on 127.0.0.1 only and trusts
loopback connections of its one role, ``prefect``.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path:
    """The folder holding ``initdb``/``pg_ctl``; installs Debian's ``postgresql`` first if it is missing."""
    found = _find_bin()
    if found is None:
        if os.geteuid() != 0:
            raise RuntimeError("PostgreSQL is not installed and this is not root: apt-get install -y postgresql")
        subprocess.run(["apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "postgresql"],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = _find_bin()
    if found is None:
        raise RuntimeError("apt-get installed postgresql but no initdb was found under /usr/lib/postgresql")
    return found


def _find_bin() -> Path | None:
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(shutil.which("initdb")).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


class PostgresCluster:
    """A throwaway cluster in ``root`` (created, owned by ``postgres`` when run as root)."""

    def __init__(self, root: Path, port: int | None = None):
        self.root = Path(root)
        self.port = port or free_port()
        self.bin = postgres_bin()
        self.data = self.root / "pgdata"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://prefect@127.0.0.1:{self.port}/prefect"

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.as_user, *cmd], check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
        if not (self.data / "PG_VERSION").is_file():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "prefect", "--auth=trust", "-E", "UTF8")
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root}"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "pg.log"), "-w", "start"
        )
        if not self._has_database():
            self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "prefect", "prefect")
        return self

    def _has_database(self) -> bool:
        out = subprocess.run(
            [*self.as_user, str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "prefect", "-d",
             "postgres", "-tAc", "SELECT 1 FROM pg_database WHERE datname = 'prefect'"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return out.stdout.strip() == "1"

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


class PrefectServer:
    """``prefect server start`` on 127.0.0.1 against ``database_url``, its home in ``home``."""

    def __init__(self, database_url: str, home: Path, port: int | None = None):
        self.port = port or free_port()
        self.home = Path(home)
        self.env = {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_DATABASE_CONNECTION_URL": database_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        self.env.pop("PREFECT_API_URL", None)
        self.proc: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def client_env(self) -> dict:
        """The environment a client (deploy, trigger, worker) of this server needs."""
        env = {**self.env, "PREFECT_API_URL": self.api_url}
        env.pop("PREFECT_API_DATABASE_CONNECTION_URL")
        return env

    def start(self, timeout_s: float = 180) -> PrefectServer:
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home / "server.log", "a")  # noqa: SIM115 - the server's lifetime
        prefect = Path(sys.executable).parent / "prefect"
        self.proc = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(1)
        tail = (self.home / "server.log").read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"Prefect server did not become healthy on {self.api_url}:\n{tail}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
        self.proc = None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", required=True, help="folder for the cluster and the server's home")
    p.add_argument("--pg-port", type=int, default=None)
    p.add_argument("--port", type=int, default=4200, help="the Prefect API port (127.0.0.1)")
    a = p.parse_args(argv)
    pg = PostgresCluster(Path(a.dir) / "postgres", a.pg_port).start()
    server = PrefectServer(pg.url, Path(a.dir) / "prefect-home", a.port).start()
    print(f"PostgreSQL {pg.url}\nPrefect API {server.api_url}  (export PREFECT_API_URL={server.api_url})")
    try:
        server.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
