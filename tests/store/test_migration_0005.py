"""Migration 0005: domain and e-mail keys stored in `xn--` form before IDNA normalisation are re-keyed to the form
`normalize` gives a new lead today (so the stored company matches again), on SQLite and PostgreSQL; `down` puts
back exactly what it changed."""

from __future__ import annotations

from typing import Any

from halosync.engine import normalize
from halosync.store.gateway import Store
from halosync.store.migrations_runner import Migrations
from halosync.store.models import Company, MirrorRecord, Person

REKEY = 5


def before_0005(migrations: Migrations) -> int:
    return max(m.number for m in migrations.status() if m.number < REKEY)


def keys(store: Store) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        return {"companies": sorted(c.domain_key or "" for c in Company.select()),
                "people": sorted(p.email_key or "" for p in Person.select()),
                "mirror": sorted((m.domain_key or "", m.email_key or "") for m in MirrorRecord.select())}
    result: dict[str, Any] = store.call(read)
    return result


def test_stored_xn_keys_are_rekeyed_and_match_new_leads_again(db_url: str) -> None:
    store = Store(db_url)
    migrations = Migrations(store)
    try:
        store.call(migrations.up, store.call(before_0005, migrations))

        def old_rows() -> None:
            bucher = Company.create(name="Bücher GmbH", domain_key="xn--bcher-kva.de", name_key="bucher")
            Company.create(name="Acme", domain_key="acme.com", name_key="acme")
            Company.create(name="Broken", domain_key="xn--zz.example", name_key="broken")  # IDNA refuses it
            Person.create(company=bucher, email_key="jo+crm@xn--bcher-kva.de")  # +tags kept: keyed without strip
            Person.create(company=bucher, email_key="ann@acme.com")
            MirrorRecord.create(sink="halopsa", kind="company", sink_id="9", domain_key="xn--mnchen-3ya.de")
            MirrorRecord.create(sink="halopsa", kind="person", sink_id="10", email_key="max@xn--mnchen-3ya.de")

        store.call(old_rows)
        before = keys(store)
        assert store.call(migrations.up, REKEY) == ["0005_idna_keys"]
        after = keys(store)
        assert after["companies"] == ["acme.com", "bücher.de", "xn--zz.example"]
        assert after["people"] == ["ann@acme.com", "jo+crm@bücher.de"]
        assert after["mirror"] == [("", "max@münchen.de"), ("münchen.de", "")]
        # What a new lead is keyed as now finds the stored rows.
        assert normalize.domain_key("https://www.BÜCHER.de/shop") in after["companies"]
        assert normalize.domain_key("xn--bcher-kva.de") in after["companies"]
        assert normalize.email_key("Max@xn--mnchen-3ya.de") == "max@münchen.de"

        def found() -> int:
            return int(Company.select().where(Company.domain_key == normalize.domain_key("bücher.de")).count())

        assert store.call(found) == 1

        assert store.call(migrations.down) == ["0005_idna_keys"]
        assert keys(store) == before
        assert store.call(migrations.up, REKEY) == ["0005_idna_keys"]
        assert keys(store) == after  # and again: up after down is the same
    finally:
        store.close()


def test_a_store_without_xn_keys_is_left_alone(db_url: str) -> None:
    store = Store(db_url)
    migrations = Migrations(store)
    try:
        store.call(migrations.up, store.call(before_0005, migrations))
        store.call(lambda: Company.create(name="Acme", domain_key="acme.com", name_key="acme"))
        store.call(migrations.up, REKEY)
        assert keys(store)["companies"] == ["acme.com"]
        assert store.call(migrations.down) == ["0005_idna_keys"]
        assert keys(store)["companies"] == ["acme.com"]
    finally:
        store.close()
