"""Prometheus metrics, every name prefixed ``halosync_``; served at ``GET /metrics``.

One registry for the process. Components record through the small functions here so that label sets stay
consistent and no lead data (emails, names, ids) ever becomes a label value: labels are plugin names, route
templates, fixed outcome words and status classes only.

Recording (call these where the event happens; each is cheap and never raises):

    observe_provider_request(provider, endpoint, status, seconds)   one provider API call (plugins)
    set_rate_limit_remaining(provider, window, remaining)           quota left, as a provider reported it (plugins)
    record_lead_outcome(outcome, n=1)                               seen|created|updated|merged|skipped|review|failed
    observe_sync_run(source, seconds, ok)                           one pull of a source, start to end
    observe_sink_batch(sink, kind, action, ops, seconds)            one sink write call
    record_webhook(plugin, result)                                  one webhook delivery (see WEBHOOK_RESULTS)
    observe_webhook_store(seconds, batch)                           one group commit of the webhook inbox
    observe_http_request(route, status, seconds)                    one request to the listener

Collected at scrape time from cached state (``halosync.http.scrape``): outbox depth and oldest age, dead letters,
service states and last successes, cursor ages, rate-limit windows, webhook inbox backlog, database pool use.
Process RSS, CPU and file descriptors come from prometheus_client's process collector, as
``halosync_process_resident_memory_bytes`` and so on; ``halosync_build_info`` carries the version.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

from halosync import __version__
from halosync.contracts import RateWindow

# The *_created series double every counter's size and no dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(namespace="halosync", registry=REGISTRY)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

BUILD = Info("halosync_build", "The running halosync version.", registry=REGISTRY)
BUILD.info({"version": __version__, "python": platform.python_version()})

# --- providers -----------------------------------------------------------------------------------------

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
RATE_LIMIT_LIMIT = Gauge(
    "halosync_rate_limit_limit",
    "Size of a provider's quota window, as last observed.",
    ["provider", "window"],
    registry=REGISTRY,
)

# --- the pipeline --------------------------------------------------------------------------------------

LEAD_OUTCOMES = ("seen", "created", "updated", "merged", "skipped", "review", "failed")
LEADS = Counter("halosync_leads_total", "Leads by outcome.", ["outcome"], registry=REGISTRY)
SYNC_RUNS = Counter("halosync_sync_runs_total", "Source pulls, by source and result.", ["source", "result"],
                    registry=REGISTRY)
SYNC_DURATION = Histogram("halosync_sync_duration_seconds", "How long one pull of a source took.", ["source"],
                          buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600), registry=REGISTRY)
SINK_BATCH_DURATION = Histogram("halosync_sink_write_duration_seconds", "How long one sink write call took.",
                                ["sink", "kind", "action"], buckets=_LATENCY_BUCKETS, registry=REGISTRY)
SINK_OPS = Counter("halosync_sink_write_ops_total", "Write ops sent to sinks.", ["sink", "kind", "action"],
                   registry=REGISTRY)
OUTBOX_DEPTH = Gauge("halosync_outbox_depth", "Outbox rows waiting to be written, by state (pending, in_flight).",
                     ["state"], registry=REGISTRY)
OUTBOX_OLDEST_AGE = Gauge("halosync_outbox_oldest_age_seconds", "Age of the oldest unwritten outbox row.",
                          registry=REGISTRY)
DEAD_LETTERS = Gauge("halosync_dead_letters", "Dead letters waiting for retry or drop.", registry=REGISTRY)
SOURCE_CURSOR_AGE = Gauge("halosync_source_cursor_age_seconds", "Seconds since a source's cursor last moved.",
                          ["source"], registry=REGISTRY)
# Deprecated (kept: dashboards and alerts may read it): 0.5 for degraded is no convention; read service_state.
SERVICE_UP = Gauge("halosync_service_up", "Deprecated, use halosync_service_state: 1 connected, 0.5 degraded, "
                   "0 disconnected, per plugin and the database.", ["service"], registry=REGISTRY)
SERVICE_STATES = ("connected", "degraded", "disconnected")
SERVICE_STATE = Gauge("halosync_service_state", "1 for the state each plugin and the database is in, 0 for the "
                      "other states (connected, degraded, disconnected).", ["service", "state"], registry=REGISTRY)
SERVICE_LAST_SUCCESS = Gauge("halosync_service_last_success_timestamp_seconds",
                             "Unix time of the last successful pull, write or ping, per plugin and the database.",
                             ["service"], registry=REGISTRY)
PAUSED = Gauge("halosync_paused", "1 while outbound writes and polling are paused.", registry=REGISTRY)

# --- webhooks and the listener -------------------------------------------------------------------------

WEBHOOK_RESULTS = ("accepted", "duplicate", "malformed", "unauthorized", "unknown_plugin", "too_large",
                   "store_unavailable", "processed", "failed")
WEBHOOK_DELIVERIES = Counter("halosync_webhook_deliveries_total", "Webhook deliveries by plugin and result.",
                             ["plugin", "result"], registry=REGISTRY)
WEBHOOK_STORE_DURATION = Histogram("halosync_webhook_store_duration_seconds",
                                   "Time to commit one group of webhook deliveries to the inbox.",
                                   buckets=_LATENCY_BUCKETS, registry=REGISTRY)
WEBHOOK_STORE_BATCH = Histogram("halosync_webhook_store_batch_size", "Deliveries committed together.",
                                buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500), registry=REGISTRY)
WEBHOOK_INBOX_PENDING = Gauge("halosync_webhook_inbox_pending", "Stored deliveries not yet processed.",
                              registry=REGISTRY)
HTTP_REQUESTS = Counter("halosync_http_requests_total", "Requests to the listener, by route template and status.",
                        ["route", "status"], registry=REGISTRY)
HTTP_IN_FLIGHT = Gauge("halosync_http_requests_in_flight", "Requests the listener is answering now.", registry=REGISTRY)
HTTP_LATENCY = Histogram("halosync_http_request_duration_seconds", "Listener request latency, by route template.",
                         ["route"], buckets=_LATENCY_BUCKETS, registry=REGISTRY)

# --- the store -----------------------------------------------------------------------------------------

# Deprecated (kept): one series mixing a use and a limit; read the two gauges below.
DB_CONNECTIONS = Gauge("halosync_database_connections", "Deprecated, use halosync_database_connections_in_use and "
                       "_max: database pool use (state in_use) and size (state max).", ["state"], registry=REGISTRY)
DB_CONNECTIONS_IN_USE = Gauge("halosync_database_connections_in_use", "Database connections in use now.",
                              registry=REGISTRY)
DB_CONNECTIONS_MAX = Gauge("halosync_database_connections_max", "Database connections the pool may open.",
                           registry=REGISTRY)
DB_WAITING = Gauge("halosync_database_waiting_tasks", "Units of work waiting for a database connection.",
                   registry=REGISTRY)

SERVICE_LEVELS = {"connected": 1.0, "degraded": 0.5, "disconnected": 0.0}


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


def observe_rate_windows(windows: Iterable[RateWindow]) -> None:
    for w in windows:
        set_rate_limit_remaining(w.provider, w.window, w.remaining)
        if w.limit is not None:
            RATE_LIMIT_LIMIT.labels(w.provider, w.window).set(w.limit)


def record_lead_outcome(outcome: str, n: int = 1) -> None:
    """Count ``n`` leads reaching ``outcome`` (one of LEAD_OUTCOMES)."""
    LEADS.labels(outcome).inc(n)


def observe_sync_run(source: str, seconds: float, ok: bool) -> None:
    SYNC_RUNS.labels(source, "ok" if ok else "error").inc()
    SYNC_DURATION.labels(source).observe(seconds)


def observe_sink_batch(sink: str, kind: str, action: str, ops: int, seconds: float) -> None:
    SINK_OPS.labels(sink, kind, action).inc(ops)
    SINK_BATCH_DURATION.labels(sink, kind, action).observe(seconds)


def record_webhook(plugin: str, result: str) -> None:
    """Count one delivery. ``plugin`` must be a configured plugin's name (``unknown`` for a 404), never a path
    segment taken from the request, so a caller cannot grow the label set."""
    WEBHOOK_DELIVERIES.labels(plugin, result).inc()


def observe_webhook_store(seconds: float, batch: int) -> None:
    WEBHOOK_STORE_DURATION.observe(seconds)
    WEBHOOK_STORE_BATCH.observe(batch)


def observe_http_request(route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, str(status)).inc()
    HTTP_LATENCY.labels(route).observe(seconds)


def set_queue(queue: Mapping[str, object]) -> None:
    """Outbox figures as ``EngineAPI.queue()`` returns them."""
    for state in ("pending", "in_flight"):
        OUTBOX_DEPTH.labels(state).set(_number(queue.get(state)))
    OUTBOX_OLDEST_AGE.set(_number(queue.get("oldest_age_seconds")))
    DEAD_LETTERS.set(_number(queue.get("dead")))


def set_service_states(states: Mapping[str, str], last_success: Mapping[str, object]) -> None:
    """``states``: service -> connected|degraded|disconnected; ``last_success``: service -> Unix time or None."""
    for gauge in (SERVICE_UP, SERVICE_STATE, SERVICE_LAST_SUCCESS):
        gauge.clear()  # a plugin removed by a reload must not linger
    for service, state in states.items():
        SERVICE_UP.labels(service).set(SERVICE_LEVELS.get(state, 0.0))
        for known in SERVICE_STATES:
            SERVICE_STATE.labels(service, known).set(1 if state == known else 0)
        when = last_success.get(service)
        if isinstance(when, int | float):  # never succeeded yet: no series, rather than a 1970 timestamp
            SERVICE_LAST_SUCCESS.labels(service).set(when)


def set_database_pool(in_use: int, maximum: int, waiting: int) -> None:
    DB_CONNECTIONS.labels("in_use").set(in_use)
    DB_CONNECTIONS.labels("max").set(maximum)
    DB_CONNECTIONS_IN_USE.set(in_use)
    DB_CONNECTIONS_MAX.set(maximum)
    DB_WAITING.set(waiting)


def render() -> tuple[bytes, str]:
    """The registry in Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus reads


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


