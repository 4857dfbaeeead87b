"""Hook implementations of the Apollo plugin (entry point ``apollo = "halosync_apollo.plugin"``)."""

from __future__ import annotations

from halosync.plugin import PluginConfigSpec, PluginHost, Source, WebhookVerifier, hookimpl
from halosync_apollo.enrichment import EnrichmentTokens, EnrichmentVerifier
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
    return [ApolloSource(ApolloSettings.from_table(table, default_timeout=host.request_timeout),
                         shared=host.shared.quotas if host.shared is not None else None)]


@hookimpl
def halosync_webhook_verifiers(host: PluginHost) -> list[WebhookVerifier]:
    """Enrichment callbacks, when ``enrichment_webhooks`` is on: the token in the URL is the credential."""
    table = host.settings("apollo")
    if table is None or not table.get("enrichment_webhooks"):
        return []
    return [EnrichmentVerifier(EnrichmentTokens(str(table["api_key"])))]
