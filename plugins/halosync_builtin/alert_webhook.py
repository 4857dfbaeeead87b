"""The ``webhook`` receiver: one HTTP POST of JSON per notification group.

Presets shape the body for where it goes:

    json    halosync's own document: {"version", "status", "title", "text", "alerts": [...]}
    slack   a Slack incoming webhook: {"text", "blocks"} (mrkdwn)
    teams   a Microsoft Teams Workflows webhook ("Post to a channel when a webhook request is received"):
            {"type": "message", "attachments": [an Adaptive Card]}

Any answer outside 2xx is a failed delivery (the dispatcher retries and reports it); the answer's first bytes go
into the error so that a misconfigured URL says why.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from halosync import __version__
from halosync.plugin import Alert, ProviderError, TransientProviderError, render

_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}
_TEAMS_COLOUR = {"critical": "Attention", "warning": "Warning", "info": "Accent"}


def json_body(alerts: Sequence[Alert]) -> dict[str, Any]:
    return {"version": 1, "source": "halosync", "host": socket.gethostname(), "status": render.status(alerts),
            "title": render.title(alerts), "text": render.text(alerts),
            "alerts": [render.to_dict(a) for a in render.ordered(alerts)]}


CHAT_LINES = 20  # chat messages and cards have small size limits: the rest of a burst is counted


def slack_body(alerts: Sequence[Alert]) -> dict[str, Any]:
    shown = render.ordered(alerts)[:CHAT_LINES]
    lines = [f"{_EMOJI.get(a.severity, '') if a.state == 'firing' else ':white_check_mark:'} {render.line(a)}"
             for a in shown]
    lines += render.lines(alerts, CHAT_LINES)[len(shown):]
    return {"text": render.title(alerts), "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": render.title(alerts)[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}},
    ]}


def teams_body(alerts: Sequence[Alert]) -> dict[str, Any]:
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": render.title(alerts), "weight": "Bolder",
                                   "size": "Medium", "wrap": True}]
    shown = render.ordered(alerts)[:CHAT_LINES]
    for alert in shown:
        colour = _TEAMS_COLOUR.get(alert.severity, "Default") if alert.state == "firing" else "Good"
        body.append({"type": "TextBlock", "text": render.line(alert), "wrap": True, "color": colour})
    for rest in render.lines(alerts, CHAT_LINES)[len(shown):]:
        body.append({"type": "TextBlock", "text": rest, "wrap": True, "isSubtle": True})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


PRESETS: dict[str, Callable[[Sequence[Alert]], dict[str, Any]]] = {
    "json": json_body, "slack": slack_body, "teams": teams_body,
}


class WebhookAlerter:
    def __init__(self, name: str, url: str, *, preset: str = "json", headers: Mapping[str, str] | None = None,
                 timeout: float = 30.0) -> None:
        self.name = name
        self.preset = preset
        self._url = url
        self._headers = {"User-Agent": f"halosync/{__version__}", **(headers or {})}
        self._timeout = timeout

    async def send(self, alerts: Sequence[Alert]) -> None:
        body = PRESETS[self.preset](alerts)
        try:
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
                response = await client.post(self._url, json=body, headers=self._headers)
        except httpx.TransportError as exc:
            raise TransientProviderError(self.name, f"webhook POST failed ({type(exc).__name__}); check the "
                                                    "receiver's url and that it is reachable from this host") from exc
        if not 200 <= response.status_code < 300:
            error = TransientProviderError if response.status_code >= 500 else ProviderError
            raise error(self.name, f"webhook answered {response.text[:200]!r}; check the receiver's url and "
                                   "preset", status=response.status_code)
