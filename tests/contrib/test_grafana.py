"""The Grafana dashboard's rates follow the scrape interval (`$__rate_interval`); a fixed window ("merged in the
last 15 minutes", "per hour") is long enough to hold several scrapes at Prometheus's default one minute."""

from __future__ import annotations

import json
import re
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "contrib" / "grafana" / "halosync-dashboard.json"
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_every_rate_uses_the_rate_interval() -> None:
    windows = re.findall(r"\b(?:rate|irate)\([^()]*\[([^\]]+)\]", " ".join(exprs()))
    assert len(windows) >= 8
    assert set(windows) == {"$__rate_interval"}


def test_fixed_windows_hold_at_least_four_one_minute_scrapes() -> None:
    fixed = re.findall(r"\[(\d+)([smhd])\]", " ".join(exprs()))
    assert fixed, "the dashboard's increase() panels have fixed windows"
    assert all(int(n) * SECONDS[unit] >= 4 * 60 for n, unit in fixed), fixed
