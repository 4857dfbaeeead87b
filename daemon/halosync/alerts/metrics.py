"""The alerting's own Prometheus series, in the process registry (``halosync.metrics.REGISTRY``).

Besides the state of the alerts themselves, two readings that only the alert rules compute are exported, so that
the Prometheus rules in contrib/prometheus can say exactly what the built-in ones say: system memory in use, and
how long a quota window is forecast to stay exhausted before it resets.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge

from halosync.alerts.conditions import quota_shortfall
from halosync.contracts import Alert, RateWindow
from halosync.metrics import REGISTRY

FIRING = Gauge("halosync_alerts_firing", "Alerts firing now, by rule and severity (silenced ones included).",
               ["rule", "severity"], registry=REGISTRY)
NOTIFICATIONS = Counter("halosync_alert_notifications_total",
                        "Alert notification groups by receiver and result (sent, error, dropped).",
                        ["receiver", "result"], registry=REGISTRY)
MEMORY_USED = Gauge("halosync_system_memory_used_ratio", "System memory in use (0-1), as the memory rule sees it.",
                    registry=REGISTRY)
QUOTA_SHORTFALL = Gauge("halosync_rate_limit_exhausted_before_reset_seconds",
                        "Seconds a quota window is forecast to stay exhausted before it resets (0: it will last).",
                        ["provider", "window"], registry=REGISTRY)


def set_firing(alerts: Iterable[Alert]) -> None:
    FIRING.clear()  # a resolved rule must drop out, not linger at its last count
    counts: dict[tuple[str, str], int] = {}
    for alert in alerts:
        counts[(alert.rule, alert.severity)] = counts.get((alert.rule, alert.severity), 0) + 1
    for (rule, severity), n in counts.items():
        FIRING.labels(rule, severity).set(n)


def set_readings(memory_percent: float | None, windows: Iterable[RateWindow], now: float) -> None:
    if memory_percent is not None:
        MEMORY_USED.set(memory_percent / 100.0)
    QUOTA_SHORTFALL.clear()
    shortfall: dict[tuple[str, str], float] = {}
    for w in windows:
        gap = quota_shortfall(w, now) or 0.0  # the rule's own figure, so the metric and the alert agree
        key = (w.provider, w.window)
        shortfall[key] = max(shortfall.get(key, 0.0), max(0.0, gap))
    for (provider, window), seconds in shortfall.items():
        QUOTA_SHORTFALL.labels(provider, window).set(seconds)
