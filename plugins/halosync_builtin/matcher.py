"""The built-in matcher plugin: offers the rule matcher (``halosync.engine.rules``) configured from ``[match]``.

The engine falls back to the same rules when no matcher plugin is loaded, so matching never silently stops.
"""

from __future__ import annotations

from halosync.engine.rules import RuleMatcher
from halosync.plugin import hookimpl
from halosync.plugin.host import PluginHost


@hookimpl
def halosync_matchers(host: PluginHost) -> list[object]:
    return [RuleMatcher.from_config(host.config.section("match"))]
