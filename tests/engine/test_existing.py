"""A create whose identity got a sink record after it was planned never creates: it becomes an update, or nothing.

The store is set up as the planner leaves it (a person identity, its staged lead, a pending create), then the
identity gets a record by another path (a later lead adopting the record the create's lost answer made, through
the mirror); the claim and the settle that follow are the real ones, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from halosync.contracts import WriteResult
from halosync.engine import outbox
from halosync.engine.ledger import Ledger
from halosync.model import Lead
from halosync.model import Person as LeadPerson
from halosync.store.gateway import Store
from halosync.store.models import LineageEvent, Link, MirrorRecord, Outbox, Person, SinkRef, StagedLead

T = TypeVar("T")
SINK = "memsink"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.create_schema()
    try:
        yield s
    finally:
        s.close()


def in_txn(store: Store, fn: Callable[[], T]) -> T:
    def atomic() -> T:
        with store.db.atomic():
            return fn()
    return store.call(atomic)


def planned_create(source_id: str, fields: dict[str, Any]) -> int:
    """A LinkedIn-only lead as the planner leaves it: staged, resolved to a person, a pending create."""
    lead = Lead("mem", source_id, LeadPerson(first_name=fields.get("first_name"), last_name=fields.get("last_name"),
                                             linkedin_url=fields.get("linkedin_url"), email=fields.get("email")))
    person = Person.create(linkedin_key="linkedin.com/in/ada-lovelace", name_key="ada lovelace")
    staged = StagedLead.create(source="mem", source_id=source_id, payload=lead.to_dict(), content_hash="h",
                               state="processed", person_id=person.id)
    Outbox.create(key=f"{SINK}/person/{person.id}/create", sink=SINK, kind="person", action="create",
                  entity_id=person.id, source="mem", source_id=source_id, reconcile=True,
                  payload={"fields": fields, "staged_id": staged.id})
    return int(person.id)


def adopted(person_id: int, sink_id: str, mirror_fields: dict[str, Any]) -> None:
    """The identity gets a record by another path: the mirror holds it and a later lead adopted it."""
    MirrorRecord.create(sink=SINK, kind="person", sink_id=sink_id, fields=mirror_fields)
    SinkRef.create(sink=SINK, kind="person", entity_id=person_id, sink_id=sink_id)
    StagedLead.create(source="mem", source_id="later", payload={}, content_hash="h2", state="processed",
                      person_id=person_id)
    Link.create(source="mem", source_id="later", sink=SINK, kind="person", sink_id=sink_id, entity_id=person_id)


def claim(store: Store) -> outbox.Batch | None:
    return in_txn(store, lambda: outbox.claim(SINK, ("person",), 10, "w1", skip_locked=False))


def settle(store: Store, batch: outbox.Batch, sink_id: str, how: str) -> None:
    """The worker's settle of a one-row batch whose write (or check before it) answered ``how``."""
    key = batch.rows[0].key
    ledger = Ledger()

    def unit() -> None:
        outbox.settle(batch, {key: (WriteResult(key, sink_id=sink_id), how)}, outbox.RetryPolicy(), ledger)
        ledger.flush()

    in_txn(store, unit)


def write_events(store: Store, source_id: str) -> list[dict[str, Any]]:
    return store.call(lambda: [e.detail for e in LineageEvent.select().where(
        LineageEvent.source_id == source_id, LineageEvent.stage == "write")])


FIELDS = {"first_name": "Ada", "last_name": "Lovelace", "title": "CTO",
          "linkedin_url": "https://www.linkedin.com/in/ada-lovelace"}


def test_a_create_whose_identity_got_a_record_is_claimed_as_an_update_of_it(store: Store) -> None:
    person_id = store.call(lambda: planned_create("first", FIELDS))
    store.call(lambda: adopted(person_id, "501", {"first_name": "Ada", "last_name": "Lovelace",
                                                  "email": "ada@acme.com"}))
    batch = claim(store)
    assert batch is not None and (batch.kind, batch.action) == ("person", "update")
    [op] = batch.ops
    assert op.sink_id == "501" and dict(op.fields) == {"title": "CTO", "linkedin_url": FIELDS["linkedin_url"]}
    rows = store.call(lambda: [(o.action, o.state) for o in Outbox.select().order_by(Outbox.id)])
    assert rows == [("create", "done"), ("update", "in_flight")]
    [event] = write_events(store, "first")
    assert (event["outcome"], event["became"], event["sink_id"]) == ("exists", "update", "501")
    assert "after the create was planned" in event["why"]
    links = store.call(lambda: sorted((x.source_id, x.sink_id, x.merged) for x in Link.select()))
    assert links == [("first", "501", True), ("later", "501", False)]


