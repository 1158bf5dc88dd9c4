"""Prefect settings that must be in place before ``import prefect`` (ENVIRONMENT.md lists why)."""

from __future__ import annotations

import os


def configure_prefect_env() -> None:
    # No telemetry (there is no internet; it only logs errors), and room for the temporary local server to start
    # on a busy 2-core machine (the default 20 s is too close). Both can still be overridden by the user.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    # The temporary server binds to 127.0.0.1 only; nothing listens elsewhere unless the user configures it.
    os.environ.setdefault("PREFECT_SERVER_API_HOST", "127.0.0.1")
