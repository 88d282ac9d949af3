"""Database fixtures: every store and governance test runs on SQLite and on a throwaway
PostgreSQL 15 cluster.

The cluster is started once per session from ``/usr/lib/postgresql/15/bin`` (as the ``postgres``
user when the tests run as root) on a free port, and stopped at the end. Missing binaries fail
the tests: the store must be tested against a real PostgreSQL server.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from assay.checks import Plan, Run, validate

PG_BIN = Path(os.environ.get("ASSAY_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL prefix of a running throwaway PostgreSQL cluster (``...@127.0.0.1:PORT``)."""
    for tool in ("initdb", "pg_ctl"):
        if not (PG_BIN / tool).exists():
            pytest.fail(f"PostgreSQL 15 binaries not found: {PG_BIN / tool} is missing "
                        "(install postgresql-15 or set ASSAY_PG_BIN)")
    folder = Path(tempfile.mkdtemp(prefix="assay-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, user="postgres", group="postgres")
    data, port = folder / "data", _free_port()
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                                 "--auth=trust"]), **run)  # type: ignore[call-overload]
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options,
                                 "-l", str(folder / "log"), "-w", "start"]),
                   **run)  # type: ignore[call-overload]
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast",
                                     "stop"]), check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _create_database(server: str, name: str) -> str:
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database for each test, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'assay.db'}"
    server = request.getfixturevalue("postgres_server")
    return _create_database(server, f"assay_test_{uuid.uuid4().hex[:12]}")


PLAN = """
name: store-test-plan
roles: {target: outcome, score: [risk]}
settings: {n_boot: 100, seed: 3}
checks:
  - metric: auroc
    condition: ci_low >= 0.6
  - metric: brier
    condition: value < 0.01
"""


@pytest.fixture(scope="session")
def small_run() -> Run:
    """A small Run of two checks (one passes, one fails) on a synthetic cohort."""
    rng = np.random.default_rng(5)
    signal = rng.normal(size=400)
    risk = 1 / (1 + np.exp(-(-1.0 + 1.3 * signal)))
    frame = pd.DataFrame({"outcome": (rng.random(400) < risk).astype(int), "risk": risk})
    run = validate(Plan.from_yaml(PLAN), frame)
    assert json.loads(run.to_json())["results"]
    return run
