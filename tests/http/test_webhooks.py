"""POST /webhooks/{plugin} and /webhooks/test over real HTTP: every status of the contract, and nothing stored on
any refusal."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import trio

from halosync.config import loader
from halosync.daemon.app import Daemon
from halosync.daemon.components import default_components
from halosync.plugin.manager import PluginManager
from halosync.webhooks.standard import decode_secret, new_secret, signature, signed_headers
from halosync_builtin import webhook_source
from tests.http.harness import OLD_SECRET, SECRET, config_text, running_daemon

LEAD = {"id": "crm-1", "person": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "company": {"name": "Analytical Engines", "domain": "example.com"}}


async def test_stored_before_202_and_a_repeat_is_200_not_stored_twice(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        first = await run.deliver(LEAD, delivery_id="msg_1")
        assert first.status_code == 202, first.text
        assert first.json() == {"status": "accepted", "delivery_id": "msg_1"}
        rows = await run.inbox()  # no waiting: the row exists once 202 is answered
        assert [(r["plugin"], r["delivery_id"], r["state"]) for r in rows] == [("webhook", "msg_1", "pending")]
        again = await run.deliver(LEAD, delivery_id="msg_1")
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
        assert len(await run.inbox()) == 1


async def test_unknown_plugin_is_404(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        r = await run.deliver(LEAD, plugin="nosuch")
        assert r.status_code == 404 and "enabled: webhook" in r.json()["error"]
        assert await run.inbox() == []


async def test_malformed_is_400(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        no_headers = await run.client.post("/webhooks/webhook", json=LEAD)
        assert no_headers.status_code == 400 and "webhook-id" in no_headers.json()["error"]
        bad_time = await run.deliver(LEAD, headers={"webhook-timestamp": "soon"})
        assert bad_time.status_code == 400
        not_json = await run.deliver(b"{this is not json")
        assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
        assert await run.inbox() == []


async def test_bad_signature_is_401(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        assert (await run.deliver(LEAD, secret=new_secret())).status_code == 401
        body = b'{"id": "1", "person": {"email": "a@example.com"}}'
        headers = signed_headers(SECRET, body)
        tampered = await run.client.post("/webhooks/webhook", content=body.replace(b"a@", b"b@"), headers=headers)
        assert tampered.status_code == 401 and "none of 1 signature(s)" in tampered.json()["error"]
        assert await run.inbox() == []


async def test_replay_outside_the_tolerance_is_refused(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        stale = await run.deliver(LEAD, delivery_id="msg_old", timestamp=int(time.time()) - 301)
        assert stale.status_code == 401 and "tolerance" in stale.json()["error"]
        future = await run.deliver(LEAD, delivery_id="msg_future", timestamp=int(time.time()) + 400)
        assert future.status_code == 401
        assert await run.inbox() == []
        fresh = await run.deliver(LEAD, delivery_id="msg_old", timestamp=int(time.time()) - 240)
        assert fresh.status_code == 202


async def test_rotated_secret_is_accepted(tmp_path: Path) -> None:
    async with running_daemon(tmp_path, config_text(tmp_path, secrets=[SECRET, OLD_SECRET])) as run:
        assert (await run.deliver(LEAD, secret=OLD_SECRET, delivery_id="old")).status_code == 202
        assert (await run.deliver(LEAD, secret=SECRET, delivery_id="new")).status_code == 202
        assert (await run.deliver(LEAD, secret=[new_secret(), OLD_SECRET], delivery_id="both")).status_code == 202
        assert (await run.deliver(LEAD, secret=new_secret(), delivery_id="neither")).status_code == 401
        assert sorted(r["delivery_id"] for r in await run.inbox()) == ["both", "new", "old"]


async def test_oversized_body_is_413(tmp_path: Path) -> None:
    async with running_daemon(tmp_path, config_text(tmp_path, max_body=2048)) as run:
        big = b'{"id": "1", "person": {"email": "a@example.com"}, "pad": "' + b"x" * 10_000 + b'"}'
        declared = await run.deliver(big)
        assert declared.status_code == 413 and "2048" in declared.json()["error"]

        async def chunks() -> AsyncIterator[bytes]:  # no content-length: the cap is enforced while reading
            for _ in range(10):
                yield b"x" * 1000

        streamed = await run.client.post("/webhooks/webhook", content=chunks(),
                                         headers=signed_headers(SECRET, b"irrelevant"))
        assert streamed.status_code == 413
        assert await run.inbox() == []
        small = await run.deliver(LEAD)  # the connection and the listener are fine afterwards
        assert small.status_code == 202


async def test_store_unavailable_is_503_and_nothing_is_stored(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        # Another process holds the SQLite write lock longer than database.timeout (0.5 s in the harness).
        holder = sqlite3.connect(tmp_path / "halosync.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            r = await run.deliver(LEAD, delivery_id="msg_locked")
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] == "30" and "not stored" in r.json()["error"]
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert await run.inbox() == []
        retried = await run.deliver(LEAD, delivery_id="msg_locked")  # the sender's retry
        assert retried.status_code == 202


async def test_credentials_are_never_stored(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        r = await run.deliver(LEAD, headers={"authorization": "Bearer sekrit-token", "x-trace": "t1"})
        assert r.status_code == 202
        [row] = await run.inbox()
        assert row["headers"]["x-trace"] == "t1" and "authorization" not in row["headers"]


async def test_signature_check_is_explained_without_storing(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        body = b'{"id": "1", "person": {"email": "a@example.com"}}'
        good = await run.client.post("/webhooks/test", content=body, headers=signed_headers(SECRET, body))
        assert good.status_code == 200
        assert good.json()["ok"] is True and good.json()["reason"].startswith("signature 0 matches secret 0")
        assert good.json()["stored"] is False

        headers = signed_headers(new_secret(), body, delivery_id="msg_x", timestamp=int(time.time()))
        bad = (await run.client.post("/webhooks/test?plugin=webhook", content=body, headers=headers)).json()
        assert bad["ok"] is False and bad["status"] == 401 and "secret differs" in bad["reason"]
        assert bad["signed_content"]["format"] == "{webhook-id}.{webhook-timestamp}.{body}"
        # What the right signature would have been is never shown: it would be a signing oracle.
        right = signature(decode_secret(SECRET), "msg_x", headers["webhook-timestamp"], body)
        assert right.removeprefix("v1,") not in repr(bad)
        unknown = await run.client.post("/webhooks/test?plugin=nosuch", content=body)
        assert unknown.status_code == 404
        assert await run.inbox() == []


async def test_other_routes_and_methods(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        assert (await run.client.get("/webhooks/webhook")).status_code == 405
        assert (await run.client.post("/health")).status_code == 405
        assert (await run.client.get("/nothing/here")).status_code == 404
        live = await run.client.get("/health/live")
        assert live.status_code == 200 and live.json() == {"status": "alive"}


async def test_listener_off_when_listen_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text(config_text(tmp_path).replace('listen = "127.0.0.1:0"', 'listen = ""'))
    manager = PluginManager()
    manager.register(webhook_source, "webhook")
    daemon = Daemon(loader.load(path, manager.config_specs(), environ={}), manager)
    assert [c for c in default_components(daemon) if c.name == "http"] == []


async def test_both_stores_over_http(tmp_path: Path, db_url: str) -> None:
    async with running_daemon(tmp_path, config_text(tmp_path, database_url=db_url)) as run:
        async with trio.open_nursery() as nursery:
            for i in range(20):
                nursery.start_soon(run.deliver, {"id": str(i), "person": {"email": f"p{i}@example.com"}})
        assert len(await run.inbox()) == 20
        assert (await run.deliver(LEAD, delivery_id="x")).status_code == 202
        assert (await run.deliver(LEAD, delivery_id="x")).status_code == 200
        assert (await run.client.get("/health")).json()["services"]["database"] == "connected"


async def test_reload_switches_secrets_without_a_restart(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        assert (await run.deliver(LEAD, secret=SECRET, delivery_id="before")).status_code == 202
        (tmp_path / "halosync.toml").write_text(config_text(tmp_path, secrets=[OLD_SECRET]))
        assert await run.daemon.reload() is True  # what SIGHUP does
        assert (await run.deliver(LEAD, secret=SECRET, delivery_id="after-old")).status_code == 401
        assert (await run.deliver(LEAD, secret=OLD_SECRET, delivery_id="after-new")).status_code == 202
