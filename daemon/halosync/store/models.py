"""The state store's tables: everything the pipeline must remember across restarts.

    source_cursor   where each source's pull resumes (committed with the staged leads of the same page)
    staged_lead     every lead as pulled or pushed, durable before anything else happens
    company/person  local identities the matcher resolves leads to (one per real company / person)
    sink_ref        the sink record behind a local identity (per sink)
    link            source record <-> sink record, written with the outbox row that produced it
    outbox          one row per intended sink write, with its idempotency key and attempt history
    dead_letter     what could not be processed, with the reason; retry or drop from halosyncctl
    webhook_inbox   webhook deliveries, stored before 202 is answered
    lineage_event   what happened to a lead, step by step (for `trace`)
    mirror_record   the local index of the sink's existing records (matching never calls the sink per lead)
    mirror_state    where each mirror refresh resumes
    kv              small daemon state that must survive restarts (paused, ...)
    total           running totals (seen, created, ...) kept in the transactions that change them

Times are UNIX epoch seconds (float), JSON columns are text.
"""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
import peewee as pw

database_proxy = pw.DatabaseProxy()


# Built once: json.dumps with options builds a new encoder per call, which costs as much as encoding a small detail.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=str)
# orjson writes the same JSON (sorted keys; what it would serialise its own way, datetimes, dataclasses and str
# subclasses, goes through ``str`` as with json) three to four times faster: every staged lead, outbox row and
# lineage event passes through here, in the one database thread the whole pipeline waits on.
_ORJSON_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS)


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, default=str, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # what orjson refuses (an integer beyond 64 bits, a lone surrogate): json takes it
        return _ENCODER.encode(value)


def loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what orjson refuses to read (an escaped lone surrogate): json reads it
        return json.loads(text)


class JSONField(pw.TextField):
    def db_value(self, value: Any) -> str | None:
        return None if value is None else dumps(value)

    def python_value(self, value: str | None) -> Any:
        return None if value is None else loads(value)


