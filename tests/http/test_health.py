"""GET /health and /health/live over real HTTP: the three statuses and their codes, detail per check, and no
provider call to build them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from halosync.http.health import health_document, ping_database
from tests.http import sink_plugin
from tests.http.harness import config_text, running_daemon
from tests.waiting import until

WITH_SINK = {"plugins": [("testsink", sink_plugin)]}


def sink_config(tmp_path: Path) -> str:
    return config_text(tmp_path, extra="\n[plugins.testsink]\n")


async def test_healthy_then_degraded_then_unhealthy(tmp_path: Path) -> None:
    async with running_daemon(tmp_path, sink_config(tmp_path), **WITH_SINK) as run:  # type: ignore[arg-type]
        run.daemon.record_success("testsink")
        healthy = await run.client.get("/health")
        assert healthy.status_code == 200
        doc = healthy.json()
        assert doc["status"] == "healthy" and doc["version"] == run.daemon.version
        assert doc["services"] == {"testsink": "connected", "database": "connected"}
        assert doc["checks"]["testsink"]["rate_limits"][0]["remaining"] == 288
        assert doc["checks"]["database"]["last_success_at"] is not None

        run.daemon.record_error("apollo", "HTTP 503: try again", state="degraded")
        degraded = await run.client.get("/health")
        assert degraded.status_code == 200 and degraded.json()["status"] == "degraded"
        assert degraded.json()["checks"]["apollo"]["last_error"] == "HTTP 503: try again"

        run.daemon.record_error("testsink", "HTTP 401: invalid_client", state="disconnected")
        unhealthy = await run.client.get("/health")
        assert unhealthy.status_code == 503 and unhealthy.json()["status"] == "unhealthy"
        assert unhealthy.json()["services"]["testsink"] == "disconnected"

        run.daemon.record_success("testsink")
        run.daemon.record_success("apollo")
        assert (await run.client.get("/health")).json()["status"] == "healthy"


async def test_health_never_calls_a_provider(tmp_path: Path) -> None:
    async with running_daemon(tmp_path, sink_config(tmp_path), **WITH_SINK) as run:  # type: ignore[arg-type]
        sink_plugin.CALLS.clear()
        for path in ("/health", "/health/live", "/metrics", "/health"):
            assert (await run.client.get(path)).status_code in (200, 503)
        assert sink_plugin.CALLS == []


async def test_control_socket_and_http_share_one_document(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        # The inbox figures join the cached state from a background task: compare once they are there, so that
        # both reads see the same cache.
        await until(lambda: health_document(run.daemon), lambda doc: "webhook_inbox" in doc["checks"],
                    what="the webhook_inbox check in the health document", within=5)
        over_http = (await run.client.get("/health")).json()
        direct = await health_document(run.daemon)
        for doc in (over_http, direct):
            del doc["uptime_seconds"]
            doc["checks"]["database"].pop("last_success_at")
            doc["checks"]["database"].pop("latency_ms")
        assert over_http == direct


async def test_unhealthy_when_the_database_cannot_be_written(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        # Another process holds the SQLite write lock longer than database.timeout (0.5 s in the harness).
        holder = sqlite3.connect(tmp_path / "halosync.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            await ping_database(run.daemon)  # what the listener's background task does every 10 s
            r = await run.client.get("/health")
            assert r.status_code == 503 and r.json()["status"] == "unhealthy"
            assert r.json()["services"]["database"] == "disconnected"
            assert "locked" in r.json()["checks"]["database"]["last_error"]
            assert (await run.client.get("/health/live")).status_code == 200  # the loop itself is fine
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await ping_database(run.daemon)
        assert (await run.client.get("/health")).status_code == 200


async def test_every_get_route_answers_head_without_a_body(tmp_path: Path) -> None:
    """Load balancers and uptime checkers probe with HEAD: the GET's status and headers, no body (RFC 9110)."""
    async with running_daemon(tmp_path) as run:
        for route in ("/health", "/health/live", "/metrics"):
            got = await run.client.get(route)
            head = await run.client.head(route)
            assert head.status_code == got.status_code == 200, route
            assert head.content == b"", route
            assert head.headers["content-type"] == got.headers["content-type"], route
            assert int(head.headers["content-length"]) > 0, route  # the GET's length, as HEAD promises
        refused = await run.client.post("/health")
        assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"
