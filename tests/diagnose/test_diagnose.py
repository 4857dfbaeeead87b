"""``halosync diagnose`` against the fake Apollo and HaloPSA over real sockets, healthy and broken.

The command runs as a user runs it (the CLI, plugins loaded through their entry points) in a worker thread, while
the fakes serve on this test's trio loop. Assertions are on the exit code and on the lines a user reads.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from email.utils import formatdate
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio

from halosync.cli.main import main
from halosync.config import loader
from halosync.daemon.app import Daemon
from halosync.plugin.manager import PluginManager
from halosync.provider.asgi import serve
from halosync.store.gateway import Store
from halosync_apollo.fake import UNLIMITED, FakeApollo
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake

APOLLO_KEY = "test-key-0123456789"
HALO_SECRET = "fake-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Setup:
    """A configuration file pointing at the fakes; ``write(**overrides)`` changes one table's keys."""

    def __init__(self, tmp_path: Path, apollo_url: str, halo_url: str) -> None:
        self.tmp_path = tmp_path
        self.state = tmp_path / "state"
        self.state.mkdir()
        self.apollo = {"base_url": apollo_url, "api_key": APOLLO_KEY}
        self.halopsa: dict[str, Any] = {"base_url": halo_url, "client_id": "halosync", "client_secret": HALO_SECRET,
                                        "timeout": 3.0, "max_retries": 0}
        self.listen = ""
        self.path = tmp_path / "halosync.toml"
        self.write()

    def write(self, extra: str = "") -> Path:
        def table(values: dict[str, Any]) -> str:
            return "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items() if not isinstance(v, dict))

        custom = self.halopsa.get("custom_fields", {}).get("user", {})
        self.path.write_text(
            f'[daemon]\nstate_dir = "{self.state}"\ncontrol_socket = "{self.state}/control.sock"\n'
            f'[http]\nlisten = "{self.listen}"\n'
            f"[plugins.apollo]\n{table(self.apollo)}[plugins.halopsa]\n{table(self.halopsa)}"
            + (f"[plugins.halopsa.custom_fields.user]\n{table(custom)}" if custom else "") + extra)
        return self.path

    def create_store(self) -> None:
        store = Store(f"sqlite:///{self.state / 'halosync.db'}")
        store.create_schema()
        store.close()


@pytest.fixture(autouse=True)
def plugins_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """diagnose loads plugins the way an installed halosync does."""
    monkeypatch.delenv("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", raising=False)


@pytest.fixture
def halo() -> FakeHalo:
    return FakeHalo(FakeSettings(client_secret=HALO_SECRET))


@pytest.fixture
async def setup(tmp_path: Path, halo: FakeHalo, nursery: trio.Nursery) -> Setup:
    apollo_url: str = await nursery.start(serve, FakeApollo([APOLLO_KEY], default_limits=UNLIMITED))
    halo_url: str = await nursery.start(serve_fake, halo)
    return Setup(tmp_path, apollo_url, halo_url)


Diagnose = Callable[..., Any]


@pytest.fixture
def diagnose(capsys: pytest.CaptureFixture[str]) -> Diagnose:
    """Run `halosync --config PATH diagnose --json`; returns (exit code, {name: check}, the JSON document)."""

    async def run(path: Path, *flags: str) -> tuple[int, dict[str, dict[str, str]], dict[str, Any]]:
        capsys.readouterr()
        code = await trio.to_thread.run_sync(main, ["--config", str(path), "diagnose", "--json", *flags])
        document = json.loads(capsys.readouterr().out)
        return code, {c["name"]: c for c in document["checks"]}, document

    return run


def failed(checks: dict[str, dict[str, str]]) -> list[str]:
    return [name for name, c in checks.items() if c["status"] == "fail"]


