"""How a group of alerts reads: one title and one line per alert, shared by every alert plugin (and free for
third-party ones to use), so that a log line, an email, a chat message and a ticket say the same thing."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from halosync.contracts import Alert

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def ordered(alerts: Sequence[Alert]) -> list[Alert]:
    """Firing before resolved, most severe first, then by rule and labels: the order a reader triages in."""
    return sorted(alerts, key=lambda a: (a.state != "firing", SEVERITY_ORDER.get(a.severity, 3), a.rule,
                                         sorted(a.labels.items())))


def status(alerts: Sequence[Alert]) -> str:
    return "firing" if any(a.state == "firing" for a in alerts) else "resolved"


def title(alerts: Sequence[Alert]) -> str:
    """``[FIRING:2] halosync on host1: queue_backlog, error_rate`` or ``[RESOLVED] halosync on host1: memory``."""
    firing = [a for a in alerts if a.state == "firing"]
    rules = list(dict.fromkeys(a.rule for a in ordered(alerts)))
    head = f"[FIRING:{len(firing)}]" if firing else "[RESOLVED]"
    return f"{head} halosync on {socket.gethostname()}: {', '.join(rules)}"


def line(alert: Alert) -> str:
    when = alert.started_at if alert.state == "firing" else alert.ended_at
    stamp = f" (since {iso(when)})" if alert.state == "firing" and when else (f" (at {iso(when)})" if when else "")
    return f"{alert.severity.upper() if alert.state == 'firing' else 'RESOLVED'} {alert.summary}{stamp}"


def lines(alerts: Sequence[Alert], limit: int | None = None) -> list[str]:
    """One line per alert in triage order; past ``limit``, a last line counting the rest (chat cards are small)."""
    shown = ordered(alerts)
    out = [line(a) for a in shown[:limit]]
    if limit is not None and len(shown) > limit:
        out.append(f"... and {len(shown) - limit} more (halosyncctl alerts lists them)")
    return out


def text(alerts: Sequence[Alert], limit: int | None = None) -> str:
    return "\n".join(lines(alerts, limit))


def iso(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else ""


def to_dict(alert: Alert) -> dict[str, Any]:
    return {"rule": alert.rule, "severity": alert.severity, "state": alert.state, "summary": alert.summary,
            "value": alert.value, "labels": dict(alert.labels), "started_at": iso(alert.started_at) or None,
            "ended_at": iso(alert.ended_at) or None}
