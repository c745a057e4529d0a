"""`bench serve --replicas`: guard servers as processes, sharing a real PostgreSQL log."""

import pytest
from conftest import PG_PASSWORD

from refusalkit.errors import InvalidInputError
from refusalkit.evals.replicas import bench_replicas


def test_two_replicas_share_one_log_with_a_row_per_request(postgres):
    postgres.reset()
    result = bench_replicas(2, postgres.url(), clients=2, per_client=1, max_tokens=8)
    assert result["errors"] == 0 and result["requests"] == 2
    assert [r["requests"] for r in result["per_replica"]] == [1, 1]
    assert result["log_chat_rows"] == 2 and result["log_rows_equal_requests"]
    assert PG_PASSWORD not in result["decision_log"]


def test_replicas_need_two_servers_and_enough_clients(postgres):
    with pytest.raises(InvalidInputError, match="at least 2"):
        bench_replicas(1, postgres.url(), clients=4, per_client=1, max_tokens=8)
    with pytest.raises(InvalidInputError, match="fewer than"):
        bench_replicas(3, postgres.url(), clients=2, per_client=1, max_tokens=8)
