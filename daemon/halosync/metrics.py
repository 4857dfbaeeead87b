"""Prometheus metrics, every name prefixed ``halosync_``; served at ``GET /metrics``.

One registry for the process. Components record through the small functions here so that label sets stay
consistent and no lead data (emails, names) ever becomes a label value.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

PROVIDER_REQUESTS = Counter(
    "halosync_provider_requests_total",
    "Requests sent to provider APIs, by provider, endpoint and status class (2xx, 4xx, 429, 5xx, error).",
    ["provider", "endpoint", "status_class"],
    registry=REGISTRY,
)
PROVIDER_LATENCY = Histogram(
    "halosync_provider_request_duration_seconds",
    "Provider API request latency.",
    ["provider", "endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
RATE_LIMIT_REMAINING = Gauge(
    "halosync_rate_limit_remaining",
    "Requests left in a provider's quota window, as last observed.",
    ["provider", "window"],
    registry=REGISTRY,
)


def status_class(status: int | None) -> str:
    if status is None:
        return "error"
    if status == 429:
        return "429"
    return f"{status // 100}xx"


def observe_provider_request(provider: str, endpoint: str, status: int | None, seconds: float) -> None:
    """Record one provider call. ``endpoint`` is a route template (``/api/Users``), never a URL with ids or data."""
    PROVIDER_REQUESTS.labels(provider, endpoint, status_class(status)).inc()
    PROVIDER_LATENCY.labels(provider, endpoint).observe(seconds)


def set_rate_limit_remaining(provider: str, window: str, remaining: int | None) -> None:
    if remaining is not None:
        RATE_LIMIT_REMAINING.labels(provider, window).set(remaining)