async def test_a_healthy_setup_passes(setup: Setup, diagnose: Diagnose) -> None:
    setup.create_store()
    code, checks, document = await diagnose(setup.path)
    assert code == 0 and document["ok"] is True, failed(checks)
    for name in ("config", "state_dir.writable", "database.connect", "database.write", "database.migrations",
                 "database.pool", "apollo.dns", "apollo.tcp", "apollo.tls", "apollo.clock", "apollo.auth",
                 "halopsa.dns", "halopsa.tcp", "halopsa.clock", "halopsa.token", "halopsa.permission.clients",
                 "halopsa.custom_fields", "halopsa.rate_limit"):
        assert checks[name]["status"] == "pass", checks[name]
    # No daemon runs in this test: said, but not a failure.
    assert checks["daemon.control_socket"]["status"] == "warn"
    assert "systemctl start halosync" in checks["daemon.control_socket"]["hint"]


async def test_wrong_secret_fails_the_token_check(setup: Setup, diagnose: Diagnose) -> None:
    setup.halopsa["client_secret"] = "not-the-secret-4711"
    code, checks, document = await diagnose(setup.write())
    assert code == 1
    assert failed(checks) == ["halopsa.token"]
    assert "client_secret" in checks["halopsa.token"]["hint"]
    assert "not-the-secret-4711" not in json.dumps(document)


async def test_unreachable_host_fails_at_tcp_and_skips_the_plugin(setup: Setup, diagnose: Diagnose) -> None:
    port = free_port()  # nothing listens here
    setup.apollo["base_url"] = f"http://127.0.0.1:{port}"
    code, checks, _ = await diagnose(setup.write(), "--timeout", "3")
    assert code == 1
    assert failed(checks) == ["apollo.tcp"]
    assert f"127.0.0.1:{port}" in checks["apollo.tcp"]["message"]
    assert "allow outbound TCP" in checks["apollo.tcp"]["hint"]
    assert checks["apollo.checks"]["status"] == "warn"  # auth is not tried against a host that cannot be reached
    assert checks["halopsa.token"]["status"] == "pass"


async def test_missing_custom_field_fails_with_where_to_create_it(setup: Setup, halo: FakeHalo,
                                                                  diagnose: Diagnose) -> None:
    halo.add_field("CFApolloId", usage=3)
    setup.halopsa["custom_fields"] = {"user": {"CFApolloId": "{source_id}", "CFLeadSource": "{source}"}}
    code, checks, _ = await diagnose(setup.write())
    assert code == 1
    assert failed(checks) == ["halopsa.custom_field.CFLeadSource"]
    assert checks["halopsa.custom_field.CFApolloId"]["status"] == "pass"
    assert "create it in" in checks["halopsa.custom_field.CFLeadSource"]["hint"]


