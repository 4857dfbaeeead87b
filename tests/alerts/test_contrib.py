"""contrib/: the Prometheus rules mirror every built-in rule and, like the Grafana dashboard, read only series
that halosync exports (so a renamed metric fails here, not on an operator's screen)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import halosync.alerts.metrics  # noqa: F401 - registers the alerting's own series
from halosync.config.alert_rules import BUILTIN
from halosync.metrics import REGISTRY

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"
SERIES = re.compile(r"\bhalosync_[a-z_]+\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "info": ("_info",)}


def exported() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        names |= {family.name + s for s in SUFFIXES.get(family.type, ("",))}
        names |= {s.name for s in family.samples}
    return names


def rule_file() -> str:
    return (CONTRIB / "prometheus" / "halosync-alerts.yml").read_text(encoding="utf-8")


def test_the_prometheus_rules_mirror_every_built_in_rule_with_its_severity() -> None:
    text = rule_file()
    mirrored = re.findall(r"severity: (\w+)\n\s+rule: (\w+)", text)
    for rule in BUILTIN.values():
        assert (rule.severity, rule.name) in mirrored, f"no Prometheus rule for {rule.name}"
        if rule.warning is not None:
            assert ("warning", rule.name) in mirrored


def test_the_prometheus_rules_file_is_well_formed_yaml_in_shape() -> None:
    lines = [ln for ln in rule_file().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert lines[0] == "groups:"
    assert all("\t" not in ln and (len(ln) - len(ln.lstrip())) % 2 == 0 for ln in lines)
    alerts = [ln for ln in lines if ln.strip().startswith("- alert: ")]
    pairs = sum(rule.warning is not None for rule in BUILTIN.values())  # a warning rule beside the critical one
    assert len(alerts) == len(re.findall(r"^\s+expr: ", rule_file(), re.M)) == len(BUILTIN) + pairs + 1


def test_contrib_reads_only_series_halosync_exports() -> None:
    names = exported()
    dashboard = json.loads((CONTRIB / "grafana" / "halosync-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) > 20
    used = set(SERIES.findall(rule_file())) | {n for e in exprs for n in SERIES.findall(e)}
    assert used - names == set()
