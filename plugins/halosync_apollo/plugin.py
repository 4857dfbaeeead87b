"""Hook implementations of the Apollo plugin (entry point ``apollo = "halosync_apollo.plugin"``)."""

from __future__ import annotations

from halosync.config.schema import PluginConfigSpec
from halosync.contracts import Source
from halosync.plugin import hookimpl
from halosync.plugin.host import PluginHost
from halosync_apollo.settings import CONFIG_SPEC, ApolloSettings
from halosync_apollo.source import ApolloSource


@hookimpl
def halosync_config_spec() -> PluginConfigSpec:
    return CONFIG_SPEC


@hookimpl
def halosync_sources(host: PluginHost) -> list[Source]:
    table = host.settings("apollo")
    if table is None:
        return []
    return [ApolloSource(ApolloSettings.from_table(table, default_timeout=host.request_timeout))]
