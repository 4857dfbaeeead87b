"""halosync_lusha as a user installs it: found through the entry point, its table validated (list_ids required, the
key masked), a source and, with a webhook secret, a verifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import halosync_lusha.plugin
from halosync.config import loader
from halosync.errors import ConfigError
from halosync.plugin.host import PluginHost
from halosync.plugin.manager import PluginManager
from halosync_lusha.source import LushaSource
from halosync_lusha.webhook import LushaWebhooks


def load(tmp_path: Path, table: str) -> loader.Config:
    manager = PluginManager()
    manager.register(halosync_lusha.plugin, "lusha")
    path = tmp_path / "halosync.toml"
    path.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n\n[plugins.lusha]\n{table}\n')
    return loader.load(path, manager.config_specs(), environ={"LUSHA_KEY": "lusha-secret-key-77"})


def test_the_entry_point_names_the_plugin() -> None:
    from importlib.metadata import entry_points
    [point] = [e for e in entry_points(group="halosync") if e.name == "lusha"]
    assert point.value == "halosync_lusha.plugin"


def test_a_table_makes_a_source_and_a_verifier_and_masks_the_secrets(tmp_path: Path) -> None:
    config = load(tmp_path, 'api_key = "env:LUSHA_KEY"\nlist_ids = ["L1", "L2"]\nwebhook_secret = "hook-secret-99"')
    host = PluginHost(config)
    [source] = halosync_lusha.plugin.halosync_sources(host)
    assert isinstance(source, LushaSource) and source.settings.list_ids == ("L1", "L2")
    [verifier] = halosync_lusha.plugin.halosync_webhook_verifiers(host)
    assert isinstance(verifier, LushaWebhooks)
    shown = json.dumps(config.redacted())
    assert "lusha-secret-key-77" not in shown and "hook-secret-99" not in shown


def test_without_a_webhook_secret_there_is_no_verifier(tmp_path: Path) -> None:
    config = load(tmp_path, 'api_key = "k"\nlist_ids = ["L1"]')
    assert halosync_lusha.plugin.halosync_webhook_verifiers(PluginHost(config)) == []


@pytest.mark.parametrize(("table", "words"), [
    ('api_key = "k"', "plugins.lusha.list_ids"),
    ('api_key = "k"\nlist_ids = []', "name at least one Lusha contact list"),
    ('api_key = "k"\nlist_ids = ["L1"]\nplan = "gold"', "plugins.lusha.plan"),
    ('api_key = "k"\nlist_ids = ["L1"]\npage_size = 500', "plugins.lusha.page_size"),
])
def test_a_bad_table_says_which_key(tmp_path: Path, table: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load(tmp_path, table)
