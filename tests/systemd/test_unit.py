"""The systemd unit and its snippets, checked with this machine's own systemd tools.

``systemd-analyze verify`` refuses a unit whose ExecStart= or ExecReload= binary is missing, and /usr/bin/halosync
and /usr/bin/halosyncctl exist only on an installed host; so the unit is verified as a copy whose commands point at
this checkout's scripts (every other line byte for byte the same). The security score needs no such change.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from halosync.config.schema import CORE

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "systemd"
UNIT = SYSTEMD / "halosync.service"
INSTALLED_BINARY = "/usr/bin/halosync"
MAX_EXPOSURE = 2.0


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("HALOSYNC_SKIP_SYSTEMD") == "1":
            pytest.skip(f"systemd tests skipped on purpose: HALOSYNC_SKIP_SYSTEMD=1 and {name} is not installed")
        pytest.fail(f"{name} is not installed; install systemd, or set HALOSYNC_SKIP_SYSTEMD=1 to skip on purpose")
    return path


def _settings(text: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit file (a key may repeat)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def _checkout_binary(name: str = "halosync") -> Path:
    script = Path(sys.executable).parent / name
    assert script.is_file(), f"{script} missing: run `pip install -e .` in the venv first"
    return script


def _for_checkout(text: str) -> str:
    """The unit with its commands pointing at this checkout's scripts."""
    text = text.replace(f"ExecStart={INSTALLED_BINARY} ", f"ExecStart={_checkout_binary()} ")
    return text.replace(f"ExecReload={INSTALLED_BINARY}ctl ", f"ExecReload={_checkout_binary('halosyncctl')} ")


SERVICES = ("halosync.service", "halosync-backup.service")


def test_units_verify_without_a_single_warning(tmp_path: Path) -> None:
    for name in SERVICES:
        assert f"ExecStart={INSTALLED_BINARY} " in (SYSTEMD / name).read_text()  # the documented install path
    copies = []
    for name in (*SERVICES, "halosync-backup.timer"):
        copy = tmp_path / name
        text = (SYSTEMD / name).read_text()
        copy.write_text(_for_checkout(text))
        copies.append(str(copy))
    result = subprocess.run([_tool("systemd-analyze"), "verify", *copies], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).strip() == "", "systemd-analyze verify printed warnings"


def test_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a misspelt setting is reported."""
    copy = tmp_path / "halosync.service"
    text = _for_checkout(UNIT.read_text())
    copy.write_text(text.replace("ProtectHome=yes", "ProtectHomes=yes"))
    result = subprocess.run([_tool("systemd-analyze"), "verify", str(copy)], capture_output=True, text=True,
                            timeout=60)
    assert "ProtectHomes" in result.stdout + result.stderr


def exposure(unit: Path) -> float:
    result = subprocess.run([_tool("systemd-analyze"), "security", "--offline=yes", str(unit)],
                            capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert m, f"no score in systemd-analyze security output:\n{result.stdout}\n{result.stderr}"
    return float(m.group(1))


@pytest.mark.parametrize("name", SERVICES)
def test_security_exposure_is_at_most_two(name: str) -> None:
    assert exposure(SYSTEMD / name) <= MAX_EXPOSURE


def test_exposure_rises_without_the_hardening(tmp_path: Path) -> None:
    bare = tmp_path / "halosync.service"
    bare.write_text("[Service]\nType=notify\nExecStart=/usr/bin/halosync run\n")
    assert exposure(bare) > MAX_EXPOSURE


def test_unit_matches_the_daemons_defaults_and_the_contract() -> None:
    s = _settings(UNIT.read_text())
    assert s["Type"] == ["notify"]
    # Synchronous: `systemctl reload` fails when the daemon refuses the new configuration (exit 78).
    assert s["ExecReload"] == [f"{INSTALLED_BINARY}ctl reload"]
    assert s["Restart"] == ["on-failure"]
    assert s["StateDirectory"] == ["halosync"] and s["RuntimeDirectory"] == ["halosync"]
    assert s["LogsDirectory"] == ["halosync"]
    # The daemon's defaults live in the directories systemd creates.
    assert CORE["daemon"]["state_dir"].default == "/var/lib/halosync"
    assert Path(CORE["daemon"]["control_socket"].default).parent == Path("/run/halosync")
    # SIGKILL must not cut the drain short.
    grace = float(CORE["daemon"]["shutdown_grace"].default)
    assert float(s["TimeoutStopSec"][0]) > grace
    # Watchdog pings stop when the heartbeat is older than watchdog_stale_after: systemd must wait at least that.
    assert float(s["WatchdogSec"][0]) >= float(CORE["daemon"]["watchdog_stale_after"].default)
    assert s["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6 AF_NETLINK"]
    assert s["CapabilityBoundingSet"] == [""]


@pytest.mark.parametrize("name", SERVICES)
def test_every_credential_the_example_config_names_is_loaded(name: str) -> None:
    """Both services load the whole configuration, so both need every credential it refers to."""
    loaded = set(_settings((SYSTEMD / name).read_text()).get("LoadCredential", []))
    example = (ROOT / "halosync.toml.example").read_text()
    referenced = set(re.findall(r'"credential:([a-z0-9_.-]+)"', example))  # "credential:NAME" is a placeholder
    assert referenced, "halosync.toml.example should show credential: references"
    assert referenced <= loaded, f"add LoadCredential= for {sorted(referenced - loaded)} to {name}"


def test_sysusers_and_tmpfiles_snippets_apply(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    for name in ("passwd", "group", "shadow", "gshadow"):
        (etc / name).touch()
    sysusers = subprocess.run([_tool("systemd-sysusers"), f"--root={tmp_path}",
                               str(SYSTEMD / "sysusers.d" / "halosync.conf")],
                              capture_output=True, text=True, timeout=60)
    assert sysusers.returncode == 0, sysusers.stderr
    user = _settings(UNIT.read_text())["User"][0]
    assert re.search(rf"^{user}:x:\d+:\d+:.*:/var/lib/halosync:/usr/sbin/nologin$", (etc / "passwd").read_text(),
                     re.M)
    tmpfiles = subprocess.run([_tool("systemd-tmpfiles"), f"--root={tmp_path}", "--create",
                               str(SYSTEMD / "tmpfiles.d" / "halosync.conf")],
                              capture_output=True, text=True, timeout=60)
    assert tmpfiles.returncode == 0, tmpfiles.stderr
    assert (etc / "halosync").stat().st_mode & 0o777 == 0o750
    assert (etc / "credstore").stat().st_mode & 0o777 == 0o700