def test_nothing_to_change_means_no_write_at_all(store: Store) -> None:
    person_id = store.call(lambda: planned_create("first", FIELDS))
    store.call(lambda: adopted(person_id, "502", dict(FIELDS)))
    assert claim(store) is None  # no create to send, no update either
    assert store.call(lambda: [(o.action, o.state) for o in Outbox.select()]) == [("create", "done")]
    [event] = write_events(store, "first")
    assert (event["outcome"], event["became"]) == ("exists", "none")


def test_a_record_gained_between_claim_and_write_diverts_at_settle(store: Store) -> None:
    """The worker's check right before the write answers ``exists``; the settle turns the row into an update."""
    person_id = store.call(lambda: planned_create("first", FIELDS))
    batch = claim(store)
    assert batch is not None and batch.action == "create"
    store.call(lambda: adopted(person_id, "503", {"first_name": "Ada"}))
    settle(store, batch, "503", "exists")
    update = claim(store)
    assert update is not None and update.ops[0].sink_id == "503"
    assert set(update.ops[0].fields) == {"last_name", "title", "linkedin_url"}
    assert store.call(lambda: SinkRef.select().count()) == 1


def test_a_twin_made_in_the_last_instant_keeps_the_identity_on_its_record(store: Store) -> None:
    """Written anyway (the record came after the last check): the identity and its links stay on the record it
    had, and the lineage names the twin so an operator can merge it."""
    person_id = store.call(lambda: planned_create("first", FIELDS))
    batch = claim(store)
    assert batch is not None
    store.call(lambda: adopted(person_id, "504", {}))
    settle(store, batch, "777", "ok")
    assert store.call(lambda: sorted((x.source_id, x.sink_id) for x in Link.select())) == [
        ("first", "504"), ("later", "504")]
    twins = store.call(lambda: [e.detail for e in LineageEvent.select().where(LineageEvent.stage == "twin")])
    assert twins and twins[0]["sink_id"] == "777" and twins[0]["kept"] == "504"


def test_a_settle_run_twice_after_a_cut_off_commit_changes_nothing_the_second_time(store: Store) -> None:
    """A commit whose connection went may have landed; the unit is run again, and must find its work done."""
    store.call(lambda: planned_create("first", FIELDS))
    batch = claim(store)
    assert batch is not None
    settle(store, batch, "601", "ok")
    settle(store, batch, "601", "ok")  # the repeat
    assert store.call(lambda: [(o.action, o.state) for o in Outbox.select()]) == [("create", "done")]
    entity = batch.rows[0].entity_id
    assert store.call(lambda: [(r.sink_id, r.entity_id) for r in SinkRef.select()]) == [("601", entity)]
    assert [e["outcome"] for e in write_events(store, "first")] == ["ok", "claim lapsed"]


def test_a_batch_released_while_its_daemon_froze_is_neither_written_nor_settled_by_it(store: Store) -> None:
    """Its daemon stopped heartbeating (SIGSTOP, a paused VM): its claim went back, another daemon claimed the row.
    Waking, the first finds the row no longer under its claim, and leaves it to the second."""
    store.call(lambda: planned_create("first", FIELDS))
    frozen = claim(store)
    assert frozen is not None
    assert store.call(lambda: outbox.still_claimed(frozen)) == {frozen.rows[0].id}
    assert in_txn(store, lambda: outbox.release_stale(0.0, "elsewhere", ["w1"])) == 1
    awake = in_txn(store, lambda: outbox.claim(SINK, ("person",), 10, "w2", skip_locked=False))
    assert awake is not None and awake.rows[0].id == frozen.rows[0].id and awake.rows[0].reconcile
    assert store.call(lambda: outbox.still_claimed(frozen)) == set()  # what the worker asks before its write
    settle(store, frozen, "602", "ok")
    assert store.call(lambda: [(o.state, o.claimed_by) for o in Outbox.select()]) == [("in_flight", "w2")]
    assert store.call(lambda: SinkRef.select().count()) == 0
    [event] = write_events(store, "first")
    assert (event["outcome"], event["written"]) == ("claim lapsed", True)
    settle(store, awake, "602", "found")  # the second daemon's check of the sink found the record
    assert store.call(lambda: [(o.state, o.claimed_by) for o in Outbox.select()]) == [("done", "w2")]
    assert store.call(lambda: [r.sink_id for r in SinkRef.select()]) == ["602"]
