"""The built-in alert plugin (entry point ``alerts``): the ``log`` receiver, and the named receivers of
``[plugins.alerts.receivers.NAME]``: webhook (JSON, Slack, Teams) and email over SMTP. It checks the tables of
HaloPSA ticket receivers too, which the HaloPSA plugin builds (``halosync_halopsa.alert_tickets``).

Rules route to receivers by name (``[alerts] receivers``, ``[alerts.rules.NAME] receivers``). ``log`` is always
there while this plugin is enabled; a receiver table named ``log`` replaces it (to change its level).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loguru import logger

from halosync.plugin import (
    Alert,
    Alerter,
    Field,
    HalosyncError,
    LogAlerter,
    PluginConfigSpec,
    PluginError,
    PluginHost,
    hookimpl,
    secrets,
)
from halosync_builtin.alert_email import EmailAlerter, SMTPSettings
from halosync_builtin.alert_receivers import check_receivers, settings
from halosync_builtin.alert_webhook import WebhookAlerter

NAME = "alerts"
# Receiver types this plugin checks in its table but leaves to the plugin that knows the provider to build, through
# that plugin's own ``halosync_alerters`` hook: "halopsa" tickets come from the HaloPSA plugin (halosync_halopsa).
OTHER_PLUGINS_BUILD = frozenset({"halopsa"})

SPEC = PluginConfigSpec(NAME, help="alert receivers: log, webhook (JSON/Slack/Teams), email (SMTP), HaloPSA tickets",
                        fields={
    "receivers": Field(dict, {}, "named receivers: [plugins.alerts.receivers.NAME] with type = \"webhook\", "
                       "\"email\", \"halopsa\" or \"log\"", check=check_receivers),
})


@hookimpl
def halosync_config_spec() -> PluginConfigSpec:
    return SPEC


@hookimpl
def halosync_alerters(host: PluginHost) -> list[Alerter]:
    table = host.settings(NAME)
    if table is None:
        return []
    out: dict[str, Alerter] = {"log": LogAlerter()}
    for name, receiver in table["receivers"].items():
        if receiver["type"] in OTHER_PLUGINS_BUILD:
            continue
        try:
            out[name] = build(name, settings(receiver), host)
        except (HalosyncError, secrets.SecretUnavailable) as exc:
            # One receiver that cannot be built must not take the others with it: it stands in, failing every
            # delivery with the reason, so that /health and `halosyncctl alerts` show what to fix.
            logger.error("alert receiver {!r} cannot be used: {}", name, exc)
            out[name] = UnusableReceiver(name, str(exc))
    return list(out.values())


class UnusableReceiver:
    """Stands in for a receiver whose settings were refused when it was built."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem  # the alerts component reports it in the receiver's health at start

    async def send(self, alerts: Sequence[Alert]) -> None:
        raise PluginError(NAME, f"receiver {self.name!r} cannot be used: {self.problem}")


def build(name: str, s: dict[str, Any], host: PluginHost) -> Alerter:
    """One receiver from its checked table (defaults filled in, secrets resolved)."""
    if s["type"] == "log":
        return LogAlerter(name, s["level"])
    if s["type"] == "webhook":
        return WebhookAlerter(name, s["url"], preset=s["preset"], headers=s["headers"],
                              timeout=float(host.config.get("alerts.delivery_timeout", 30.0)))
    if s["type"] == "email":
        return EmailAlerter(name, SMTPSettings(
            host=s["host"], sender=s["from"], to=tuple(s["to"]), port=s["port"], security=s["security"],
            username=s["username"], password=s["password"], subject_prefix=s["subject_prefix"],
            ca_file=s["ca_file"], timeout=float(s["timeout"])))
    raise PluginError(NAME, f"receiver {name!r} has type {s['type']!r}, which this plugin does not build")
