"""The routes work with any WebhookVerifier: HaloPSA's own (Basic credentials, no signature, no explain method)
answers the same contract statuses, and /webhooks/test explains it in its own words."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import halosync_halopsa.plugin
from tests.http.harness import config_text, running_daemon

HALO = """
[plugins.halopsa]
base_url = "http://127.0.0.1:9"
client_id = "halosync"
client_secret = "fake-secret"
webhook_username = "halo"
webhook_password = "hook-password"
"""
PAYLOAD = json.dumps({"id": "6c1e-guid", "event": "client updated", "object_id": 4242}).encode()


def basic(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_halopsa_basic_credentials(tmp_path: Path) -> None:
    text = config_text(tmp_path, extra=HALO)
    async with running_daemon(tmp_path, text, plugins=[("halopsa", halosync_halopsa.plugin)]) as run:
        wrong = await run.client.post("/webhooks/halopsa", content=PAYLOAD, headers=basic("halo", "guess"))
        assert wrong.status_code == 401 and "Basic" in wrong.json()["error"]
        assert await run.inbox() == []
        right = await run.client.post("/webhooks/halopsa", content=PAYLOAD, headers=basic("halo", "hook-password"))
        assert right.status_code == 202 and right.json()["delivery_id"] == "6c1e-guid"
        again = await run.client.post("/webhooks/halopsa", content=PAYLOAD, headers=basic("halo", "hook-password"))
        assert again.status_code == 200
        [row] = await run.inbox()
        assert row["plugin"] == "halopsa" and "authorization" not in row["headers"]  # the password is not kept
        explained = await run.client.post("/webhooks/test?plugin=halopsa", content=PAYLOAD,
                                          headers=basic("halo", "nope"))
        assert explained.status_code == 200
        assert explained.json() | {"reason": ""} == {"plugin": "halopsa", "ok": False, "status": 401, "reason": "",
                                                       "delivery_id": None, "stored": False}
        assert len(await run.inbox()) == 1
