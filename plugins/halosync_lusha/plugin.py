"""Hook implementations of the Lusha plugin (entry point ``lusha = "halosync_lusha.plugin"``)."""

from __future__ import annotations

from halosync.plugin import PluginConfigSpec, PluginHost, Source, WebhookVerifier, hookimpl
from halosync_lusha.settings import CONFIG_SPEC, LushaSettings
from halosync_lusha.source import LushaSource
from halosync_lusha.webhook import LushaWebhooks


@hookimpl
def halosync_config_spec() -> PluginConfigSpec:
    return CONFIG_SPEC


@hookimpl
def halosync_sources(host: PluginHost) -> list[Source]:
    table = host.settings("lusha")
    if table is None:
        return []
    return [LushaSource(LushaSettings.from_table(table, default_timeout=host.request_timeout), host.state_dir)]


@hookimpl
def halosync_webhook_verifiers(host: PluginHost) -> list[WebhookVerifier]:
    """Signed deliveries, when ``webhook_secret`` is set."""
    table = host.settings("lusha")
    if table is None or not table.get("webhook_secret"):
        return []
    settings = LushaSettings.from_table(table)
    return [LushaWebhooks(settings.webhook_secret, tolerance=settings.webhook_tolerance)]
