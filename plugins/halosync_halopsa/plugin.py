"""The HaloPSA plugin's hooks (entry point ``halopsa = "halosync_halopsa.plugin"``)."""

from __future__ import annotations

from halosync.plugin import Alerter, PluginConfigSpec, PluginError, PluginHost, Sink, WebhookVerifier, hookimpl
from halosync_halopsa import alert_tickets
from halosync_halopsa.settings import BUDGET_KEYS, NAME, SPEC, HaloSettings
from halosync_halopsa.sink import HaloSink
from halosync_halopsa.webhook import HaloWebhookVerifier


@hookimpl
def halosync_config_spec() -> PluginConfigSpec:
    return SPEC


@hookimpl
def halosync_sinks(host: PluginHost) -> list[Sink]:
    table = host.settings(NAME)
    if table is None:
        return []
    configured = frozenset(k for k in BUDGET_KEYS if host.config.origin(("plugins", NAME, k)) != "default")
    settings = HaloSettings.from_table(table, configured)
    if settings.create_opportunity and not settings.opportunity_tickettype_id:
        raise PluginError(NAME, "create_opportunity = true needs opportunity_tickettype_id (the ticket type of "
                                "opportunities; `halosync diagnose` lists them)")
    return [HaloSink(settings, shared=host.shared)]


@hookimpl
def halosync_webhook_verifiers(host: PluginHost) -> list[WebhookVerifier]:
    table = host.settings(NAME)
    return [] if table is None else [HaloWebhookVerifier(HaloSettings.from_table(table))]


@hookimpl
def halosync_alerters(host: PluginHost) -> list[Alerter]:
    """The ``type = "halopsa"`` receivers of ``[plugins.alerts.receivers]``: tickets in HaloPSA."""
    return alert_tickets.receivers(host)
