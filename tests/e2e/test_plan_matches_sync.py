"""The dry-run plan says what the sync then does (issue 15): on one set of data -- Apollo contacts with duplicates,
HaloPSA users that already exist and lack a field the lead has -- the plan's expected totals are the totals the real
sync records, kind by kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from halosync.cli.commands.demo import DemoFakes
from halosync.engine.ledger import read_totals
from halosync_apollo.fake import GeneratorSpec
from tests.e2e.rig import Rig


def existing_users(fakes: DemoFakes, count: int) -> set[str]:
    """``count`` people of the generated data already in HaloPSA, without their title: each is an update to make.
    Returns their ground-truth person keys."""
    apollo, halo = fakes.apollo, fakes.halo
    people: set[str] = set()
    for contact_id, contact in sorted(apollo.book.by_id.items()):
        org = contact.get("organization") or {}
        person = apollo.truth.get(contact_id)
        if len(people) == count:
            break
        if not (contact.get("email") and contact.get("title") and org.get("primary_domain")) or person in people:
            continue
        client = halo.add_client(org["name"], website=org["primary_domain"], domain=org["primary_domain"])
        halo.add_user(client["id"], firstname=contact["first_name"], surname=contact["last_name"],
                      emailaddress=contact["email"])
        people.add(person)
    return people


async def test_the_plan_counts_are_what_the_sync_then_does(tmp_path: Path, db_url: str) -> None:
    fakes = DemoFakes.create(0, seed=11, halo_rate=100_000)
    fakes.apollo.generate(GeneratorSpec(count=200, seed=5, duplicate_share=0.15))
    assert len(existing_users(fakes, 4)) == 4
    users_before = len(fakes.halo.records("users"))
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        rig = Rig(fakes, tmp_path, db_url)
        rig.match = {"conflict": {"default": "fill_empty"}}
        daemon, finished = await rig.serving(nursery, dry_run=True)  # its scheduled pulls write nothing either
        assert daemon.engine is not None
        with trio.fail_after(60):
            events = [event async for event in daemon.engine.sync("apollo", dry_run=True)]
        daemon.request_stop()
        await finished.wait()
        plan: dict[str, Any] = events[-1]["sources"][0]["plan"]
        assert len(fakes.halo.records("users")) == users_before  # the plan wrote nothing

        assert await rig.run_once() == 0
        totals = rig.query(read_totals)
        nursery.cancel_scope.cancel()

    expected = plan["expected"]
    assert expected["updated"] == 4 and expected["merged"] > 0
    for name in ("created", "updated", "merged", "skipped", "review", "failed", "companies_created",
                 "companies_updated", "opportunities_created"):
        assert (name, expected[name]) == (name, totals[name])
    assert len(fakes.halo.records("users")) - users_before == totals["created"]
