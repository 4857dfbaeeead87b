"""A whole daemon (control socket, HTTP listener, alerts): ``halosyncctl silence/alerts/unsilence`` as a user runs
them, and a failing receiver shown in ``GET /health``."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

import halosync_builtin.alerts as builtin_alerts
from halosync import log
from halosync.alerts.component import AlertsComponent
from halosync.cli.ctl import main as ctl_main
from halosync.config import loader
from halosync.control.server import ControlComponent
from halosync.daemon.app import Daemon
from halosync.http.server import HTTPComponent
from halosync.plugin.manager import PluginManager
from tests.control.harness import short_dir
from tests.waiting import until

Capsys = pytest.CaptureFixture[str]


@dataclass
class Whole:
    daemon: Daemon
    socket: Path
    http: HTTPComponent

    async def ctl(self, capsys: Capsys, *argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await trio.to_thread.run_sync(ctl_main, ["--socket", str(self.socket), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    async def ctl_json(self, capsys: Capsys, *argv: str) -> tuple[int, Any]:
        code, out, err = await self.ctl(capsys, "--json", *argv)
        assert out.strip(), f"no JSON (exit {code}): {err}"
        return code, json.loads(out)


@asynccontextmanager
async def whole_daemon(alerts_enabled: bool = True) -> AsyncIterator[Whole]:
    with short_dir() as base:
        socket = base / "control.sock"
        path = base / "halosync.toml"
        # Memory is always above 0.01 %: the rule fires at the first evaluation. Its receiver points at a port
        # nobody listens on, so every delivery fails.
        path.write_text(f"""
[daemon]
state_dir = "{base}"
control_socket = "{socket}"
shutdown_grace = 2
[http]
listen = "127.0.0.1:0"
[alerts]
enabled = {str(alerts_enabled).lower()}
interval = 1
group_wait = 0
delivery_attempts = 2
retry_base = 0.1
retry_cap = 0.2
delivery_timeout = 5
[alerts.rules.memory]
threshold = 0.01
for = 0
receivers = ["broken"]
[plugins.alerts.receivers.broken]
type = "webhook"
url = "http://127.0.0.1:9/hook"
""")
        pm = PluginManager()
        pm.register(builtin_alerts, "alerts")
        config = loader.load(path, pm.config_specs())
        http = HTTPComponent()
        daemon = Daemon(config, pm, components=[ControlComponent(), http, AlertsComponent()])
        async with trio.open_nursery() as nursery:
            await nursery.start(daemon.serve)
            try:
                yield Whole(daemon, socket, http)
            finally:
                daemon.request_stop()
        log.setup(stream=sys.__stderr__)


async def test_silence_list_and_unsilence_through_halosyncctl(capsys: Capsys) -> None:
    async with whole_daemon() as whole:
        code, made = await whole.ctl_json(capsys, "silence", "memory", "--for", "30m", "--comment", "load test")
        assert code == 0 and made["matchers"] == {"rule": "memory"} and made["comment"] == "load test"
        assert made["expires_at"] - made["starts_at"] == pytest.approx(1800)
        await until(lambda: any(i.severity for i in _alerts(whole).evaluator.instances.values()),
                    what="an alert firing", within=60)
        code, listed = await whole.ctl_json(capsys, "alerts")
        assert code == 1  # an alert fires (silenced or not)
        [alert] = listed["alerts"]
        assert (alert["rule"], alert["state"], alert["silenced_by"]) == ("memory", "firing", made["id"])
        assert [s["id"] for s in listed["silences"]] == [made["id"]]
        code, out, _ = await whole.ctl(capsys, "alerts")
        assert "memory" in out and made["id"] in out

        code, out, _ = await whole.ctl(capsys, "unsilence", made["id"])
        assert code == 0 and f"silence {made['id']} removed" in out
        code, _, err = await whole.ctl(capsys, "unsilence", made["id"])
        assert code == 1 and "no silence with id" in err
        code, _, err = await whole.ctl(capsys, "silence", "memroy", "--for", "1h")
        assert code == 2 and "no alert rule 'memroy'" in err
        code, _, err = await whole.ctl(capsys, "silence", "memory", "--for", "forever")
        assert code == 2 and "not understood" in err


async def test_a_failing_receiver_shows_in_health_and_the_daemon_carries_on(capsys: Capsys) -> None:
    async with whole_daemon() as whole:
        health = whole.daemon.plugin_health["alerts.broken"]
        await until(lambda: health.state, lambda s: s == "failed", what="the receiver's health failed", within=60)
        assert whole.http.url is not None
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{whole.http.url}/health")
        document = answer.json()
        assert answer.status_code == 200 and document["status"] == "degraded"
        assert document["services"]["alerts.broken"] == "disconnected"
        assert "webhook POST failed" in document["checks"]["alerts.broken"]["last_error"]
        assert whole.daemon.state == "running"
        code, listed = await whole.ctl_json(capsys, "alerts")
        assert code == 1 and listed["receivers"]["broken"]["state"] == "failed"
        # An operator checks a receiver's setup with a test notification.
        code, out, _ = await whole.ctl(capsys, "alerts", "--test", "broken")
        assert code == 1 and "test notification to broken failed: TransientProviderError" in out
        code, out, _ = await whole.ctl(capsys, "alerts", "--test", "log")
        assert code == 0 and "test notification to log: delivered" in out
        code, _, err = await whole.ctl(capsys, "alerts", "--test", "pager")
        assert code == 1 and "no alert receiver 'pager'" in err


def _alerts(whole: Whole) -> Any:
    component = next(c for c in whole.daemon._components or [] if isinstance(c, AlertsComponent))
    return component.service


async def test_with_alerts_switched_off_the_commands_say_so(capsys: Capsys) -> None:
    async with whole_daemon(alerts_enabled=False) as whole:
        code, _, err = await whole.ctl(capsys, "alerts")
        assert code == 69 and "alerts are switched off in this daemon ([alerts] enabled = false)" in err
        assert "alerts.broken" not in whole.daemon.plugin_health
