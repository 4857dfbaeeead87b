"""The sink mirror: a local index of the records each sink already has, so matching never asks the sink per lead.

Filled by paging ``sink.list_records`` (at start and every ``sync.mirror_refresh``, resuming from the sink's
watermark), by the sink's own change notifications (``apply_records``), and by our own writes (``note_written``),
so the mirror also holds the last known value of each field that updates are diffed against. Keys are normalised
as the matcher's: a person's name key is scoped by its company's sink id.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from halosync.contracts import SinkRecord
from halosync.engine import normalize, suppression
from halosync.engine.index import scoped_name
from halosync.engine.ledger import excluded
from halosync.engine.sql import select_in, upsert_rows
from halosync.store.models import Link, MirrorRecord, MirrorState, SinkRef

_UPSERT = (MirrorRecord.parent_id, MirrorRecord.email_key, MirrorRecord.linkedin_key, MirrorRecord.domain_key,
           MirrorRecord.name_key, MirrorRecord.fields, MirrorRecord.deleted, MirrorRecord.refreshed_at)


def keys_of(kind: str, fields: Mapping[str, Any], parent_id: str | None) -> dict[str, str | None]:
    if kind == "company":
        return {"domain_key": normalize.domain_key(fields.get("domain")) or normalize.domain_key(fields.get("website")),
                "name_key": normalize.company_name_key(fields.get("name")), "email_key": None,
                "linkedin_key": normalize.linkedin_key(fields.get("linkedin_url"))}
    email = fields.get("email")
    name = normalize.person_name_key(fields.get("first_name"), fields.get("last_name"), fields.get("full_name"))
    return {"email_key": None if normalize.is_role_address(email) else normalize.email_key(email),
            "linkedin_key": normalize.linkedin_key(fields.get("linkedin_url")), "domain_key": None,
            "name_key": scoped_name(name, parent_id) if name and parent_id else None}


def upsert(sink: str, records: Sequence[SinkRecord], now: float | None = None) -> int:
    """Store records as the sink reports them (whole field sets); deleted ones unbind their local identity."""
    now = now or time.time()
    known = _known_fields(sink, records)
    forgotten = suppression.forgotten_people(records)
    rows = []
    for rec in records:
        if (rec.kind, str(rec.sink_id)) in forgotten:  # erased here: halosync keeps no copy of them (issue 16)
            continue
        # Merged over what we knew: fields the sink does not return (it may not store them) keep the value we
        # wrote, so they are not "empty" and written again on every run.
        fields = {**known.get((rec.kind, str(rec.sink_id)), {}), **rec.fields}
        rows.append({"sink": sink, "kind": rec.kind, "sink_id": str(rec.sink_id), "parent_id": rec.parent_id,
                     "fields": fields, "deleted": rec.deleted, "refreshed_at": now,
                     **keys_of(rec.kind, fields, rec.parent_id)})
    upsert_rows(MirrorRecord, rows, ("sink", "kind", "sink_id"), [f.name for f in _UPSERT])
    for rec in records:
        if rec.deleted:  # the record is gone: the next change of its leads creates it again
            SinkRef.delete().where(SinkRef.sink == sink, SinkRef.kind == rec.kind,
                                   SinkRef.sink_id == str(rec.sink_id)).execute()
            Link.delete().where(Link.sink == sink, Link.kind == rec.kind, Link.sink_id == str(rec.sink_id)).execute()
    return len(rows)


def _known_fields(sink: str, records: Sequence[SinkRecord]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for kind in {r.kind for r in records}:
        ids = [str(r.sink_id) for r in records if r.kind == kind]
        for sink_id, fields in select_in(MirrorRecord, ("sink_id", "fields"), "sink_id", ids,
                                         {"sink": sink, "kind": kind}):
            out[(kind, sink_id)] = dict(fields or {})
    return out


def note_written(sink: str, kind: str, sink_id: str, fields: dict[str, Any], parent_id: str | None,
                 now: float) -> None:
    """What we just wrote is now the sink's known state (merged into what the mirror had)."""
    current = MirrorRecord.get_or_none(MirrorRecord.sink == sink, MirrorRecord.kind == kind,
                                       MirrorRecord.sink_id == sink_id)
    if current is not None:
        merged = {**current.fields, **fields}
        parent = parent_id or current.parent_id
        MirrorRecord.update(fields=merged, parent_id=parent, refreshed_at=now, deleted=False,
                            **keys_of(kind, merged, parent)).where(MirrorRecord.id == current.id).execute()
    else:
        upsert(sink, [SinkRecord(kind, sink_id, fields, parent_id)], now)  # type: ignore[arg-type]


def watermark(sink: str, kind: str) -> str | None:
    state = MirrorState.get_or_none(MirrorState.sink == sink, MirrorState.kind == kind)
    return state.watermark if state is not None else None


def save_watermark(sink: str, kind: str, mark: str | None) -> None:
    now = time.time()
    MirrorState.insert(sink=sink, kind=kind, watermark=mark, refreshed_at=now).on_conflict(
        conflict_target=[MirrorState.sink, MirrorState.kind],
        update={MirrorState.watermark: excluded(MirrorState.watermark),
                MirrorState.refreshed_at: excluded(MirrorState.refreshed_at)}).execute()
