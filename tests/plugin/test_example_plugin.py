"""The third-party example under contrib/, installed into the test environment as its own distribution: discovered
through the `halosync` entry point, its config table validated, its hooks called."""

from __future__ import annotations

from pathlib import Path

import pytest

from halosync.config import loader
from halosync.contracts import Alert
from halosync.errors import ConfigError
from halosync.plugin.host import LeadEvent, PluginHost
from halosync.plugin.manager import PluginManager


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> PluginManager:
    """Entry points loaded for real (tests otherwise disable autoload); only the example, so that plugins under
    construction elsewhere in the tree cannot break this test."""
    monkeypatch.delenv("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pm = PluginManager()
    pm.load_entry_points(allow=["example"])
    return pm


def test_discovered_through_its_entry_point(plugins: PluginManager) -> None:
    [info] = plugins.info()
    assert (info.name, info.distribution, info.version) == ("example", "halosync-example-plugin", "0.1.0")
    assert info.kinds == ("alerter",)
    assert info.hooks == ("halosync_alerters", "halosync_config_spec", "halosync_lead_synced")
    assert info.origin.endswith("contrib/halosync-example-plugin/halosync_example/plugin.py")


def test_autoload_switch_keeps_entry_points_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", "1")
    pm = PluginManager()
    pm.load_entry_points()
    assert pm.names() == []


async def test_its_hooks_are_called(plugins: PluginManager, tmp_path: Path) -> None:
    out = tmp_path / "alerts.txt"
    path = tmp_path / "halosync.toml"
    path.write_text(f'[plugins.example]\npath = "{out}"\nprefix = "acme"\n')
    config = loader.load(path, plugins.config_specs(), environ={})
    [alerter] = plugins.alerters(PluginHost(config))
    await alerter.send([Alert("queue_stuck", "critical", "firing", "outbox has not moved for 10 minutes")])
    assert out.read_text() == "acme firing critical queue_stuck: outbox has not moved for 10 minutes\n"

    from halosync_example import plugin as example

    before = example.synced["created"]
    plugins.lead_synced(LeadEvent("apollo", "p-1", "halopsa", "created", sink_id="7"))
    assert example.synced["created"] == before + 1


def test_not_enabled_without_its_table(plugins: PluginManager, tmp_path: Path) -> None:
    config = loader.load(None, plugins.config_specs(), environ={})
    assert plugins.alerters(PluginHost(config)) == []


def test_its_table_is_validated(plugins: PluginManager, tmp_path: Path) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text('[sync]\ninterval = 60\n\n[plugins.example]\npath = "a"\ncolour = "red"\n'
                    'webhook_url = "http://hooks.example.com"\n')
    with pytest.raises(ConfigError) as caught:
        loader.load(path, plugins.config_specs(), environ={})
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:6: plugins.example.colour: unknown key",
        f"{path}:7: plugins.example.webhook_url: must use https:// (http:// is only accepted for loopback hosts), "
        "not 'http://hooks.example.com'",
    ]
