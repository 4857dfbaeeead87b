"""`halosync plugins [--json]` and `halosync --version`, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halosync import __version__
from halosync.cli.main import main
from tests.plugin import fake_dist


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    path = tmp_path / "halosync.toml"
    path.write_text('[plugins]\nallow = ["example"]\n[plugins.example]\npath = "a.txt"\n')
    return path


def test_plugins_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "plugins", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [plugin] = document["plugins"]
    assert document["failed"] == []
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


def test_a_plugin_that_fails_to_load_is_listed_with_its_error(
        config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dist.install(tmp_path, monkeypatch, "broken", "halosync_broken_listing", "import no_such_module_xyz\n")
    config.write_text('[plugins]\nallow = ["example", "broken"]\n')
    assert main(["--config", str(config), "plugins", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in document["plugins"]] == ["example"]
    assert document["failed"] == [{"name": "broken", "error": "failed to import 'halosync_broken_listing': "
                                   "ModuleNotFoundError: No module named 'no_such_module_xyz'. Fix or uninstall the "
                                   "plugin, or add 'broken' to [plugins] block"}]
