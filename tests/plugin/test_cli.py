"""`halosync plugins [--json]` and `halosync --version`, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halosync import __version__
from halosync.cli.main import main


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    path = tmp_path / "halosync.toml"
    path.write_text('[plugins]\nallow = ["example"]\n[plugins.example]\npath = "a.txt"\n')
    return path


def test_plugins_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "plugins", "--json"]) == 0
    [plugin] = json.loads(capsys.readouterr().out)["plugins"]
    assert plugin == {
        "name": "example", "kinds": ["alerter"], "version": "0.1.0", "distribution": "halosync-example-plugin",
        "hooks": ["halosync_alerters", "halosync_config_spec", "halosync_lead_synced"],
        "origin": plugin["origin"], "enabled": True,
    }
    assert Path(plugin["origin"]).name == "plugin.py"


def test_plugins_text(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "plugins"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "example 0.1.0  [alerter]  enabled"
    assert out[1].startswith("    from halosync-example-plugin: ") and out[1].endswith("plugin.py")
    assert out[2] == "    hooks: halosync_alerters, halosync_config_spec, halosync_lead_synced"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"halosync {__version__}\n"
