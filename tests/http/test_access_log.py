"""The listener's access log: one line per request in access.log (who, what, status, bytes, time), webhooks
included, in JSON when log_format = "json"; never a body, a query string's values or a secret; not in app.log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from halosync import log
from halosync.webhooks.standard import new_secret
from tests.http.harness import SECRET, Running, config_text, running_daemon

LEAD = {"id": "crm-7", "person": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}}
TOKEN = "query-token-4f1e0c"


@pytest.fixture(autouse=True)
def reset_logging() -> Iterator[None]:
    yield
    logger.remove()
    logging.basicConfig(handlers=[], force=True)


def with_logs(tmp_path: Path, daemon: str) -> str:
    return config_text(tmp_path).replace("[daemon]\n", f"[daemon]\n{daemon}\n")


async def traffic(run: Running) -> list[int]:
    statuses = [(await run.deliver(LEAD, delivery_id="msg_7")).status_code,
                (await run.deliver(LEAD, secret=new_secret())).status_code,
                (await run.client.get("/health", headers={"user-agent": "uptime-check/2",
                                                          "x-forwarded-for": "198.51.100.2"})).status_code,
                (await run.client.get(f"/metrics?token={TOKEN}")).status_code,
                (await run.client.get("/nothing/here")).status_code]
    await logger.complete()
    return statuses


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_every_request_is_one_line_in_access_log(tmp_path: Path, fmt: str) -> None:
    logs = tmp_path / "logs"
    async with running_daemon(tmp_path, with_logs(tmp_path, f'log_dir = "{logs}"\nlog_format = "{fmt}"')) as run:
        log.setup(run.daemon.config)
        statuses = await traffic(run)
    logger.remove()
    assert statuses == [202, 401, 200, 200, 404]
    lines = (logs / "access.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5, lines
    text = "\n".join(lines)
    for never in ("ada@example.com", "Lovelace", SECRET, TOKEN):
        assert never not in text
    if fmt == "json":
        records = [json.loads(line) for line in lines]
        assert [(r["method"], r["path"], r["status"]) for r in records] == [
            ("POST", "/webhooks/webhook", 202), ("POST", "/webhooks/webhook", 401), ("GET", "/health", 200),
            ("GET", "/metrics?...", 200), ("GET", "/nothing/here", 404)]
        assert all(r["client"] == "127.0.0.1" and r["bytes"] > 0 and r["ms"] >= 0 for r in records)
        assert records[2]["user_agent"] == "uptime-check/2" and records[2]["forwarded"] == "198.51.100.2"
    else:
        assert '127.0.0.1 "POST /webhooks/webhook" 202 ' in lines[0]
        assert '"GET /health" 200 ' in lines[2] and '"uptime-check/2" forwarded=198.51.100.2' in lines[2]
        assert '"GET /metrics?..." 200 ' in lines[3]
    app = (logs / "app.log").read_text(encoding="utf-8")
    assert "/nothing/here" not in app  # the access lines have their own file


async def test_without_log_dir_access_lines_are_debug_only(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    for level, shown in (("info", False), ("debug", True)):
        directory = tmp_path / level
        directory.mkdir()
        async with running_daemon(directory, with_logs(directory, f'log_level = "{level}"')) as run:
            log.setup(run.daemon.config)
            capsys.readouterr()
            await traffic(run)
        logger.remove()
        assert ('"GET /nothing/here" 404' in capsys.readouterr().err) is shown, level
