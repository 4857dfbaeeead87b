"""Issue 16: a suppressed lead is never created or updated in any sink, and says why (trace, totals)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from halosync.engine import suppression
from halosync.engine.ledger import read_totals
from halosync.inspect.trace import trace
from halosync.store.models import Outbox, Person, StagedLead, Suppression
from tests.engine.memory import MemoryPlugin, MemorySink, MemorySource, lead
from tests.privacy.rig import rows, run_once


def test_entries_are_normalised_and_their_kind_is_recognised() -> None:
    assert suppression.parse_entry("John.Smith+crm@GoogleMail.com") == suppression.Entry("email", "johnsmith@gmail.com")
    assert suppression.parse_entry("@Acme.CO.uk") == suppression.Entry("domain", "acme.co.uk")
    assert suppression.parse_entry("https://uk.linkedin.com/in/Jo-S/?trk=x") == suppression.Entry("linkedin", "in/jo-s")
    assert suppression.parse_entry("source_id:apollo:5f1") == suppression.Entry("source_id", "apollo:5f1")
    assert suppression.parse_entry("id:apollo:5f1") == suppression.Entry("source_id", "apollo:5f1")
    with pytest.raises(suppression.SuppressionError, match="email:ADDRESS"):
        suppression.parse_entry("nonsense")
    with pytest.raises(suppression.SuppressionError, match="not a valid email"):
        suppression.parse_entry("email:not-an-address")


async def test_suppressed_leads_reach_no_sink_and_say_why(tmp_path: Path, db_url: str) -> None:
    leads = [lead(0), lead(1), lead(2, domain="blocked.example"), lead(3), lead(4)]
    leads[3] = replace(leads[3], person=replace(leads[3].person, email_status="Unsubscribed"))
    leads[4] = replace(leads[4], labels=("dnc-label",))
    sink = MemorySink()
    extra = '[suppression]\nentries = ["P1@ACME.com", "domain:blocked.example"]\nlabels = ["dnc-label"]'
    assert await run_once(tmp_path, db_url, MemoryPlugin(MemorySource(leads), sink), extra) == 0
    written = {r.fields.get("email") for r in sink.records.values() if r.kind == "person"}
    assert written == {"p0@acme.com"}
    states = rows(db_url, lambda: {s.source_id: (s.state, s.rule) for s in StagedLead.select()})
    assert states == {"c0": ("processed", "new"), **{f"c{n}": ("suppressed", "suppressed") for n in range(1, 5)}}
    assert rows(db_url, read_totals)["suppressed"] == 4
    # the suppressed lead keeps nothing about the person, and trace says what happened
    payload = rows(db_url, lambda: StagedLead.get(StagedLead.source_id == "c1").payload)
    assert payload["person"] == {} and payload["raw"] == {}
    events = rows(db_url, lambda: trace("mem:c1"))["leads"][0]["events"]
    assert [e["stage"] for e in events] == ["staged", "suppressed"]
    assert events[-1]["detail"] == {"rule": "suppressed", "by": "email", "origin": "config"}
    signal = rows(db_url, lambda: trace("mem:c3"))["leads"][0]["events"][-1]["detail"]
    assert signal == {"rule": "suppressed", "by": "source", "signal": "email_status unsubscribed"}
    label = rows(db_url, lambda: trace("mem:c4"))["leads"][0]["events"][-1]["detail"]
    assert label["signal"] == "label dnc-label"
    # the config entries are stored as keyed hashes; a plain key is kept for listing, never the raw text
    stored = rows(db_url, lambda: sorted((s.kind, s.value, s.origin) for s in Suppression.select()))
    assert stored == [("domain", "blocked.example", "config"), ("email", "p1@acme.com", "config")]


async def test_an_entry_added_later_stops_updates_and_cancels_queued_writes(tmp_path: Path, db_url: str) -> None:
    sink = MemorySink()
    source = MemorySource([lead(0), lead(1)])
    plugin = MemoryPlugin(source, sink)
    assert await run_once(tmp_path, db_url, plugin) == 0
    assert sink.count("person") == 2
    added = rows(db_url, lambda: suppression.add([suppression.parse_entry("p1@acme.com")]))
    assert added == {"added": 1, "cancelled": 0}
    changed = replace(lead(1), person=replace(lead(1).person, title="CEO"))
    source.leads.append(changed)  # the memory source's cursor is an offset: the next pull brings this one
    before = {k: dict(v.fields) for k, v in sink.records.items()}
    assert await run_once(tmp_path, db_url, plugin) == 0
    assert {k: dict(v.fields) for k, v in sink.records.items()} == before  # no update reached the sink
    assert rows(db_url, lambda: StagedLead.get(StagedLead.source_id == "c1").state) == "suppressed"
    assert rows(db_url, lambda: Outbox.select().where(Outbox.action == "update").count()) == 0
    # removing the entry lets the next pull stage the record again, even unchanged
    assert rows(db_url, lambda: suppression.remove([suppression.parse_entry("p1@acme.com")])) == {"removed": 1}
    source.leads.append(changed)  # the same record again, unchanged
    assert await run_once(tmp_path, db_url, plugin) == 0
    assert rows(db_url, lambda: StagedLead.get(StagedLead.source_id == "c1").state) == "processed"
    assert rows(db_url, lambda: StagedLead.get(StagedLead.source_id == "c1").person_id) is not None


def test_a_queued_create_is_cancelled_when_its_person_is_suppressed(db_url: str) -> None:
    def seed() -> None:
        person = Person.create(email_key="p0@acme.com")
        for kind in ("person", "opportunity"):
            Outbox.create(key=f"k-{kind}", sink="memsink", kind=kind, action="create", entity_id=person.id,
                          payload={"fields": {}}, state="pending")
        Outbox.create(key="k-other", sink="memsink", kind="person", action="create", entity_id=person.id + 1,
                      payload={"fields": {}}, state="pending")

    rows(db_url, seed)
    assert rows(db_url, lambda: suppression.add([suppression.parse_entry("@ACME.com")]))["cancelled"] == 2
    states = rows(db_url, lambda: {o.key: o.state for o in Outbox.select()})
    assert states == {"k-person": "cancelled", "k-opportunity": "cancelled", "k-other": "pending"}
