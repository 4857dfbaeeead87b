"""``GET /metrics``: the gauges that describe current state are set from cached state at scrape time, then the
registry is rendered. The health document already gathers that state (without calling a provider), so a scrape
reuses it: the figures on /metrics and /health never disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from halosync import metrics
from halosync.contracts import Sink, Source
from halosync.http.health import health_document

if TYPE_CHECKING:
    from halosync.daemon.api import StateView


async def scrape(daemon: StateView) -> tuple[bytes, str]:
    document = await health_document(daemon)
    checks: dict[str, Any] = document["checks"]
    metrics.set_service_states(document["services"], {name: check.get("last_success_at")
                                                       for name, check in checks.items() if isinstance(check, dict)})
    metrics.PAUSED.set(1 if document.get("paused") else 0)
    queue = checks.get("queue")
    if isinstance(queue, dict) and "error" not in queue:
        metrics.set_queue(queue)
    for source in daemon.sources:
        age = checks.get(source, {}).get("cursor_age_seconds")
        if isinstance(age, int | float):
            metrics.SOURCE_CURSOR_AGE.labels(source).set(age)
    plugins: list[Source | Sink] = [*daemon.sources.values(), *daemon.sinks.values()]
    for plugin in plugins:
        try:
            metrics.observe_rate_windows(plugin.rate_limits())
        except Exception:  # already reported in the health document's check for this plugin
            continue
    inbox = checks.get("webhook_inbox")
    if isinstance(inbox, dict):
        metrics.WEBHOOK_INBOX_PENDING.set(inbox.get("pending", 0))
    limiter = daemon.store.limiter
    metrics.set_database_pool(int(limiter.borrowed_tokens), int(limiter.total_tokens),
                              limiter.statistics().tasks_waiting)
    return metrics.render()
