"""contrib/prometheus checked by Prometheus's own tool: the rules load (`promtool check rules`), their unit tests
pass (`promtool test rules`: series fed at a one-minute scrape, alerts expected), every alert has a test that
makes it fire, and a live daemon's /metrics passes `promtool check metrics`.

promtool comes with Debian's ``prometheus`` package (.ci/run installs it). Without it these tests fail rather than
skip, unless HALOSYNC_SKIP_PROMTOOL=1 says on purpose that this machine has none.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import trio

from tests.http import sink_plugin
from tests.http.harness import config_text, running_daemon

PROMETHEUS = Path(__file__).resolve().parents[2] / "contrib" / "prometheus"
RULES = PROMETHEUS / "halosync-alerts.yml"
RULE_TESTS = PROMETHEUS / "halosync-alerts.test.yml"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("HALOSYNC_SKIP_PROMTOOL") == "1":
            pytest.skip("promtool tests skipped on purpose: HALOSYNC_SKIP_PROMTOOL=1 and promtool is not installed")
        pytest.fail("promtool is not installed: `apt-get install prometheus` (Debian), or set "
                    "HALOSYNC_SKIP_PROMTOOL=1 to skip on purpose")
    return path


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], input=stdin, capture_output=True, text=True, timeout=120,
                          cwd=PROMETHEUS)


def test_the_rules_load() -> None:
    result = run("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_unit_tests_pass() -> None:
    result = run("test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


def alerts_in_rules() -> set[tuple[str, str]]:
    """(alertname, severity) of every rule: one alert name may have a warning and a critical rule."""
    rules = re.split(r"^\s+- alert: ", RULES.read_text(), flags=re.M)[1:]
    return {(rule.split()[0], severity) for rule in rules for severity in re.findall(r"severity: (\w+)", rule)[:1]}


def alerts_tested_firing() -> set[tuple[str, str]]:
    """(alertname, severity) of every alert some test case expects to fire."""
    cases = re.split(r"^\s+- eval_time: ", RULE_TESTS.read_text(), flags=re.M)[1:]
    fired = set()
    for case in cases:
        [name] = re.findall(r"alertname: (\w+)", case)
        fired |= {(name, severity) for severity in re.findall(r"exp_labels: \{severity: (\w+)", case)}
    return fired


def test_every_alert_has_a_test_that_makes_it_fire() -> None:
    rules = alerts_in_rules()
    assert len(rules) == len(re.findall(r"^\s+- alert: ", RULES.read_text(), flags=re.M)) >= 10  # each has a severity
    missing = rules - alerts_tested_firing()
    assert not missing, f"add a case to {RULE_TESTS.name} that makes these fire: {sorted(missing)}"


def test_a_rule_that_cannot_fire_at_a_one_minute_scrape_fails_its_test(tmp_path: Path) -> None:
    """The unit tests can fail: with the [1m] windows this file once had, the rate() rules never fire."""
    short = tmp_path / RULES.name
    short.write_text(RULES.read_text().replace("[5m]", "[1m]"))
    tests = tmp_path / RULE_TESTS.name
    tests.write_text(RULE_TESTS.read_text())
    result = subprocess.run([promtool(), "test", "rules", tests.name], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode != 0
    assert "alertname: HalosyncProviderErrorRate" in result.stdout + result.stderr
    assert "alertname: HalosyncProviderSlow" in result.stdout + result.stderr


async def test_a_live_metrics_page_passes_promtool_check_metrics(tmp_path: Path) -> None:
    tool = promtool()
    text = config_text(tmp_path, extra="\n[plugins.testsink]\n")
    async with running_daemon(tmp_path, text, plugins=[("testsink", sink_plugin)]) as daemon:
        assert (await daemon.deliver({"id": "lead-1", "person": {"first_name": "Ada"}})).status_code == 202
        body = (await daemon.client.get("/metrics")).text
    assert "halosync_webhook_deliveries_total" in body
    result = await trio.run_process([tool, "check", "metrics"], stdin=body.encode(), capture_stdout=True,
                                    capture_stderr=True, check=False)
    problems = (result.stdout + result.stderr).decode()
    assert result.returncode == 0 and problems == "", problems


def test_check_metrics_would_catch_a_badly_named_counter() -> None:
    result = run("check", "metrics", stdin="# HELP halosync_leads Leads.\n# TYPE halosync_leads counter\n"
                                           "halosync_leads 1\n")
    assert result.returncode != 0 and "_total" in result.stdout + result.stderr
