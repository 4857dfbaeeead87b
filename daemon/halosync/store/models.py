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

Times are UNIX epoch seconds (float), JSON columns are text.
"""

from __future__ import annotations

import json
import time
from typing import Any

import peewee as pw

database_proxy = pw.DatabaseProxy()


class JSONField(pw.TextField):
    def db_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class BaseModel(pw.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class SourceCursor(BaseModel):
    source = pw.CharField(primary_key=True)
    cursor = pw.TextField(null=True)
    updated_at = pw.FloatField(default=time.time)
    last_success_at = pw.FloatField(null=True)
    last_error = pw.TextField(null=True)


class StagedLead(BaseModel):
    source = pw.CharField()
    source_id = pw.CharField()
    payload = JSONField()
    content_hash = pw.CharField()
    revision = pw.IntegerField(default=1)
    state = pw.CharField(default="pending", index=True)  # pending | processed | review | dead
    staged_at = pw.FloatField(default=time.time)
    processed_at = pw.FloatField(null=True)

    class Meta:
        indexes = ((("source", "source_id"), True),)


class Company(BaseModel):
    name = pw.TextField(null=True)
    domain_key = pw.CharField(null=True, index=True)
    name_key = pw.CharField(null=True, index=True)
    fields = JSONField(default=dict)
    created_at = pw.FloatField(default=time.time)


class Person(BaseModel):
    company = pw.ForeignKeyField(Company, null=True, backref="people", on_delete="SET NULL")
    email_key = pw.CharField(null=True, index=True)
    linkedin_key = pw.CharField(null=True, index=True)
    name_key = pw.CharField(null=True, index=True)
    fields = JSONField(default=dict)
    created_at = pw.FloatField(default=time.time)


class SinkRef(BaseModel):
    sink = pw.CharField()
    kind = pw.CharField()  # company | person | opportunity
    entity_id = pw.IntegerField()
    sink_id = pw.CharField()
    created_at = pw.FloatField(default=time.time)

    class Meta:
        indexes = ((("sink", "kind", "entity_id"), True), (("sink", "kind", "sink_id"), False))


class Link(BaseModel):
    source = pw.CharField()
    source_id = pw.CharField()
    sink = pw.CharField()
    kind = pw.CharField()
    sink_id = pw.CharField()
    entity_id = pw.IntegerField()
    merged = pw.BooleanField(default=False)  # several source records on one sink record, on purpose
    created_at = pw.FloatField(default=time.time)

    class Meta:
        indexes = ((("source", "source_id", "sink", "kind"), True), (("sink", "kind", "sink_id"), False))


class Outbox(BaseModel):
    key = pw.CharField(unique=True)  # idempotency key
    sink = pw.CharField()
    kind = pw.CharField()
    action = pw.CharField()  # create | update
    entity_id = pw.IntegerField()
    payload = JSONField()  # the WriteOp's fields, parent, lead reference
    state = pw.CharField(default="pending")  # pending | in_flight | done | dead | cancelled
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.FloatField(default=0.0)
    last_error = pw.TextField(null=True)
    claimed_by = pw.CharField(null=True)
    claimed_at = pw.FloatField(null=True)
    source = pw.CharField(null=True)
    source_id = pw.CharField(null=True)
    created_at = pw.FloatField(default=time.time)
    updated_at = pw.FloatField(default=time.time)

    class Meta:
        indexes = ((("state", "sink", "kind", "next_attempt_at"), False),)


class DeadLetter(BaseModel):
    stage = pw.CharField()  # intake | match | write | webhook
    source = pw.CharField(null=True)
    source_id = pw.CharField(null=True)
    sink = pw.CharField(null=True)
    outbox_id = pw.IntegerField(null=True)
    reason = pw.TextField()
    payload = JSONField(null=True)
    attempts = pw.IntegerField(default=0)
    created_at = pw.FloatField(default=time.time)


class WebhookInbox(BaseModel):
    plugin = pw.CharField()
    delivery_id = pw.CharField()
    headers = JSONField(default=dict)
    body = pw.TextField()
    state = pw.CharField(default="pending", index=True)  # pending | processed | failed
    received_at = pw.FloatField(default=time.time)
    processed_at = pw.FloatField(null=True)
    error = pw.TextField(null=True)

    class Meta:
        indexes = ((("plugin", "delivery_id"), True),)


class LineageEvent(BaseModel):
    source = pw.CharField()
    source_id = pw.CharField()
    at = pw.FloatField(default=time.time)
    stage = pw.CharField()  # staged | matched | planned | write | linked | dead | ...
    detail = JSONField(default=dict)

    class Meta:
        indexes = ((("source", "source_id"), False),)


class MirrorRecord(BaseModel):
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
    refreshed_at = pw.FloatField(default=time.time)

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
    refreshed_at = pw.FloatField(null=True)

    class Meta:
        primary_key = pw.CompositeKey("sink", "kind")


class KV(BaseModel):
    key = pw.CharField(primary_key=True)
    value = JSONField(null=True)
    updated_at = pw.FloatField(default=time.time)


MODELS: tuple[type[BaseModel], ...] = (
    SourceCursor, StagedLead, Company, Person, SinkRef, Link, Outbox, DeadLetter, WebhookInbox,
    LineageEvent, MirrorRecord, MirrorState, KV,
)
