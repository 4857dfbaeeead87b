"""The ``halopsa`` alert receiver: a HaloPSA ticket per notification group, where an MSP's engineers already look.

Firing alerts that have no ticket yet open one (``POST /api/Tickets``) of ``tickettype_id``, logged against
``ticket_client_id`` (usually the MSP's own customer record). Repeats and severity changes of an alert that already
has a ticket add a note to it rather than a new ticket, and a resolution adds a closing note (``POST /api/Actions``)
so the ticket's history tells the whole story. The map from alert to ticket is kept in the state directory
(``alert-tickets-NAME.json``), so a restart of the daemon adds to the open ticket rather than opening another;
an entry not touched for two days (its alert resolved while the daemon was down) is forgotten.

The receivers are configured in the alerts plugin's table (``[plugins.alerts.receivers.NAME]`` with
``type = "halopsa"``, checked there), and built here, by this plugin's ``halosync_alerters`` hook: the alerts plugin
leaves that type to the plugin that knows HaloPSA. It talks to HaloPSA through this plugin's client (token flow,
rolling-window budget, retries, breaker),
with the receiver's own credentials or, by default, those of ``[plugins.halopsa]``. HaloPSA has no idempotency
keys, so every ticket's summary ends with a reference to its alerts' firing episode (``[halosync 1a2b3c4d5e]``:
their identities and start times). Before opening a ticket the receiver searches for that reference: a create
whose answer was lost, and that the dispatcher retries, finds the ticket it made instead of opening a second one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loguru import logger

from halosync.plugin import Alert, Alerter, PluginHost, ProviderError, fingerprint, render, replace_text, secrets
from halosync_halopsa.client import HaloClient
from halosync_halopsa.settings import HaloSettings

RECEIVER_TYPE = "halopsa"
# A receiver table's keys and their defaults (the alerts plugin checks the table; this fills in what it omits).
RECEIVER_DEFAULTS: dict[str, Any] = {
    "ticket_client_id": 0, "priority_id": 0, "base_url": "", "tenant": "", "auth_url": "", "client_id": "",
    "client_secret": "", "scope": "all", "timeout": 30.0,
}

SUMMARY_LIMIT = 250  # HaloPSA's ticket summary column is short


class TicketBook:
    """Alert fingerprint → the ticket opened for it, kept in a small JSON file (or only in memory)."""

    MAX_AGE = 2 * 86400.0

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, tuple[int, float]] = {}
        if path is not None and path.exists():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                cutoff = time.time() - self.MAX_AGE
                self._entries = {k: (int(v[0]), float(v[1])) for k, v in raw.items() if float(v[1]) >= cutoff}
            except (OSError, ValueError, TypeError, IndexError, AttributeError) as exc:
                logger.error("alert tickets map {} cannot be read ({}); open alerts get new tickets", path, exc)

    def get(self, key: str) -> int | None:
        entry = self._entries.get(key)
        return entry[0] if entry else None

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def set(self, key: str, ticket_id: int) -> None:
        self._entries[key] = (ticket_id, time.time())

    def discard(self, key: str) -> None:
        self._entries.pop(key, None)

    def save(self) -> None:
        if self.path is None:
            return
        try:
            replace_text(self.path, json.dumps(self._entries))
        except OSError as exc:
            logger.error("alert tickets map {} cannot be saved ({}); a restart opens new tickets", self.path, exc)


class HaloTicketAlerter:
    def __init__(self, name: str, client: HaloClient, *, tickettype_id: int, ticket_client_id: int = 0,
                 priority_id: int = 0, state_dir: Path | None = None) -> None:
        self.name = name
        self.client = client
        self.tickettype_id = tickettype_id
        self.ticket_client_id = ticket_client_id
        self.priority_id = priority_id
        self.tickets = TicketBook(state_dir / f"alert-tickets-{name}.json" if state_dir is not None else None)

    @classmethod
    def from_settings(cls, name: str, receiver: dict[str, Any], halopsa: dict[str, Any] | None,
                      state_dir: Path | None = None) -> HaloTicketAlerter:
        own = {k: receiver[k] for k in ("base_url", "tenant", "auth_url", "client_id", "client_secret", "scope",
                                        "timeout") if receiver.get(k)}
        if "base_url" in own:
            table = own
        elif halopsa is not None:
            table = {**halopsa, **{k: v for k, v in own.items() if k in ("timeout",)}}
        else:
            raise ProviderError(name, "a halopsa receiver needs base_url, client_id and client_secret, or an "
                                      "enabled [plugins.halopsa] whose credentials it can share")
        missing = [k for k in ("client_id", "client_secret") if not table.get(k)]
        if missing:
            raise ProviderError(name, f"a halopsa receiver with its own base_url needs {' and '.join(missing)}")
        client = HaloClient(HaloSettings.from_table({**table, "max_retries": 2}))
        return cls(name, client, tickettype_id=receiver["tickettype_id"],
                   ticket_client_id=receiver["ticket_client_id"], priority_id=receiver["priority_id"],
                   state_dir=state_dir)

    async def send(self, alerts: Sequence[Alert]) -> None:
        firing = [a for a in render.ordered(alerts) if a.state == "firing"]
        new = [a for a in firing if _key(a) not in self.tickets]
        if new:
            ticket_id = await self._open(new)
            for alert in new:
                self.tickets.set(_key(alert), ticket_id)
            self.tickets.save()
        notes: dict[int, list[Alert]] = {}
        for alert in render.ordered(alerts):
            known = self.tickets.get(_key(alert))
            if known is not None and alert not in new:
                notes.setdefault(known, []).append(alert)
        for ticket_id, group in notes.items():
            await self._note(ticket_id, group)
            for alert in group:
                if alert.state == "resolved":
                    self.tickets.discard(_key(alert))
                else:
                    self.tickets.set(_key(alert), ticket_id)  # still open: keep it fresh
        if notes:
            self.tickets.save()

    async def _open(self, alerts: Sequence[Alert]) -> int:
        ref = reference(alerts)
        found = await self._find(ref)
        if found is not None:  # an earlier attempt opened it, and its answer was lost
            logger.info("{}: ticket {} for {} already exists (an earlier attempt's answer was lost); adding to it",
                        self.name, found, ref)
            return found
        title = render.title(alerts)[:SUMMARY_LIMIT - len(ref) - 1].rstrip()
        ticket: dict[str, Any] = {"summary": f"{title} {ref}", "details": render.text(alerts),
                                  "tickettype_id": self.tickettype_id}
        if self.ticket_client_id:
            ticket["client_id"] = self.ticket_client_id
        if self.priority_id:
            ticket["priority_id"] = self.priority_id
        answer = await self.client.post("/api/Tickets", [ticket], creates=True)
        created = answer[0] if isinstance(answer, list) and answer else answer
        if not isinstance(created, dict) or not isinstance(created.get("id"), int):
            raise ProviderError(self.name, f"HaloPSA created a ticket but answered no id ({str(answer)[:100]!r})")
        return int(created["id"])

    async def _find(self, ref: str) -> int | None:
        """The ticket whose summary carries ``ref``, if one exists (one search request)."""
        params: dict[str, Any] = {"search": ref, "tickettype_id": self.tickettype_id, "count": 5}
        if self.ticket_client_id:
            params["client_id"] = self.ticket_client_id
        answer = await self.client.get("/api/Tickets", "/api/Tickets", params)
        rows = answer.get("tickets") if isinstance(answer, dict) else answer
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and ref in str(row.get("summary") or "") and isinstance(row.get("id"), int):
                return int(row["id"])
        return None

    async def _note(self, ticket_id: int, alerts: Sequence[Alert]) -> None:
        resolved = all(a.state == "resolved" for a in alerts)
        action = {"ticket_id": ticket_id, "note": render.text(alerts),
                  "outcome": "Alert resolved" if resolved else "Alert still firing"}
        await self.client.post("/api/Actions", [action], creates=True)

    async def aclose(self) -> None:
        await self.client.aclose()


def _key(alert: Alert) -> str:
    return fingerprint(alert.rule, dict(alert.labels))


def reference(alerts: Sequence[Alert]) -> str:
    """``[halosync 1a2b3c4d5e]``: the same for a retry of the same notification, new for a later episode of the
    same alerts (their start times differ), so a closed ticket is never reopened by its search."""
    episode = "|".join(sorted(f"{_key(a)}@{a.started_at or 0:.3f}" for a in alerts))
    return f"[halosync {hashlib.sha256(episode.encode()).hexdigest()[:10]}]"


def receivers(host: PluginHost) -> list[Alerter]:
    """The ``halopsa`` receivers of ``[plugins.alerts.receivers]`` (none while the alerts plugin is disabled).

    A receiver that cannot be built stands in, failing every delivery with the reason, so that /health and
    ``halosyncctl alerts`` show what to fix while the other receivers still deliver."""
    alerts = host.settings("alerts")
    if alerts is None:
        return []
    out: list[Alerter] = []
    state_dir = host.state_dir if host.state_dir.is_dir() else None
    for name, table in (alerts.get("receivers") or {}).items():
        if not isinstance(table, dict) or table.get("type") != RECEIVER_TYPE:
            continue
        try:
            receiver = {**RECEIVER_DEFAULTS, **table}
            if receiver["client_secret"]:
                receiver["client_secret"] = secrets.resolve(receiver["client_secret"])
            out.append(HaloTicketAlerter.from_settings(name, receiver, host.settings("halopsa"), state_dir))
        except (ProviderError, secrets.SecretUnavailable) as exc:
            logger.error("alert receiver {!r} cannot be used: {}", name, exc)
            out.append(UnusableReceiver(name, str(exc)))
    return out


class UnusableReceiver:
    """Stands in for a receiver whose settings were refused when it was built."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem  # the alerts component reports it in the receiver's health at start

    async def send(self, alerts: Sequence[Alert]) -> None:
        raise ProviderError(self.name, f"receiver {self.name!r} cannot be used: {self.problem}")
