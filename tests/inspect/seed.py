"""A store with a known story, written the way the engine writes it (see the store models' docstrings).

    apollo:1  ada@example.com, matched, written, linked to halopsa person 101 (healthy)
    apollo:2  a match dead letter (its staged lead is in state dead)
    apollo:3  a write dead letter (its outbox row is dead)
    apollo:4  an intake dead letter (never staged)
And, for integrity, problems of every kind when ``problems`` is set:
    apollo:5  linked to halopsa person 999, which the mirror saw deleted   (orphan link, repairable)
    apollo:6, apollo:7  both linked to halopsa person 500, neither merged  (reported)
    an outbox row in flight for two hours                                  (stuck, repairable)
    source "ghost" with a cursor and nothing staged                        (cursor ahead, reported)
"""

from __future__ import annotations

import time
from typing import Any

from halosync.store.models import (
    DeadLetter,
    LineageEvent,
    Link,
    MirrorRecord,
    Outbox,
    SourceCursor,
    StagedLead,
)


def _lead(source_id: str, email: str, *, state: str = "processed") -> Any:
    payload = {"source": "apollo", "source_id": source_id,
               "person": {"first_name": "Ada", "last_name": "Lovelace", "email": email, "title": "CTO"},
               "company": {"name": "Analytical Engines Ltd", "domain": "engines.example"}}
    return StagedLead.create(source="apollo", source_id=source_id, payload=payload, content_hash=f"h{source_id}",
                             state=state)


def _outbox(source_id: str, state: str, **extra: Any) -> Any:
    return Outbox.create(key=f"k-{source_id}-{state}", sink="halopsa", kind="person", action="create", entity_id=1,
                         payload={"fields": {"email": "x"}}, state=state, source="apollo", source_id=source_id,
                         **extra)


def seed(problems: bool = False) -> dict[str, int]:
    now = time.time()
    ids: dict[str, int] = {}
    _lead("1", "Ada@Example.com")
    written = _outbox("1", "done", attempts=1)
    for at, stage, detail in (
        (now - 50, "staged", {"revision": 1, "content_hash": "h1", "via": "pull"}),
        (now - 40, "matched", {"person": {"entity_id": 1, "outcome": "new", "rule": "email"}}),
        (now - 30, "planned", {"sink": "halopsa", "kind": "person", "action": "create", "outbox_id": written.id}),
        (now - 20, "write", {"sink": "halopsa", "kind": "person", "action": "create", "outbox_id": written.id,
                             "attempt": 1, "outcome": "ok", "sink_id": "101"}),
        (now - 10, "linked", {"sink": "halopsa", "kind": "person", "sink_id": "101", "merged": False}),
    ):
        LineageEvent.create(source="apollo", source_id="1", at=at, stage=stage, detail=detail)
    Link.create(source="apollo", source_id="1", sink="halopsa", kind="person", sink_id="101", entity_id=1)
    MirrorRecord.create(sink="halopsa", kind="person", sink_id="101", email_key="ada@example.com")

    dead_lead = _lead("2", "bob@example.com", state="dead")
    ids["match"] = DeadLetter.create(stage="match", source="apollo", source_id="2", reason="no identifying key",
                                     payload={"staged_id": dead_lead.id}).id
    _lead("3", "cy@example.com")
    dead_row = _outbox("3", "dead", attempts=8, last_error="HTTP 400: bad phone")
    ids["write_outbox"] = dead_row.id
    ids["write"] = DeadLetter.create(stage="write", source="apollo", source_id="3", sink="halopsa",
                                     outbox_id=dead_row.id, reason="HTTP 400: bad phone", attempts=8,
                                     payload={"kind": "person", "action": "create", "fields": {}}).id
    ids["intake"] = DeadLetter.create(stage="intake", source="apollo", source_id="4", reason="no email or name",
                                      payload={"id": "4"}).id
    if problems:
        _lead("5", "gone@example.com")
        Link.create(source="apollo", source_id="5", sink="halopsa", kind="person", sink_id="999", entity_id=5)
        MirrorRecord.create(sink="halopsa", kind="person", sink_id="999", deleted=True)
        for source_id in ("6", "7"):
            _lead(source_id, f"twin{source_id}@example.com")
            Link.create(source="apollo", source_id=source_id, sink="halopsa", kind="person", sink_id="500",
                        entity_id=int(source_id))
        MirrorRecord.create(sink="halopsa", kind="person", sink_id="500")
        ids["stuck"] = _outbox("8", "in_flight", claimed_by="worker-1", claimed_at=now - 7200, attempts=1).id
        SourceCursor.create(source="ghost", cursor="2026-01-01T00:00:00Z|42")
    return ids
