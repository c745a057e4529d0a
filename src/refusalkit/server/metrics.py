"""Prometheus metrics for one app (its own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "refusalkit_requests",
            "API requests by endpoint and HTTP status",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.blocks = Counter(
            "refusalkit_guard_blocks",
            "Exchanges the guard stopped, by stage and category",
            ["stage", "category"],
            registry=self.registry,
        )
        self.flags = Counter(
            "refusalkit_guard_flags",
            "Exchanges the guard flagged but passed (action flag)",
            ["stage", "category"],
            registry=self.registry,
        )
        self.classifier_errors = Counter(
            "refusalkit_classifier_errors",
            "Classifier calls that failed or timed out",
            registry=self.registry,
        )
        self.latency = Histogram(
            "refusalkit_request_latency_seconds",
            "Time from request to the last byte of the answer",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.first_token = Histogram(
            "refusalkit_time_to_first_token_seconds",
            "Time from request to the first checked text of a streamed answer",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
