"""Issue 16 end to end, over real sockets against the fake Apollo and the fake HaloPSA: Apollo's do-not-contact
signals keep people out of HaloPSA, and `halosyncctl forget --in-sinks` erases one there."""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio

from halosync.cli.commands.demo import DEMO_KEY, demo_plugins, load_config, write_config
from halosync.cli.ctl import main as ctl_main
from halosync.control.server import ControlComponent
from halosync.daemon.app import Daemon
from halosync.engine.component import EngineComponent
from halosync.provider.asgi import serve
from halosync_apollo.fake import UNLIMITED, FakeApollo, GeneratorSpec
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from tests.control.harness import restore_logging, short_dir
from tests.e2e.rig import served
from tests.waiting import until

Capsys = pytest.CaptureFixture[str]
__all__ = ["restore_logging"]  # a fixture used by name


async def ctl_json(capsys: Capsys, socket: str, *argv: str) -> tuple[int, Any]:
    """``halosyncctl --socket SOCKET --json ARGV`` as a user runs it: (exit code, the JSON it printed)."""
    capsys.readouterr()
    code = await trio.to_thread.run_sync(ctl_main, ["--socket", socket, "--json", *argv])
    out, err = capsys.readouterr()
    assert out.strip(), f"no JSON (exit {code}): {err}"
    return code, json.loads(out)


async def test_apollo_signals_and_forget_in_halopsa(capsys: Capsys, restore_logging: None) -> None:
    apollo = FakeApollo([DEMO_KEY], default_limits=UNLIMITED)
    spec = GeneratorSpec(count=150, seed=16, duplicate_share=0.0, hard_negative_share=0.0, missing_email_share=0.0,
                         unsubscribed_share=0.06, dnc_label_share=0.06, dnc_phone_share=0.06)
    generated = apollo.generate(spec)
    signal = generated.signal_of
    assert {"unsubscribed", "dnc_label", "dnc_phone"} <= set(signal.values())
    contacts = {c["id"]: c for c in generated.contacts}
    halo = FakeHalo(FakeSettings(seed=16))
    with short_dir() as directory:
        async with trio.open_nursery() as nursery:
            apollo_url = await nursery.start(serve, apollo)
            halo_url = await nursery.start(serve_fake, halo)
            path = write_config(directory, apollo_url, halo_url,
                                halopsa={"create_opportunity": True, "opportunity_tickettype_id": 2})
            with path.open("a", encoding="utf-8") as out:
                out.write(f'\n[suppression]\nlabels = ["{spec.dnc_label}"]\n')
            plugins = demo_plugins()
            daemon = Daemon(load_config(path, plugins), plugins, once=False,
                            components=[EngineComponent(), ControlComponent()])
            finished = await served(nursery, daemon)
            socket = str(directory / "control.sock")
            with trio.fail_after(60):
                code, result = await ctl_json(capsys, socket, "sync", "--wait")
                assert code == 0, result
                await until(lambda: ctl_json(capsys, socket, "queue"),
                            lambda a: not (a[1]["pending"] or a[1]["in_flight"] or a[1].get("staged_pending")),
                            what="the outbox drained (opportunities included)")
            users = list(halo.tables["users"].rows.values())
            emails = {u.get("emailaddress", "").lower() for u in users}
            phones = {u.get(k) for u in users for k in ("phonenumber", "mobilenumber")} - {None, ""}
            for contact_id, why in signal.items():
                contact = contacts[contact_id]
                if why in ("unsubscribed", "dnc_label"):  # the person is kept out of HaloPSA altogether
                    assert contact["email"].lower() not in emails, (why, contact["email"])
                else:  # only the number Apollo marks do-not-call
                    assert contact["email"].lower() in emails
                    assert contact["phone_numbers"][0]["sanitized_number"] not in phones
            code, status = await ctl_json(capsys, socket, "status")
            assert status["totals"]["suppressed"] == sum(1 for w in signal.values() if w != "dnc_phone")

            # forget one synced person, in HaloPSA too
            victim = next(c for cid, c in contacts.items() if cid not in signal)
            user = next(u for u in users if u.get("emailaddress", "").lower() == victim["email"].lower())
            code, result = await ctl_json(capsys, socket, "forget", victim["email"], "--in-sinks")
            assert code == 0, result
            outcomes = {(e["kind"], e["outcome"]) for e in result["in_sinks"]}
            assert outcomes == {("opportunity", "anonymised"), ("person", "deactivated")}  # Halo refuses the delete
            kept = halo.tables["users"].rows[user["id"]]
            assert kept["inactive"] is True and kept["emailaddress"] == ""
            assert victim["last_name"] not in json.dumps(kept)
            opportunities = [o for o in halo.tables["opportunities"].rows.values() if o.get("user_id") == user["id"]]
            assert opportunities and all(o["oppemailaddress"] == "" for o in opportunities)
            audit = (directory / "audit.log").read_text()
            assert "forget.in_sinks" in audit and victim["email"].lower() not in audit.lower()
            daemon.request_stop()
            await finished.wait()
            nursery.cancel_scope.cancel()