# --- issue 18: high availability (halosync.ha) -------------------------------------------------------------
HA_LEADERSHIP_CHANGES = Counter("halosync_ha_leadership_changes_total",
                                "Times this daemon took (acquired) or gave up (released, lost) a source's poller "
                                "lease.", ["source", "change"], registry=REGISTRY)
HA_POLLER = Gauge("halosync_ha_poller", "1 while this daemon holds the poller lease of the source, else 0.",
                  ["source"], registry=REGISTRY)
HA_MEMBERS = Gauge("halosync_ha_daemons", "Daemons seen sharing the store (live heartbeat), this one included.",
                   registry=REGISTRY)
HA_BUDGET_USED = Gauge("halosync_ha_budget_used", "Requests counted now in a provider window shared through the "
                       "store, by every daemon together.", ["provider"], registry=REGISTRY)
HA_BUDGET_LIMIT = Gauge("halosync_ha_budget_limit", "What a shared provider window admits now (its effective "
                        "limit, lower after a 429).", ["provider"], registry=REGISTRY)
HA_BUDGET_WAITS = Counter("halosync_ha_budget_waits_total", "Times a request of this daemon waited because the "
                          "shared window was full.", ["provider"], registry=REGISTRY)


def record_leadership(source: str, change: str, holds: bool) -> None:
    """``change``: acquired | released | lost."""
    HA_LEADERSHIP_CHANGES.labels(source, change).inc()
    HA_POLLER.labels(source).set(1 if holds else 0)


def set_shared_budget(provider: str, used: int, limit: int) -> None:
    HA_BUDGET_USED.labels(provider).set(used)
    HA_BUDGET_LIMIT.labels(provider).set(limit)
