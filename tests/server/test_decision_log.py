"""The decision log against SQLite and a real PostgreSQL: rows, retention, errors at start, and
what the server does when the log database goes away."""

import time

import httpx
import pytest
from conftest import PG_PASSWORD, RunningServer, free_port

from refusalkit.config import ServerConfig, Settings
from refusalkit.errors import ConfigError
from refusalkit.guard import Guard
from refusalkit.server import build_state
from refusalkit.server.decision_log import DecisionLog, DecisionLogError, database_url


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard.load(classifier_timeout_s=30)


def test_rows_are_written_as_requests_go_and_read_back(log_url):
    log = DecisionLog(log_url, keep_prompts=False, retention_days=30, max_rows=100)
    try:
        log.start("req-a", "/v1/chat/completions")
        log.update("req-a", model="m", prompt="secret", action="block", stage="input",
                   input_score=0.97, detail={"why": "test"})  # fmt: skip
        log.start("req-b", "/v1/classify")
        rows = log.rows()
    finally:
        log.close()
    assert [r["request_id"] for r in rows] == ["req-a", "req-b"]
    first = rows[0]
    assert (first["action"], first["stage"], first["model"]) == ("block", "input", "m")
    assert first["input_score"] == pytest.approx(0.97)
    assert first["prompt"] is None  # keep_prompts is off
    assert first["detail"] == '{"why": "test"}'
    assert rows[1]["action"] == "in_progress" and rows[1]["classifier_error"] == 0


def test_unknown_fields_are_refused(log_url):
    log = DecisionLog(log_url, keep_prompts=True, retention_days=30, max_rows=100)
    try:
        log.start("req-a", "/v1/models")
        with pytest.raises(ValueError, match="unknown decision-log fields"):
            log.update("req-a", colour="blue")
    finally:
        log.close()


def test_retention_keeps_the_newest_rows_under_the_cap(log_url):
    log = DecisionLog(log_url, keep_prompts=True, retention_days=30, max_rows=3)
    try:
        for index in range(5):
            log.start(f"req-{index}", "/v1/models")
            time.sleep(0.01)
        log.trim()
        assert [r["request_id"] for r in log.rows()] == ["req-2", "req-3", "req-4"]
    finally:
        log.close()
    aged = DecisionLog(log_url, keep_prompts=True, retention_days=1e-9, max_rows=3)
    try:  # opening trims: every row is older than a retention of ~0 s
        assert aged.rows() == []
    finally:
        aged.close()


def test_a_second_replica_writes_to_the_same_log(log_url):
    first = DecisionLog(log_url, keep_prompts=True, retention_days=30, max_rows=100)
    second = DecisionLog(log_url, keep_prompts=True, retention_days=30, max_rows=100)
    try:
        first.start("req-from-1", "/v1/models")
        second.start("req-from-2", "/v1/models")
        assert {r["request_id"] for r in first.rows()} == {"req-from-1", "req-from-2"}
    finally:
        first.close()
        second.close()


def test_bad_database_input_is_one_clear_error(postgres, tmp_path):
    def opening(url: str) -> str:
        with pytest.raises(ConfigError) as error:
            DecisionLog(url, keep_prompts=False, retention_days=30, max_rows=10)
        return str(error.value)

    wrong = opening(postgres.url(password="not-the-password"))
    assert "password authentication failed" in wrong and "decision_log" in wrong
    assert "not-the-password" not in wrong and PG_PASSWORD not in wrong
    unreachable = opening(postgres.url(port=free_port()))
    assert "cannot open the decision log" in unreachable and "refused" in unreachable.lower()
    read_only = opening("sqlite:////proc/refusalkit/decisions.sqlite3")
    assert "/proc/refusalkit" in read_only and "writable" in read_only
    assert "not supported" in opening("mysql://user@host/db")
    assert "not a database URL" in opening("://nothing")
    assert "not a database URL" in opening("postgresql://u@host:notaport/db")


def test_bare_paths_and_postgres_urls_pick_their_drivers(tmp_path):
    assert database_url(tmp_path / "x.sqlite3").get_backend_name() == "sqlite"
    assert database_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"


def test_log_outage_refuses_requests_with_503_and_service_resumes(postgres, guard, embedded):
    postgres.reset()
    settings = Settings(server=ServerConfig(decision_log=postgres.url()))
    server = RunningServer(build_state(settings=settings, backend=embedded, guard=guard))
    try:
        assert httpx.get(server.url + "/v1/models", timeout=30).status_code == 200
        postgres.stop()
        try:
            down = httpx.get(server.url + "/v1/models", timeout=30)
            assert down.status_code == 503
            error = down.json()["error"]
            assert error["code"] == "decision_log_unavailable"
            assert "decision log" in error["message"] and PG_PASSWORD not in error["message"]
            assert httpx.get(server.url + "/healthz", timeout=30).status_code == 200
        finally:
            postgres.start()
        assert httpx.get(server.url + "/v1/models", timeout=30).status_code == 200
        paths = [r["path"] for r in server.rows()]
        assert paths == ["/v1/models", "/v1/models"]  # the refused request has no row
    finally:
        server.stop()


def test_a_failed_update_keeps_the_row_and_does_not_raise(postgres):
    postgres.reset()
    log = DecisionLog(postgres.url(), keep_prompts=True, retention_days=30, max_rows=100)
    try:
        log.start("req-a", "/v1/models")
        postgres.stop()
        try:
            log.update("req-a", action="pass")  # logged, not raised: the answer goes on
            with pytest.raises(DecisionLogError, match="unavailable"):
                log.start("req-b", "/v1/models")
        finally:
            postgres.start()
        assert [(r["request_id"], r["action"]) for r in log.rows()] == [("req-a", "in_progress")]
    finally:
        log.close()
