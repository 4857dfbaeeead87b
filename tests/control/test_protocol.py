"""The control protocol over a real socket: envelope, errors, hostile clients, the method registry, the audit log."""

from __future__ import annotations

import json
from typing import Any

import trio

from halosync.control.protocol import MAX_LINE_BYTES
from halosync.control.registry import Call, ControlMethod
from tests.control.harness import running_daemon


async def test_envelope_result_and_system_methods() -> None:
    async with running_daemon() as running:
        client = await running.raw()
        reply = await client.request("system.version", request_id="abc")
        assert reply["v"] == 1 and reply["id"] == "abc"
        assert reply["result"]["protocol"] == 1 and reply["result"]["daemon"] == running.daemon.version
        methods = {m["name"]: m for m in (await client.request("system.methods", request_id=2))["result"]["methods"]}
        for name in ("status", "health", "integrity", "sync", "pause", "resume", "concurrency", "queue", "dlq.list",
                     "dlq.retry", "dlq.drop", "rate-limits", "trace", "plugins", "custom-fields", "reload",
                     "system.methods", "system.version"):
            assert name in methods, name
        assert methods["pause"]["mutating"] and not methods["status"]["mutating"]
        assert methods["sync"]["streaming"]
        await client.aclose()


async def test_protocol_errors_are_replies_and_the_connection_carries_on() -> None:
    async with running_daemon() as running:
        client = await running.raw()
        await client.send(b"this is not json\n")
        assert (await client.line())["error"]["code"] == "parse_error"
        await client.send(b"[1, 2]\n")
        assert (await client.line())["error"]["code"] == "invalid_request"
        await client.send(json.dumps({"v": 2, "id": 5, "method": "status"}).encode() + b"\n")
        reply = await client.line()
        assert reply["id"] == 5 and reply["error"]["code"] == "unsupported_version"
        reply = await client.request("no.such.method", request_id=6)
        assert reply["id"] == 6 and reply["error"]["code"] == "unknown_method"
        reply = await client.request("concurrency", {"workers": "many"}, request_id=7)
        assert reply["error"]["code"] == "invalid_params"
        # After all that, the same connection still answers.
        assert (await client.request("status", request_id=8))["result"]["state"] == "running"
        await client.aclose()


async def test_oversized_line_disconnects_only_that_client() -> None:
    async with running_daemon() as running:
        bystander = await running.raw()
        hostile = await running.raw()
        chunk = b"x" * 65536
        try:
            for _ in range((2 * MAX_LINE_BYTES) // len(chunk)):
                await hostile.send(chunk)
        except trio.BrokenResourceError:
            pass  # the daemon hung up mid-way, as it should
        reply = await hostile.line()
        assert reply["error"]["code"] == "too_large"
        assert await hostile.closed()
        assert (await bystander.request("status"))["result"]["state"] == "running"
        await bystander.aclose()
        await hostile.aclose()


async def test_idle_client_is_disconnected_and_others_are_served() -> None:
    async with running_daemon() as running:  # control_idle_timeout = 1 s in the harness
        idle = await running.raw()
        busy = await running.raw()
        for _ in range(3):  # keeps talking past the idle timeout of the other one
            assert (await busy.request("queue"))["result"]["pending"] == 0
            await trio.sleep(0.5)
        reply = await idle.line(within=5)
        assert reply["error"]["code"] == "timeout"
        assert await idle.closed()
        assert (await busy.request("status"))["result"]["state"] == "running"
        trickle = await running.raw()  # a byte every 0.3 s never completes a line within the 1 s timeout
        with trio.move_on_after(5):
            try:
                for byte in b'{"v": 1, "id": 1, "method": "status"':
                    await trickle.send(bytes([byte]))
                    await trio.sleep(0.3)
            except trio.BrokenResourceError:
                pass  # hung up on, as it should be
        assert (await trickle.line())["error"]["code"] == "timeout"
        fresh = await running.raw()
        assert (await fresh.request("status"))["result"]["state"] == "running"
        await fresh.aclose()
        await busy.aclose()
        await idle.aclose()
        await trickle.aclose()


async def test_clients_beyond_the_bound_are_turned_away() -> None:
    async with running_daemon() as running:  # control_max_clients = 4 in the harness
        held = [await running.raw() for _ in range(4)]
        for client in held:  # make sure each one has been admitted
            assert "result" in await client.request("system.version")
        extra = await running.raw()
        assert (await extra.line())["error"]["code"] == "busy"
        await held[0].aclose()
        await trio.sleep(0.1)  # let the daemon see the close
        again = await running.raw()
        assert "result" in await again.request("system.version")
        for client in [*held[1:], extra, again]:
            await client.aclose()


async def test_registered_method_is_served_and_mutating_calls_are_audited() -> None:
    async with running_daemon() as running:
        calls: list[dict[str, Any]] = []

        async def silence(call: Call) -> dict[str, Any]:
            calls.append(call.params)
            await call.emit({"type": "progress"})  # not a streaming method: the event is not sent
            return {"silenced": call.str_param("rule", required=True)}

        running.daemon.control_methods["alerts.silence"] = ControlMethod("alerts.silence", silence, "silence a rule",
                                                                         mutating=True)
        client = await running.raw()
        reply = await client.request("alerts.silence", {"rule": "backlog", "api_token": "tok-123456"})
        assert reply["result"] == {"silenced": "backlog"}
        methods = (await client.request("system.methods"))["result"]["methods"]
        assert any(m["name"] == "alerts.silence" and m["mutating"] for m in methods)
        await client.request("status")  # read-only: not audited
        await client.aclose()
        audit = [json.loads(line) for line in (running.daemon.config.state_dir / "audit.log").read_text().splitlines()]
        assert [a["method"] for a in audit] == ["alerts.silence"]
        assert audit[0]["uid"] == 0 and audit[0]["pid"] > 0
        assert audit[0]["params"] == {"rule": "backlog", "api_token": "********"}
        assert calls == [{"rule": "backlog", "api_token": "tok-123456"}]
