"""Prometheus metrics: what operators graph and alert on (docs/operations.md).

One registry per process (prometheus_client's default): the API serves it at ``/metrics``,
``pulse worker`` on ``PULSE_WORKER_METRICS_PORT``; Prometheus adds the instances up. Labels
are bounded sets (route templates, catalog models, error codes), never ids or user data.
The Temporal SDK's own metrics come from its exporter (``PULSE_TEMPORAL_METRICS_BIND``)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

HTTP_REQUESTS = Counter(
    "pulse_http_requests",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
HTTP_RESPONSE_START = Histogram(
    "pulse_http_response_start_seconds",
    "Time from a request's arrival to its response headers (for SSE: until the stream opens)",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CHAT_TURNS = Counter(
    "pulse_chat_turns",
    "Chat turns finished, by outcome (succeeded, stopped or the error code)",
    ["provider", "model", "outcome"],
)
CHAT_PROVIDER_TOKENS = Counter(
    "pulse_chat_provider_tokens", "Provider tokens of billed chat replies", ["provider", "model", "direction"]
)
CHAT_STUDIO_TOKENS = Counter(
    "pulse_chat_studio_tokens", "Studio tokens billed for chat replies", ["provider", "model"]
)
CHAT_FIRST_DELTA = Histogram(
    "pulse_chat_first_delta_seconds",
    "Time from the provider request to its first text delta",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
)
PROVIDER_ERRORS = Counter(
    "pulse_provider_errors", "Failed provider calls, by whether they are retried", ["provider", "kind"]
)
LEDGER_OPERATIONS = Counter(
    "pulse_ledger_operations",
    "Ledger reservations, settlements and releases, by outcome",
    ["operation", "outcome"],
)
PAYMENTS = Counter("pulse_payments", "Payment attempts finished, by kind and outcome", ["kind", "outcome"])


def exposition() -> tuple[bytes, str]:
    """This process's metrics in Prometheus' text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
