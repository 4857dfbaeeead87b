"""GET /metrics over real HTTP: Prometheus text, every name prefixed halosync_, the families the contract names,
and no lead data anywhere in it."""

from __future__ import annotations

import re
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.http import sink_plugin
from tests.http.harness import config_text, running_daemon

EMAIL, NAME = "grace.hopper.unique@navy.example", "Gracehopperunique"


async def test_metrics_are_prometheus_text_with_no_lead_data(tmp_path: Path) -> None:
    text = config_text(tmp_path, extra="\n[plugins.testsink]\n")
    async with running_daemon(tmp_path, text, plugins=[("testsink", sink_plugin)]) as run:
        lead = {"id": "lead-77", "person": {"first_name": NAME, "email": EMAIL}, "company": {"name": NAME}}
        assert (await run.deliver(lead)).status_code == 202
        assert (await run.client.post(f"/webhooks/{EMAIL}", content=b"{}")).status_code == 404
        assert (await run.client.get(f"/{NAME}")).status_code == 404
        r = await run.client.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
        body = r.text

    for secret_ish in (EMAIL, NAME, NAME.lower(), "lead-77", "grace"):
        assert secret_ish not in body
    families = {f.name: f for f in text_string_to_metric_families(body)}
    assert all(name.startswith("halosync_") for name in families)
    for name in ("halosync_leads", "halosync_provider_requests", "halosync_provider_request_duration_seconds",
                 "halosync_rate_limit_remaining", "halosync_outbox_depth", "halosync_outbox_oldest_age_seconds",
                 "halosync_dead_letters", "halosync_webhook_deliveries", "halosync_database_connections",
                 "halosync_process_resident_memory_bytes", "halosync_process_cpu_seconds", "halosync_build_info",
                 "halosync_service_up", "halosync_http_request_duration_seconds", "halosync_service_state",
                 "halosync_service_last_success_timestamp_seconds", "halosync_database_connections_in_use",
                 "halosync_database_connections_max"):
        assert name in families, name
    assert re.search(r'^halosync_webhook_deliveries_total\{plugin="webhook",result="accepted"\} [1-9]', body, re.M)
    assert re.search(r'^halosync_webhook_deliveries_total\{plugin="unknown",result="unknown_plugin"\} [1-9]',
                     body, re.M)
    assert re.search(r'^halosync_rate_limit_remaining\{provider="testsink",window="rolling-300s"\} 288', body, re.M)
    assert re.search(r'^halosync_service_up\{service="database"\} 1', body, re.M)
    # One series per state, 1 for the state the service is in (not 0.5 for "degraded").
    assert re.search(r'^halosync_service_state\{service="database",state="connected"\} 1\.0$', body, re.M)
    assert re.search(r'^halosync_service_state\{service="database",state="degraded"\} 0\.0$', body, re.M)
    assert re.search(r'^halosync_service_state\{service="database",state="disconnected"\} 0\.0$', body, re.M)
    [when] = re.findall(r'^halosync_service_last_success_timestamp_seconds\{service="database"\} (\S+)$', body, re.M)
    assert abs(float(when) - time.time()) < 120
    assert re.search(r'^halosync_database_connections_max [1-9]', body, re.M)
    assert re.search(r'^halosync_database_connections_in_use \d', body, re.M)
    assert re.search(r'^halosync_build_info\{python="[0-9.]+",version="[^"]+"\} 1', body, re.M)
    assert re.search(r'^halosync_http_requests_total\{route="other",status="404"\}', body, re.M)
