"""The built-in matcher plugin: offers the rule matcher (``halosync.engine.rules``) configured from ``[match]``.

The engine falls back to the same rules when no matcher plugin is loaded, so matching never silently stops.
"""

from __future__ import annotations

from halosync.plugin import Matcher, PluginHost, RuleMatcher, hookimpl


@hookimpl
def halosync_matchers(host: PluginHost) -> list[Matcher]:
    return [RuleMatcher.from_config(host.config.section("match"))]