class BaseModel(pw.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class SourceCursor(BaseModel):
    source = pw.CharField(primary_key=True)
    cursor = pw.TextField(null=True)
    updated_at = pw.DoubleField(default=time.time)
    last_success_at = pw.DoubleField(null=True)
    last_error = pw.TextField(null=True)


class StagedLead(BaseModel):
    """One source record, latest revision. ``state``: pending (staged, not matched yet), processed (decided and
    planned), review (ambiguous match, waits for a person), dead (malformed; see dead_letter). ``person_id`` and
    ``company_id`` are the local identities the matcher resolved it to, ``rule`` the rule that decided."""

    id = pw.AutoField()
    source = pw.CharField()
    source_id = pw.CharField()
    payload = JSONField()
    content_hash = pw.CharField()
    revision = pw.IntegerField(default=1)
    state = pw.CharField(default="pending", index=True)  # pending | processed | review | dead
    staged_at = pw.DoubleField(default=time.time)
    processed_at = pw.DoubleField(null=True)
    person_id = pw.IntegerField(null=True, index=True)
    company_id = pw.IntegerField(null=True, index=True)
    rule = pw.CharField(null=True)

    class Meta:
        indexes = ((("source", "source_id"), True),)


class Company(BaseModel):
    id = pw.AutoField()
    name = pw.TextField(null=True)
    domain_key = pw.CharField(null=True, index=True)
    name_key = pw.CharField(null=True, index=True)
    fields = JSONField(default=dict)
    created_at = pw.DoubleField(default=time.time)


class Person(BaseModel):
    id = pw.AutoField()
    company = pw.ForeignKeyField(Company, null=True, backref="people", on_delete="SET NULL")
    email_key = pw.CharField(null=True, index=True)
    linkedin_key = pw.CharField(null=True, index=True)
    name_key = pw.CharField(null=True, index=True)
    fields = JSONField(default=dict)
    created_at = pw.DoubleField(default=time.time)


class SinkRef(BaseModel):
    id = pw.AutoField()
    sink = pw.CharField()
    kind = pw.CharField()  # company | person | opportunity
    entity_id = pw.IntegerField()
    sink_id = pw.CharField()
    created_at = pw.DoubleField(default=time.time)

    class Meta:
        indexes = ((("sink", "kind", "entity_id"), True), (("sink", "kind", "sink_id"), False))


class Link(BaseModel):
    id = pw.AutoField()
    source = pw.CharField()
    source_id = pw.CharField()
    sink = pw.CharField()
    kind = pw.CharField()
    sink_id = pw.CharField()
    entity_id = pw.IntegerField()
    merged = pw.BooleanField(default=False)  # several source records on one sink record, on purpose
    created_at = pw.DoubleField(default=time.time)

    class Meta:
        indexes = ((("source", "source_id", "sink", "kind"), True), (("sink", "kind", "sink_id"), False))


class Outbox(BaseModel):
    """One intended sink write. States: pending -> in_flight -> done | dead (| cancelled).

    ``payload``: {"fields": {...canonical names...}, "sink_id": str|None (updates), "staged_id": int (the staged
    lead behind the write), "diff": {field: [old, new]} (updates)}. A person create waits until its company
    (``parent_entity_id``) has a sink_ref for the same sink. ``reconcile`` is set when an earlier attempt may have
    reached the sink (a crash while in flight, a timeout): the next attempt first asks ``sink.find`` whether the
    record exists. To retry a dead row: state="pending", attempts=0, next_attempt_at=0, reconcile=True."""

    id = pw.AutoField()
    key = pw.CharField(unique=True)  # idempotency key
    sink = pw.CharField()
    kind = pw.CharField()
    action = pw.CharField()  # create | update
    entity_id = pw.IntegerField()
    payload = JSONField()  # the WriteOp's fields, parent, lead reference
    state = pw.CharField(default="pending")  # pending | in_flight | done | dead | cancelled
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DoubleField(default=0.0)
    last_error = pw.TextField(null=True)
    claimed_by = pw.CharField(null=True)
    claimed_at = pw.DoubleField(null=True)
    source = pw.CharField(null=True)
    source_id = pw.CharField(null=True)
    parent_entity_id = pw.IntegerField(null=True)
    reconcile = pw.BooleanField(default=False)
    created_at = pw.DoubleField(default=time.time)
    updated_at = pw.DoubleField(default=time.time)

    class Meta:
        # Workers claim by (state, sink, kind, action) in id order: this index walks them without sorting.
        indexes = ((("state", "sink", "kind", "action", "id"), False), (("entity_id", "kind"), False),
                   (("sink", "parent_entity_id"), False))


class DeadLetter(BaseModel):
    """Something that could not be processed, with the reason. ``stage`` and how to retry it:

    intake   a source record that could not become a lead (Rejected); payload: the raw record. Not retryable
             from here (fix it at the source; the next pull brings it again).
    match    a staged lead that could not be matched (no identifying key, bad data); payload: {"staged_id"}.
             Retry: staged_lead[staged_id].state = "pending", then engine.wake().
    write    an outbox row that failed for good (sink rejection, attempts exhausted, its company failed);
             ``outbox_id`` set, payload: {"kind", "action", "fields"}. Retry: the outbox row back to pending (see
             Outbox), then engine.wake().
    """

    id = pw.AutoField()
    stage = pw.CharField()  # intake | match | write | webhook
    source = pw.CharField(null=True)
    source_id = pw.CharField(null=True)
    sink = pw.CharField(null=True)
    outbox_id = pw.IntegerField(null=True)
    reason = pw.TextField()
    payload = JSONField(null=True)
    attempts = pw.IntegerField(default=0)
    created_at = pw.DoubleField(default=time.time)


class WebhookInbox(BaseModel):
    id = pw.AutoField()
    plugin = pw.CharField()
    delivery_id = pw.CharField()
    headers = JSONField(default=dict)
    body = pw.TextField()
    state = pw.CharField(default="pending", index=True)  # pending | processed | failed
    received_at = pw.DoubleField(default=time.time)
    processed_at = pw.DoubleField(null=True)
    error = pw.TextField(null=True)

    class Meta:
        indexes = ((("plugin", "delivery_id"), True),)


class LineageEvent(BaseModel):
    """What happened to one source record, in order (``halosyncctl trace``). ``stage`` and its ``detail``:

    staged     {"revision": int, "content_hash": str, "via": "pull"|"push"}  (a lead pulled again with the same
               content is not staged again and gets no event)
    matched    {"company": D, "person": D} where D = {"outcome": "new"|"match", "rule": "email"|"linkedin"|
               "name_company"|"domain"|"name"|"new", "inputs": {normalised keys...}, "entity_id": int,
               "candidate": {"origin": "local"|"mirror", "entity_id", "sink", "sink_id"} (when matched)}
    review     {"reason": str, "decision": D with "candidates": [...]}  (ambiguous: nothing is written)
    planned    {"sink", "kind", "action": "create"|"join"|"update"|"merge"|"none", then "outbox_id" and
               "fields" for create/join (join: a duplicate joining a pending create), "diff" {field: [old, new]}
               for the others}
    write      {"sink", "kind", "action", "outbox_id", "attempt", "outcome": "ok"|"found"|"retry"|"rejected",
               "sink_id" (ok, found) | "error" (retry, rejected)}  (found: reconciled after a crash/timeout)
               outcome "exists": a create not sent because its identity got the record ``sink_id`` meanwhile;
               "became" "update" (with "update_outbox_id", "diff") or "none", and "why"
    twin       {"sink", "kind", "sink_id", "kept", "outbox_id"}: a create landed although the identity got
               ``kept`` in the last instant; the identity stays on ``kept``, the twin is to merge in the sink
    linked     {"sink", "kind", "sink_id", "merged": bool}
    dead       {"stage": "intake"|"match"|"write", "reason": str}
    """

    id = pw.AutoField()
    source = pw.CharField()
    source_id = pw.CharField()
    at = pw.DoubleField(default=time.time)
    stage = pw.CharField()  # staged | matched | planned | write | linked | dead | ...
    detail = JSONField(default=dict)

    class Meta:
        indexes = ((("source", "source_id"), False),)


class MirrorRecord(BaseModel):
    id = pw.AutoField()
    sink = pw.CharField()
    kind = pw.CharField()
    sink_id = pw.CharField()
    parent_id = pw.CharField(null=True)
    email_key = pw.CharField(null=True)
    linkedin_key = pw.CharField(null=True)
    domain_key = pw.CharField(null=True)
    name_key = pw.CharField(null=True)
    fields = JSONField(default=dict)
    deleted = pw.BooleanField(default=False)
    refreshed_at = pw.DoubleField(default=time.time)

    class Meta:
        indexes = (
            (("sink", "kind", "sink_id"), True),
            (("sink", "kind", "email_key"), False),
            (("sink", "kind", "domain_key"), False),
            (("sink", "kind", "name_key"), False),
            (("sink", "kind", "linkedin_key"), False),
        )


class MirrorState(BaseModel):
    sink = pw.CharField()
    kind = pw.CharField()
    watermark = pw.TextField(null=True)
    refreshed_at = pw.DoubleField(null=True)

    class Meta:
        primary_key = pw.CompositeKey("sink", "kind")


class Total(BaseModel):
    """Running totals since the store was created (``status.totals``), updated in the transaction that changes
    them: seen, created, updated, merged, skipped, review, failed."""

    name = pw.CharField(primary_key=True)
    value = pw.BigIntegerField(default=0)


class KV(BaseModel):
    key = pw.CharField(primary_key=True)
    value = JSONField(null=True)
    updated_at = pw.DoubleField(default=time.time)


MODELS: tuple[type[BaseModel], ...] = (
    SourceCursor, StagedLead, Company, Person, SinkRef, Link, Outbox, DeadLetter, WebhookInbox,
    LineageEvent, MirrorRecord, MirrorState, KV, Total,
)


# --- Issue 16: personal data ----------------------------------------------------------------------------------


class Suppression(BaseModel):
    """Who must never be synced (issue 16). ``kind``: email | domain | linkedin | source_id; ``digest`` the keyed
    hash of ``kind:normalised key`` (``halosync.engine.suppression``), which is what every lookup uses; ``value``
    the normalised key itself, or None once the person was forgotten (``halosync forget`` keeps the digest only).
    ``origin``: manual (suppress add), config ([suppression] entries or file), forget."""

    id = pw.AutoField()
    kind = pw.CharField()
    digest = pw.CharField(unique=True)
    value = pw.TextField(null=True)
    origin = pw.CharField(default="manual")
    reason = pw.TextField(null=True)
    created_at = pw.DoubleField(default=time.time)


# Created by migration 0003, not 0001 (which creates MODELS as they were at the first release).
PRIVACY_MODELS: tuple[type[BaseModel], ...] = (Suppression,)
