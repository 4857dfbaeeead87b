"""Can signed webhooks arrive at all? For each plugin that accepts webhooks: the listener is on, and (for the
built-in Standard Webhooks source) at least one secret is configured, since without one every delivery is refused.

Signature problems of single deliveries are for ``POST /webhooks/test``; this only catches a setup that refuses
everything, and the clock lines of each provider catch a skew that would.
"""

from __future__ import annotations

from halosync.config.loader import Config
from halosync.contracts import CheckResult
from halosync.errors import HalosyncError
from halosync.plugin.host import PluginHost
from halosync.plugin.manager import PluginManager

STANDARD_WEBHOOKS_PLUGIN = "webhook"


def webhook_checks(config: Config, plugins: PluginManager) -> list[CheckResult]:
    try:
        verifiers = plugins.webhook_verifiers(PluginHost(config))
    except HalosyncError as exc:
        return [CheckResult("webhooks", "fail", str(exc), "fix the plugin's configuration (halosync check-config)")]
    results = []
    listen = str(config.get("http.listen") or "")
    for plugin in sorted({v.plugin for v in verifiers}):
        route = f"POST /webhooks/{plugin}"
        if plugin == STANDARD_WEBHOOKS_PLUGIN and not (config.plugin(plugin) or {}).get("secrets"):
            results.append(CheckResult(f"{plugin}.webhooks", "fail",
                                       f"no secret in plugins.{plugin}.secrets: {route} refuses every delivery (401)",
                                       "add the sender's secret: secrets = [\"credential:webhook_secret\"] "
                                       "(whsec_..., in /etc/credstore/webhook_secret)"))
        elif not listen and plugin == STANDARD_WEBHOOKS_PLUGIN:
            results.append(CheckResult(f"{plugin}.webhooks", "fail",
                                       f'http.listen is "": nothing receives {route}',
                                       'set http.listen (e.g. "127.0.0.1:8787") behind your TLS reverse proxy'))
        elif listen:
            results.append(CheckResult(f"{plugin}.webhooks", "pass", f"{route} is served on {listen}"))
    return results
