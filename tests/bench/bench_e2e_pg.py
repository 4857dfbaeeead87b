"""End to end with PostgreSQL as the store (the scale path in DESIGN.md): the same `halosync run --once` against the
same fakes as ``bench_e2e``, into a fresh schema of the PostgreSQL at ``HALOSYNC_TEST_POSTGRES_URL`` (default: the
local server's ``test`` database), dropped afterwards.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.bench.bench_e2e import Row, measure
from tests.pgschema import fresh_schema

TITLE = "end to end (PostgreSQL)"
def run(quick: bool) -> list[Row]:
    leads = 5_000 if quick else 20_000
    with fresh_schema("bench") as url, tempfile.TemporaryDirectory() as directory:
        result = measure(leads, Path(directory), database_url=url)
    mb = 1024 * 1024
    return [(f"leads/s, {leads:,} leads (incl. ~1 s start-up)", leads / result["seconds"], "leads/s", "—"),
            ("daemon CPU seconds per 1,000 leads", 1000 * result["daemon_cpu_seconds"] / leads, "s", "—"),
            (f"peak RSS, {leads:,} leads", result["peak_rss"] / mb, "MB", "<= 150"),
            ("HaloPSA requests per lead", result["api_requests"] / leads, "requests", "< 0.05")]
