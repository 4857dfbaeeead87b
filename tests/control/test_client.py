"""`halosyncctl` without a daemon: where it looks for the socket, and what it says when nobody answers."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from halosync.cli.ctl import main as ctl_main
from halosync.control.client import DEFAULT_SOCKET, resolve_socket


def test_socket_resolution_order(tmp_path: Path) -> None:
    config = tmp_path / "halosync.toml"
    config.write_text('[daemon]\ncontrol_socket = "/srv/from-config.sock"\n')
    bare = tmp_path / "bare.toml"
    bare.write_text("[sync]\ninterval = 60\n")
    env = {"HALOSYNC_SOCKET": "/srv/from-env.sock"}
    assert resolve_socket("/srv/flag.sock", str(config), env).path == Path("/srv/flag.sock")
    where = resolve_socket(None, str(config), env)
    assert where.path == Path("/srv/from-config.sock") and str(config) in where.origin
    assert resolve_socket(None, None, {**env, "HALOSYNC_CONFIG": str(config)}).path == Path("/srv/from-config.sock")
    assert resolve_socket(None, str(bare), env).path == Path("/srv/from-env.sock")
    assert resolve_socket(None, str(bare), {}).path == DEFAULT_SOCKET


def test_unreachable_daemon_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nothing.sock"
    assert ctl_main(["--socket", str(missing), "status"]) == 69
    err = capsys.readouterr().err
    assert str(missing) in err and "from --socket" in err and "systemctl start halosync" in err
    stale = tmp_path / "stale.sock"
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(stale))
    leftover.close()
    assert ctl_main(["--socket", str(stale), "--json", "queue"]) == 69
    out, err = capsys.readouterr()
    assert "left from an earlier run" in err
    assert json.loads(out)["error"]["code"] == "unreachable"  # scripts get their one JSON document too


def test_bad_config_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[daemon\n")
    # Not valid TOML: a warning, then the other socket sources (here the default, where no daemon runs: 69).
    capsys.readouterr()
    assert ctl_main(["--config", str(broken), "status"]) == 69
    assert "warning: " in capsys.readouterr().err
    assert ctl_main(["--config", str(tmp_path / "absent.toml"), "status"]) == 78
    with pytest.raises(SystemExit) as exit_info:
        ctl_main(["concurrency", "lots"])
    assert exit_info.value.code == 2
    assert ctl_main([]) == 2
