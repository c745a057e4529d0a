"""Shared fixtures: the embedded model, loaded once, and a real llama.cpp OpenAI server."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn

from refusalkit.evals.load import free_port, llama_server_command
from refusalkit.server import asgi_app

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def decision_probs(n: int, harm: float, cannot: float) -> np.ndarray:
    """`n` rows of decision-token probabilities for a two-category model (one should-not, one
    cannot): `[respond, harm, cannot]`."""
    rows = np.zeros((n, 3))
    rows[:, 1], rows[:, 2] = harm, cannot
    rows[:, 0] = 1.0 - rows[:, 1:].sum(axis=1)
    return rows


class RunningServer:
    """A real uvicorn guard server on a loopback port, in a thread of this process."""

    def __init__(self, state) -> None:
        self.state = state
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            asgi_app(state), host="127.0.0.1", port=self.port, log_level="error"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.state.decisions.close()

    def rows(self) -> list[dict]:
        return self.state.decisions.rows()


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer refusalkit.toml or REFUSALKIT_* variable leaks into a test."""
    for name in list(os.environ):
        if name.startswith("REFUSALKIT_") and name != "REFUSALKIT_CACHE_DIR":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def embedded():
    from refusalkit.backends import load_backend

    backend = load_backend("embedded")
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI server on a free loopback port, serving the embedded GGUF."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the server writes to it until teardown
    process = subprocess.Popen(
        # a new request must not interrupt the old one: the cancellation test relies on it
        llama_server_command(port, "smollm2", 2),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"llama.cpp server did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.3)
    yield base_url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def cbrn_data(tmp_path_factory):
    """A small dataset from the narrow cbrn constitution, made once with the embedded generator."""
    from refusalkit.synth import SynthOptions, synthesize

    out = tmp_path_factory.mktemp("synth") / "cbrn"
    report = synthesize(SynthOptions("cbrn", n=60, out=out, generator="embedded", progress=False))
    return out, report


PG_PASSWORD = "refusalkit-test-pw"


class PostgresServer:
    """A throwaway PostgreSQL from Debian's `postgresql` package, in its own temp folder, on a
    loopback port, with password authentication. Run as the `postgres` user when we are root
    (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        import shutil
        import tempfile

        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
        initdb = bins[0] if bins else shutil.which("initdb")
        if not initdb:
            pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
        self.bin = Path(initdb).parent
        self.as_user: list[str] = []
        self.root = Path(tempfile.mkdtemp(prefix="refusalkit-pg-"))
        if os.geteuid() == 0:
            if not shutil.which("runuser"):
                pytest.skip("running as root without runuser: cannot start PostgreSQL as postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
        self.data = self.root / "data"
        password_file = self.root / "pw"
        password_file.write_text(PG_PASSWORD)
        if os.geteuid() == 0:
            shutil.chown(password_file, "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "refusalkit", f"--pwfile={password_file}",
            "--auth=scram-sha-256", "-E", "UTF8",
        )  # fmt: skip
        self.port = free_port()
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, password: str = PG_PASSWORD, port: int | None = None) -> str:
        return f"postgresql://refusalkit:{password}@127.0.0.1:{port or self.port}/postgres"

    def reset(self) -> None:
        """An empty log for the next test."""
        import sqlalchemy

        engine = sqlalchemy.create_engine(self.url().replace("postgresql:", "postgresql+psycopg:"))
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS decisions, refusalkit_schema")
        engine.dispose()

    def close(self) -> None:
        import shutil

        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
             "stop"], capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh decision-log database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'decisions.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    server.reset()
    return server.url()
