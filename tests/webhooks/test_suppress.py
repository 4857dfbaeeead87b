"""A delivery whose plugin asks to suppress people (``WebhookContent.suppress``): the inbox worker puts them on the
suppression list, under the plugin's name and with its reason, in the transaction that marks the delivery processed,
and cancels the writes queued for them; a request halosync cannot read makes the delivery a dead letter and adds
nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
import trio
from loguru import logger

from halosync import contracts
from halosync.cli.main import main
from halosync.contracts import Suppression, WebhookContent
from halosync.engine import suppression
from halosync.model import Lead
from halosync.store.gateway import Store
from halosync.store.models import DeadLetter, Outbox, Person, WebhookInbox
from halosync.webhooks import inbox
from halosync.webhooks.registry import Verifiers
from halosync.webhooks.worker import InboxWorker, WorkerPorts
from tests.control.harness import restore_logging

if TYPE_CHECKING:
    from halosync.daemon.api import EngineAPI

__all__ = ["restore_logging"]  # a fixture used by name


class OptOuts:
    """A plugin whose deliveries are ``[[kind, value], ...]``: each one a person to suppress."""

    plugin = "optouts"

    def verify(self, request: contracts.WebhookRequest) -> contracts.Verification:
        return contracts.Verification(True, "trusted in this test")

    def parse(self, request: contracts.WebhookRequest) -> WebhookContent:
        pairs = json.loads(request.body)
        return WebhookContent(suppress=[Suppression(kind, value, "opted out at the provider") for kind, value in pairs])


class OneParser(Verifiers):
    def __init__(self, parser: OptOuts) -> None:
        self._parser = parser

    def get(self, plugin: str) -> contracts.WebhookVerifier | None:
        return self._parser if plugin == self._parser.plugin else None

    def parser(self, plugin: str) -> contracts.WebhookParser | None:
        return self._parser if plugin == self._parser.plugin else None


class Engine:
    """Stages nothing (the deliveries carry no leads); counts its wake-ups."""

    installed = True

    def __init__(self) -> None:
        self.woken = 0

    async def stage(self, source: str, leads: Sequence[Lead], rejected: Sequence[contracts.Rejected] = ()) -> int:
        raise AssertionError("a delivery that only suppresses stages nothing")

    async def apply_mirror_records(self, sink: str, records: Sequence[contracts.SinkRecord]) -> None:
        raise AssertionError("a delivery that only suppresses touches no mirror")

    def wake(self) -> None:
        self.woken += 1


class Ports:
    def __init__(self, store: Store, engine: Engine) -> None:
        self.store, self.engine, self.stopping = store, engine, trio.Event()


def seed() -> int:
    person = Person.create(email_key="ada@example.com")
    Outbox.create(key="k-ada", sink="memsink", kind="person", action="update", entity_id=person.id,
                  payload={"fields": {}}, state="pending")
    Outbox.create(key="k-bob", sink="memsink", kind="person", action="update", entity_id=person.id + 1,
                  payload={"fields": {}}, state="pending")
    return int(person.id)


def stored(delivery_id: str, pairs: list[list[str]]) -> inbox.Delivery:
    return inbox.Delivery("optouts", delivery_id, {}, json.dumps(pairs), time.time())


async def test_a_delivery_suppresses_its_people_and_cancels_their_queued_writes(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    store = Store(db_url)
    await store.run(store.create_schema)
    await store.transaction(seed)
    await store.transaction(inbox.insert, [
        stored("good", [["email", "Ada@Example.com"], ["provider_id", "crm:42"]]),
        stored("bad", [["email", "not an address"], ["linkedin", "https://linkedin.com/in/bob"]]),
    ])
    engine = Engine()
    worker = InboxWorker(cast("WorkerPorts", Ports(store, engine)), OneParser(OptOuts()))
    sync_log: list[tuple[str, str]] = []
    handler = logger.add(lambda m: sync_log.append((m.record["level"].name, m.record["message"])),
                         filter=lambda r: r["extra"].get("channel") == "sync", format="{message}")
    try:
        await worker.process(cast("EngineAPI", engine), await store.run(inbox.pending, 10))
    finally:
        logger.remove(handler)
    # sync.log: one intake line for the plugin's batch, and the delivery that failed as an ERROR (`grep ERROR`)
    rows = await store.run(lambda: {r.delivery_id: r.id for r in WebhookInbox.select()})
    assert sync_log[0] == ("INFO", "optouts: 2 webhook deliveries processed: 0 lead(s) staged, 0 rejected, 0 sink "
                                   "record(s) mirrored; 1 failed")
    assert sync_log[1][0] == "ERROR" and sync_log[1][1].startswith(
        f"dead letter: webhook delivery {rows['bad']} of optouts failed: ")

    listing: dict[str, Any] = await store.run(suppression.listing)
    assert sorted((e["kind"], e["value"], e["origin"], e["reason"]) for e in listing["entries"]) == [
        ("email", "ada@example.com", "optouts", "opted out at the provider"),
        ("source_id", "crm:42", "optouts", "opted out at the provider")]  # nothing of the bad delivery
    assert await store.run(lambda: {o.key: o.state for o in Outbox.select()}) == {"k-ada": "cancelled",
                                                                                  "k-bob": "pending"}
    states = await store.run(lambda: {r.delivery_id: r.state for r in WebhookInbox.select()})
    assert states == {"good": "processed", "bad": "failed"}
    [reason] = await store.run(lambda: [d.reason for d in DeadLetter.select()])
    assert "'not an address' is not a valid email" in reason and "optouts" in reason
    assert engine.woken == 1
    store.close()
    # what the operator reads (`halosync suppress list`, as `halosyncctl suppress list` prints it)
    config = tmp_path / "halosync.toml"
    config.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n[database]\nurl = "{db_url}"\n')
    assert main(["--config", str(config), "suppress", "list"]) == 0
    shown = capsys.readouterr().out
    assert "ada@example.com" in shown and "crm:42" in shown and "opted out at the provider" in shown
    assert "optouts" in shown


@pytest.mark.parametrize(("wanted", "words"), [
    (Suppression(cast("Any", "domain"), "example.com", "r"), "not one a plugin may ask for"),
    (Suppression("provider_id", "42", "r"), "write SOURCE:ID"),
])
def test_a_plugin_may_not_suppress_a_whole_domain_and_a_provider_id_needs_its_source(wanted: Suppression,
                                                                                    words: str) -> None:
    with pytest.raises(suppression.SuppressionError, match=words):
        suppression.requested([wanted])
