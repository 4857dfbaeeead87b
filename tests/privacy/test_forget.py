"""Issue 16: forget erases a person from the store, and no trace of them remains in the database file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from halosync.contracts import SinkRecord
from halosync.engine import mirror, suppression
from halosync.model import Lead
from halosync.privacy import export, forget
from halosync.store.gateway import Store
from halosync.store.models import MirrorRecord, Person, StagedLead, Suppression, WebhookInbox
from tests.engine.memory import MemoryPlugin, MemorySink, MemorySource, lead
from tests.privacy.rig import rows, run_once

EMAIL, NAME, LINKEDIN = "Zelda.Quarrington@acme.com", "Quarrington", "https://www.linkedin.com/in/zelda-quarrington-77"


def target() -> Lead:
    base = lead(7, email=EMAIL, first="Zelda")
    return replace(base, person=replace(base.person, last_name=NAME, linkedin_url=LINKEDIN),
                   raw={"id": "c7", "email": EMAIL, "name": f"Zelda {NAME}", "linkedin_url": LINKEDIN})


async def synced(tmp_path: Path, db_url: str) -> MemorySink:
    sink = MemorySink()
    assert await run_once(tmp_path, db_url, MemoryPlugin(MemorySource([lead(0), target(), lead(2)]), sink)) == 0
    assert sink.count("person") == 3

    def more() -> None:  # a webhook delivery about them, and the mirror's copy of their sink record
        WebhookInbox.create(plugin="hook", delivery_id="d1", body=f'{{"email": "{EMAIL}", "name": "{NAME}"}}',
                            state="processed")
        WebhookInbox.create(plugin="hook", delivery_id="d2", body='{"email": "someone@else.example"}')
        MirrorRecord.create(sink="memsink", kind="person", sink_id="999", email_key=EMAIL.lower(),
                            fields={"email": EMAIL, "last_name": NAME})

    rows(db_url, more)
    return sink


def forget_now(db_url: str, query: str) -> dict:  # type: ignore[type-arg]
    store = Store(db_url)
    try:
        store.create_schema()
        subject = store.call(forget.plan, query)

        def unit() -> dict:  # type: ignore[type-arg]
            with store.db.atomic():
                return forget.erase(subject, store.db)

        result = store.call(unit)
        result["checkpoint"] = store.call(forget.checkpoint, store.db)
        return result
    finally:
        store.close()


def everything(db_url: str) -> str:
    """Every row of every table, as text (what PostgreSQL holds that a query can see)."""
    store = Store(db_url)
    try:
        execute: Any = store.db.execute_sql

        def dump() -> list[str]:
            return [repr(row) for table in store.tables()
                    for row in execute(f'SELECT * FROM "{table}"').fetchall()]

        out = store.call(dump)
        return "\n".join(out)
    finally:
        store.close()


async def test_forget_erases_the_person_and_keeps_only_a_hash(tmp_path: Path, db_url: str) -> None:
    await synced(tmp_path, db_url)
    assert EMAIL in everything(db_url) and NAME in everything(db_url)
    exported = rows(db_url, lambda: export.export(EMAIL.upper()))
    assert exported["found"] and {s["source_id"] for s in exported["staged_leads"]} == {"c7"}
    assert exported["people"] and exported["lineage"] and exported["outbox"] and exported["links"]
    assert len(exported["webhook_deliveries"]) == 1 and exported["mirror_records"]

    result = forget_now(db_url, EMAIL)
    removed = result["removed"]
    assert removed["staged_lead"] == 1 and removed["person"] == 1 and removed["webhook_inbox"] == 1
    assert removed["lineage_event"] >= 3 and removed["outbox"] >= 1 and removed["mirror_record"] >= 1
    assert result["query_kind"] == "email" and EMAIL not in repr(result)
    text = everything(db_url)
    for needle in (EMAIL, EMAIL.lower(), NAME, "zelda-quarrington-77"):
        assert needle not in text and needle.lower() not in text.lower()
    assert "p0@acme.com" in text and "someone@else.example" in text  # the others are untouched
    # what is left: hashes on the suppression list, no plain value
    left = rows(db_url, lambda: [(s.kind, s.value, s.origin) for s in Suppression.select()])
    assert sorted(k for k, _, _ in left) == ["email", "linkedin", "source_id"]
    assert all(v is None and o == "forget" for _, v, o in left)
    assert rows(db_url, lambda: export.export(EMAIL))["suppressed"][0]["value"] is None

    if db_url.startswith("sqlite"):
        assert result["checkpoint"]["checkpointed"]
        path = Path(db_url.removeprefix("sqlite:///"))
        files = [p for p in path.parent.glob(path.name + "*") if p.is_file()]
        for file in files:
            data = file.read_bytes().lower()
            for needle in (EMAIL, NAME, "zelda-quarrington-77"):
                assert needle.lower().encode() not in data, f"{needle} left in {file.name}"


async def test_a_forgotten_person_is_never_synced_again(tmp_path: Path, db_url: str) -> None:
    sink = await synced(tmp_path, db_url)
    forget_now(db_url, LINKEDIN)
    assert rows(db_url, lambda: Person.select().where(Person.email_key == EMAIL.lower()).count()) == 0
    source = MemorySource([lead(0), target(), lead(2), replace(target(), source_id="c8")])
    sink.records.clear()
    assert await run_once(tmp_path, db_url, MemoryPlugin(source, sink)) == 0
    assert EMAIL not in {r.fields.get("email") for r in sink.records.values()}
    states = rows(db_url, lambda: {s.source_id: s.state for s in StagedLead.select()})
    assert "c7" not in states and states["c8"] == "suppressed"  # the cursor brings only the new record
    assert EMAIL not in everything(db_url)


def test_forget_of_someone_unknown_still_suppresses_them(db_url: str) -> None:
    result = forget_now(db_url, "nobody@example.org")
    assert not result["found"] and result["suppressed"] == 1
    assert sum(result["removed"].values()) == 0
    check = suppression.SuppressionRules()
    found = rows(db_url, lambda: check.check([replace(lead(1), person=replace(lead(1).person,
                                                                              email="Nobody@Example.org"))]))
    assert found == {("mem", "c1"): {"by": "email", "origin": "forget"}}


def test_a_mention_is_a_whole_address_not_a_substring() -> None:
    from halosync.privacy.subject import really_mentions

    assert really_mentions('{"email": "Ada@Example.com"}', ["ada@example.com"])
    assert really_mentions("write to ada@example.com.", ["ada@example.com"])
    assert not really_mentions('{"email": "bada@example.com"}', ["ada@example.com"])
    assert not really_mentions('{"email": "ada@example.com.au"}', ["ada@example.com"])
    assert not really_mentions(None, ["ada@example.com"])


def test_the_mirror_keeps_no_copy_of_a_forgotten_person(db_url: str) -> None:
    """Without --in-sinks the HaloPSA user stays; the mirror's next refresh must not copy them back into the store."""
    forget_now(db_url, EMAIL)
    suppression_only = SinkRecord("person", "41", {"email": EMAIL.upper(), "last_name": NAME})
    kept = SinkRecord("person", "43", {"email": "someone@else.example", "last_name": "Else"})
    company = SinkRecord("company", "7", {"name": "Acme", "domain": "acme.com"})
    rows(db_url, lambda: mirror.upsert("halopsa", [suppression_only, kept, company]))
    stored = rows(db_url, lambda: sorted((r.kind, r.sink_id) for r in MirrorRecord.select()))
    assert stored == [("company", "7"), ("person", "43")]
