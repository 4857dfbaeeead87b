"""The webhook receiver posting to a real local HTTP server: halosync's JSON, Slack and Teams bodies, retries
after a failing answer, and the failure shown in the receiver's health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trio

from halosync.provider.asgi import Receive, Scope, Send, lifespan, read_request, respond, serve
from tests.alerts.conftest import alerts_running
from tests.waiting import until


@dataclass
class HookReceiver:
    """An HTTP endpoint that keeps every JSON body and header set posted to it; ``fail`` answers 503 first."""

    fail: int = 0
    requests: int = 0
    posts: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    arrived: trio.Event = field(default_factory=trio.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        request = await read_request(scope, receive)
        self.requests += 1
        if self.fail:
            self.fail -= 1
            await respond(send, 503, {"error": "busy"})
            return
        self.posts.append((request.path, request.headers, request.json()))
        self.arrived.set()
        await respond(send, 200, "ok")


@pytest.fixture
async def hook(nursery: trio.Nursery) -> AsyncIterator[tuple[HookReceiver, str]]:
    receiver = HookReceiver()
    url = await nursery.start(serve, receiver)
    yield receiver, url


def receivers_toml(url: str) -> str:
    return f"""
[alerts.rules.queue_backlog]
receivers = ["ops", "slack", "teams"]
for = 0
[plugins.alerts.receivers.ops]
type = "webhook"
url = "{url}/ops"
headers = {{ Authorization = "env:HOOK_TOKEN" }}
[plugins.alerts.receivers.slack]
type = "webhook"
preset = "slack"
url = "{url}/slack"
[plugins.alerts.receivers.teams]
type = "webhook"
preset = "teams"
url = "{url}/teams"
"""


async def test_firing_and_resolved_reach_a_real_http_receiver_in_each_preset(
        tmp_path: Path, hook: tuple[HookReceiver, str], monkeypatch: pytest.MonkeyPatch) -> None:
    receiver, url = hook
    monkeypatch.setenv("HOOK_TOKEN", "Bearer s3cret-token")
    async with alerts_running(tmp_path, receivers_toml(url), alerts={"resolve_after": 0, "interval": 1}) as run:
        run.engine.queue_figures["pending"] = 2500
        await until(lambda: len(receiver.posts), lambda n: n == 3, what="three posts", within=60)
        run.engine.queue_figures["pending"] = 0
        await until(lambda: len(receiver.posts), lambda n: n == 6, what="six posts", within=60)
    by_path: dict[str, list[Any]] = {}
    for path, headers, body in receiver.posts:
        by_path.setdefault(path, []).append(body)
        if path == "/ops":
            assert headers["authorization"] == "Bearer s3cret-token"
    firing, resolved = by_path["/ops"]
    assert firing["status"] == "firing" and resolved["status"] == "resolved"
    assert firing["alerts"][0]["rule"] == "queue_backlog"
    assert firing["alerts"][0]["severity"] == "critical"
    assert firing["alerts"][0]["value"] == 2500
    assert firing["title"].startswith("[FIRING:1] halosync on ")
    slack_firing = by_path["/slack"][0]
    assert slack_firing["text"].startswith("[FIRING:1]")
    assert "queue_backlog: 2500 items" in slack_firing["blocks"][1]["text"]["text"]
    teams_firing = by_path["/teams"][0]
    card = teams_firing["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert "RESOLVED" in by_path["/teams"][1]["attachments"][0]["content"]["body"][1]["text"]


async def test_a_receiver_answering_errors_is_retried_and_its_failure_shows_in_health(
        tmp_path: Path, hook: tuple[HookReceiver, str]) -> None:
    receiver, url = hook
    receiver.fail = 2
    toml = f"""
[alerts.rules.queue_backlog]
receivers = ["ops"]
for = 0
[plugins.alerts.receivers.ops]
type = "webhook"
url = "{url}/ops"
"""
    # Real sockets on the real clock (the autojump clock would jump over network waits), short retry delays.
    async with alerts_running(tmp_path, toml, alerts={"interval": 1, "retry_base": 0.2, "retry_cap": 0.5}) as run:
        run.engine.queue_figures["pending"] = 2500
        health = run.daemon.plugin_health["alerts.ops"]
        await until(lambda: receiver.posts, what="a post to the receiver", within=60)
        await until(lambda: (health.state, health.last_success_at), lambda h: h[0] == "connected" and h[1] is not None,
                    what="the receiver connected, with a success", within=60)
    assert receiver.requests == 3  # two refusals, then the retry that got through
    assert health.last_error is not None and "HTTP 503" in health.last_error
    assert [body["alerts"][0]["rule"] for _, _, body in receiver.posts] == ["queue_backlog"]


def test_a_burst_of_alerts_is_summed_up_in_chat_messages() -> None:
    from halosync.contracts import Alert
    from halosync_builtin.alert_webhook import json_body, slack_body, teams_body

    burst = [Alert("cursor_stalled", "warning", "firing", f"cursor_stalled source=s{i}: 8 intervals", 8.0,
                   {"source": f"s{i}"}) for i in range(100)]
    section = slack_body(burst)["blocks"][1]["text"]["text"]
    assert len(section.splitlines()) == 21 and section.endswith("... and 80 more (halosyncctl alerts lists them)")
    blocks = teams_body(burst)["attachments"][0]["content"]["body"]
    assert len(blocks) == 22 and blocks[-1]["text"].startswith("... and 80 more")
    assert len(json_body(burst)["alerts"]) == 100  # machines get everything
