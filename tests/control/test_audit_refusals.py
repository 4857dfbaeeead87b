"""Refused control calls are in audit.log (and the log): a peer that may not use the socket, a line that is not a
request, an unknown method, parameters a method refuses. What an operator reviews for suspicious activity."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.control.harness import Running, restore_logging, running_daemon
from tests.control.test_peer import NOBODY, _ctl_as_nobody

__all__ = ["restore_logging"]  # a fixture used by name


def audit(running: Running) -> list[dict[str, Any]]:
    path = running.daemon.config.state_dir / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_bad_requests_unknown_methods_and_bad_parameters_are_audited() -> None:
    async with running_daemon() as running:
        client = await running.raw()
        await client.send(b"this is not json\n")
        assert (await client.line())["error"]["code"] == "parse_error"
        assert (await client.request("sytsem.version"))["error"]["code"] == "unknown_method"
        assert (await client.request("queries", {"top": 0}))["error"]["code"] == "invalid_params"
        assert "result" in await client.request("status")  # answered calls are not refusals
        await client.aclose()
        refused = [(e["method"], e["refused"], e["pid"], e["uid"]) for e in audit(running) if "refused" in e]
        me = (os.getpid(), os.getuid())
        assert refused == [(None, "parse_error", *me), ("sytsem.version", "unknown_method", *me),
                           ("queries", "invalid_params", *me)]
        assert all(e["reason"] for e in audit(running) if "refused" in e)


@pytest.mark.skipif(os.getuid() != 0, reason="dropping to another uid needs root")
async def test_a_peer_refused_by_uid_is_audited() -> None:
    async with running_daemon() as running:
        done = await _ctl_as_nobody(str(running.socket), "pause")
        assert done.returncode == 77
        entries = audit(running)
        assert [(e["uid"], e["refused"]) for e in entries] == [(NOBODY, "permission_denied")]
        assert "may not use this control socket" in entries[0]["reason"]
