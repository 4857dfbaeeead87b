"""The plugin as the daemon loads it: its config table is validated, and it offers a source only when enabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from halosync.config.loader import load
from halosync.errors import ConfigError
from halosync.plugin.host import PluginHost
from halosync_apollo import plugin
from halosync_apollo.source import ApolloSource


def config(tmp_path: Path, table: str) -> PluginHost:
    path = tmp_path / "halosync.toml"
    path.write_text(table, encoding="utf-8")
    return PluginHost(load(path, [plugin.halosync_config_spec()], environ={"APOLLO_KEY": "k-123456789"}))


async def test_an_enabled_table_gives_one_apollo_source_with_defaults(tmp_path: Path) -> None:
    host = config(tmp_path, '[plugins.apollo]\napi_key = "env:APOLLO_KEY"\nlabel_ids = ["L1"]\n')

    (source,) = plugin.halosync_sources(host)

    assert isinstance(source, ApolloSource) and source.name == "apollo"
    assert source.settings.base_url == "https://api.apollo.io" and source.settings.per_page == 100
    assert source.settings.label_ids == ("L1",) and source.settings.timeout == 30.0
    assert "k-123456789" not in repr(source.settings)
    await source.aclose()


def test_no_table_or_a_disabled_one_gives_no_source(tmp_path: Path) -> None:
    assert plugin.halosync_sources(config(tmp_path, "")) == []
    assert plugin.halosync_sources(config(tmp_path, '[plugins.apollo]\nenabled = false\napi_key = "x"\n')) == []


def test_the_table_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        config(tmp_path, '[plugins.apollo]\nbase_url = "http://api.apollo.io"\nper_page = 500\n')
    text = str(caught.value)
    assert "plugins.apollo.api_key" in text and "plugins.apollo.base_url" in text and "plugins.apollo.per_page" in text


def test_the_enrichment_verifier_is_offered_only_when_the_feature_is_on(tmp_path: Path) -> None:
    off = config(tmp_path, '[plugins.apollo]\napi_key = "env:APOLLO_KEY"\n')
    on = config(tmp_path, '[plugins.apollo]\napi_key = "env:APOLLO_KEY"\nenrichment_webhooks = true\n'
                'public_base_url = "https://halosync.example.com"\n')

    assert plugin.halosync_webhook_verifiers(off) == []
    (verifier,) = plugin.halosync_webhook_verifiers(on)
    assert verifier.plugin == "apollo"


async def test_the_plugin_loads_through_the_plugin_manager_as_the_daemon_loads_it(tmp_path: Path) -> None:
    from halosync.plugin.manager import PluginManager

    manager = PluginManager()
    manager.register(plugin, "apollo")
    manager.check()
    path = tmp_path / "halosync.toml"
    path.write_text('[plugins.apollo]\napi_key = "k-123456789"\n', encoding="utf-8")
    host = PluginHost(load(path, manager.config_specs()))

    (source,) = manager.sources(host)

    assert source.name == "apollo" and source.rate_limits() == []
    assert manager.webhook_verifiers(host) == []
    await source.aclose()
