"""Outbox rows come into being here: their keys, their columns, and what a create planned twice does. This is the
first part of the outbox's row lifecycle (create -> claim -> settle, retry or dead-letter, in ``outbox``); the
planner, ``existing`` and ``opportunities`` add rows only through it, in the caller's transaction.

A key is the row's idempotency key, unique in table outbox:

- ``{sink}/{kind}/{entity id}/create``: one create per identity and sink, ever. A later lead of the identity joins
  the pending create (its extra fields fill the gaps) or, once that create is dead or done without a sink record
  (the sink deleted it), reopens it with its revision;
- ``{sink}/{kind}/{entity id}/update/{what}``: one per staged revision (``{staged id}.{revision}``), or per create
  that became an update (``from-create-{row id}@{time}``, ``existing``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from halosync.engine.conflict import fill
from halosync.engine.index import chunks
from halosync.engine.sql import insert_one
from halosync.store.models import Outbox


def create_key(sink: str, kind: str, entity_id: int) -> str:
    return f"{sink}/{kind}/{entity_id}/create"


def update_key(sink: str, kind: str, entity_id: int, what: str) -> str:
    return f"{sink}/{kind}/{entity_id}/update/{what}"


def new_row(key: str, sink: str, kind: str, action: str, entity_id: int, source: str | None,
            source_id: str | None, payload: dict[str, Any], now: float, *,
            parent: int | None = None) -> dict[str, Any]:
    """The columns of a pending row, never attempted."""
    return {"key": key, "sink": sink, "kind": kind, "action": action, "entity_id": entity_id, "source": source,
            "source_id": source_id, "parent_entity_id": parent, "payload": payload, "state": "pending",
            "attempts": 0, "next_attempt_at": 0.0, "reconcile": False, "created_at": now, "updated_at": now}


def update_payload(diff: dict[str, list[Any]], sink_id: str, staged_id: int | None) -> dict[str, Any]:
    """An update sends only the fields that change (``diff``: field -> [old, new])."""
    return {"fields": {k: v[1] for k, v in diff.items()}, "diff": diff, "sink_id": sink_id, "staged_id": staged_id}


@dataclass
class _CreateRow:
    id: int
    state: str
    payload: dict[str, Any]


class Creates:
    """The create rows of a planner batch's identities, by key: read once, then kept as the batch changes them."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.rows: dict[str, _CreateRow] = {}
        for part in chunks(sorted(set(keys))):  # one query per 500
            query = Outbox.select(Outbox.id, Outbox.key, Outbox.state, Outbox.payload).where(Outbox.key.in_(part))
            for row in query:
                self.rows[row.key] = _CreateRow(row.id, row.state, dict(row.payload))

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def plan(self, row: dict[str, Any], staged_id: int, now: float) -> tuple[int, str]:
        """Add the create ``row`` (from ``new_row``), or fold it into the one its key has; returns the row's id and
        the action: create (a new row, or a dead/done one reopened) or join."""
        key, src = row["key"], row["payload"]["fields"]
        existing = self.rows.get(key)
        if existing is None:
            outbox_id = insert_one(Outbox, row)
            self.rows[key] = _CreateRow(outbox_id, "pending", row["payload"])
            return outbox_id, "create"
        payload = dict(existing.payload)
        # Dead: a new revision of a lead that failed before, try again with it. Done without a sink_ref (we
        # are here because there is none): the sink deleted the record, so a change creates it again.
        if existing.state in ("dead", "done"):
            payload.update(fields=fill(src, payload.get("fields", {})), staged_id=staged_id)
            Outbox.update(state="pending", attempts=0, next_attempt_at=0, payload=payload, last_error=None,
                          updated_at=now).where(Outbox.id == existing.id).execute()
            self.rows[key] = _CreateRow(existing.id, "pending", payload)
            return existing.id, "create"
        # A duplicate: its extra fields join the create, its link comes with the result.
        filled = fill(payload.get("fields", {}), src)
        if existing.state == "pending" and filled != payload.get("fields"):
            payload["fields"] = filled
            Outbox.update(payload=payload, updated_at=now).where(Outbox.id == existing.id).execute()
            existing.payload = payload
        return existing.id, "join"