async def test_clock_skew_against_the_providers_date_header(setup: Setup, diagnose: Diagnose,
                                                            nursery: trio.Nursery) -> None:
    """A provider whose Date is 10 minutes ahead: signed webhooks would be refused as expired."""

    async def skewed(stream: trio.SocketStream) -> None:
        await stream.receive_some(65536)
        date = formatdate(time.time() + 600, usegmt=True)
        await stream.send_all(f"HTTP/1.1 404 Not Found\r\nDate: {date}\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n".encode())
        await stream.aclose()

    listeners = await nursery.start(partial(trio.serve_tcp, skewed, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    setup.apollo["base_url"] = f"http://127.0.0.1:{port}"
    code, checks, _ = await diagnose(setup.write())
    assert code == 1
    clock = checks["apollo.clock"]
    assert clock["status"] == "fail" and "behind" in clock["message"] and "webhooks" in clock["message"]
    assert "timedatectl" in clock["hint"]


async def test_running_daemon_answers_on_socket_and_listener(setup: Setup, diagnose: Diagnose) -> None:
    setup.listen = f"127.0.0.1:{free_port()}"
    path = setup.write()
    pm = PluginManager()
    pm.load_entry_points()
    daemon = Daemon(loader.load(path, pm.config_specs()), pm)
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.serve)
        code, checks, _ = await diagnose(path)
        daemon.request_stop()
    assert checks["daemon.control_socket"]["status"] == "pass", checks["daemon.control_socket"]
    assert checks["daemon.http_listener"]["status"] == "pass", checks["daemon.http_listener"]
    assert code == 0, failed(checks)


def test_invalid_configuration_exits_78_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text("[sync]\nintervall = 60\n")
    assert main(["--config", str(path), "diagnose"]) == 78
    out = capsys.readouterr().out
    assert f"fail  config  {path}:2: sync.intervall: unknown key (did you mean 'interval'?)" in out


def read_only(directory: Path, argv: list[str]) -> list[str]:
    """``argv`` run where ``directory`` is read-only: a private read-only bind mount as root (root ignores mode
    bits), plain permissions otherwise."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return argv
    unshare = shutil.which("unshare")
    assert unshare, "util-linux's unshare is needed to make a read-only directory for root"
    script = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'
    return [unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(directory), *argv]


def test_read_only_state_dir_fails_with_the_owner_hint(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    config = tmp_path / "halosync.toml"
    config.write_text(f'[daemon]\nstate_dir = "{state}"\ncontrol_socket = "{state}/control.sock"\n'
                      '[http]\nlisten = ""\n')
    halosync = str(Path(sys.executable).with_name("halosync"))
    result = subprocess.run(read_only(state, [halosync, "--config", str(config), "diagnose", "--json"]),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    writable = checks["state_dir.writable"]
    assert writable["status"] == "fail" and "not writable" in writable["message"]
    assert "chown -R halosync:halosync" in writable["hint"]


async def test_text_output_is_one_line_per_check_with_its_fix(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    setup.halopsa["client_secret"] = "not-the-secret-4711"
    path = setup.write()
    code = await trio.to_thread.run_sync(main, ["--config", str(path), "diagnose"])
    out, err = capsys.readouterr()
    assert code == 1
    lines = out.splitlines()
    token = next(line for line in lines if line.split()[1:2] == ["halopsa.token"])
    assert token.startswith("fail  ") and "  -> fix: compare client_id, client_secret and tenant" in token
    assert all(line.split()[0] in ("pass", "warn", "fail") for line in lines)
    assert "1 failed" in err


async def test_signed_webhooks_without_a_secret_fail(setup: Setup, diagnose: Diagnose) -> None:
    setup.listen = f"127.0.0.1:{free_port()}"
    code, checks, _ = await diagnose(setup.write("[plugins.webhook]\nsecrets = []\n"))
    assert code == 1
    assert checks["webhook.webhooks"]["status"] == "fail"
    assert "refuses every delivery" in checks["webhook.webhooks"]["message"]
    secret = "whsec_" + base64.b64encode(b"s" * 32).decode()
    code, checks, _ = await diagnose(setup.write(f'[plugins.webhook]\nsecrets = ["{secret}"]\n'))
    assert checks["webhook.webhooks"]["status"] == "pass"
    assert secret not in json.dumps(checks)


def database_only(tmp_path: Path, url: str) -> Path:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    path = tmp_path / "halosync.toml"
    path.write_text(f'[daemon]\nstate_dir = "{state}"\ncontrol_socket = "{state}/control.sock"\n'
                    f'[database]\nurl = "{url}"\n[http]\nlisten = ""\n')
    return path


def json_checks(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}


@pytest.mark.postgres
def test_postgres_store_checks(tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(pg_url)
    store.create_schema()
    store.close()
    assert main(["--config", str(database_only(tmp_path, pg_url)), "diagnose", "--json"]) == 0
    checks = json_checks(capsys)
    assert checks["database.connect"]["status"] == "pass" and "PostgreSQL" in checks["database.connect"]["message"]
    assert checks["database.write"]["status"] == "pass"
    assert checks["database.migrations"]["status"] == "pass"
    assert checks["database.pool"]["status"] == "pass" and "max_connections" not in checks["database.pool"]["hint"]


def test_unreachable_postgres_fails_the_connect_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://halosync:secret-pw-123@127.0.0.1:{free_port()}/halosync"
    assert main(["--config", str(database_only(tmp_path, url)), "diagnose", "--json"]) == 1
    checks = json_checks(capsys)
    connect = checks["database.connect"]
    assert connect["status"] == "fail" and "PostgreSQL runs" in connect["hint"]
    assert "secret-pw-123" not in json.dumps(checks)
