"""Every hook a halosync plugin may implement, grouped by lifecycle phase.

Hooks are synchronous and must not block (pluggy has no async). Registration hooks return objects whose async
methods the daemon awaits (see ``halosync.contracts``). Every registration hook receives the ``PluginHost`` view
of the configuration; a plugin answers only for itself: ``host.settings("myplugin")`` is None while the
plugin is not enabled (no ``[plugins.myplugin]`` table, or ``enabled = false``), and then it returns an empty list.

Each hook is documented for plugin authors in docs/plugins.md; a test fails when one is missing there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from halosync._markers import hookspec

if TYPE_CHECKING:
    from halosync.config.schema import PluginConfigSpec
    from halosync.contracts import Alerter, LeadEvent, Matcher, Sink, Source, WebhookVerifier
    from halosync.plugin.host import PluginHost


# --- phase 1: configuration (called once at load, before the configuration is validated) -------------


@hookspec
def halosync_config_spec() -> PluginConfigSpec | None:
    """Declare the plugin's configuration table ``[plugins.NAME]``.

    Called once after loading, before any configuration is read. Return a ``PluginConfigSpec`` naming the plugin
    and its keys (type, default, whether secret or a provider URL); the daemon validates the user's table against
    it and reports problems as ``FILE:LINE: plugins.NAME.key: message``. Return None for a plugin without a table.
    """


# --- phase 2: registration (called at start and after every reload) ----------------------------------


@hookspec
def halosync_sources(host: PluginHost) -> list[Source] | None:
    """Return the lead sources this plugin provides for the current configuration (an empty list or None when
    disabled). Called at start-up and after each reload: the new objects are built first (an exception here
    refuses the reload and the old ones stay), then swapped in, then the old ones are closed (``aclose``)."""


@hookspec
def halosync_sinks(host: PluginHost) -> list[Sink] | None:
    """Return the sinks (CRMs leads are written to) this plugin provides. Same timing as ``halosync_sources``."""


@hookspec
def halosync_matchers(host: PluginHost) -> list[Matcher] | None:
    """Return matchers (``halosync.contracts.Matcher``) that decide whether a lead is new, an update, a
    duplicate or needs review. The first matcher that returns a decision wins, in plugin load order."""


@hookspec
def halosync_alerters(host: PluginHost) -> list[Alerter] | None:
    """Return alert deliverers (log, webhook, email, ticket...). Rules name them by their ``name``."""


@hookspec
def halosync_webhook_verifiers(host: PluginHost) -> list[WebhookVerifier] | None:
    """Return verifiers for ``POST /webhooks/{plugin}``; the route's ``{plugin}`` selects by ``verifier.plugin``."""


# --- phase 3: notifications (called from the daemon's loop; must return quickly) ---------------------


@hookspec
def halosync_lead_synced(event: LeadEvent) -> None:
    """Called after a lead's write to a sink is committed (created, updated or merged). Must not block:
    hand slow work to your own task or thread. Exceptions are logged and otherwise ignored."""


@hookspec
def halosync_lead_failed(event: LeadEvent) -> None:
    """Called when a lead becomes a dead letter; ``event.detail`` holds the reason. Must not block."""
