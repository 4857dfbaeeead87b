"""The built-in matcher plugin: offers ``RuleMatcher`` configured from ``[match]`` (see halosync_builtin.match_rules).

The engine also falls back to the same rules when no matcher plugin is loaded, so matching never silently stops.
"""

from __future__ import annotations

from halosync.plugin import hookimpl
from halosync.plugin.host import PluginHost
from halosync_builtin.match_rules import RuleMatcher


@hookimpl
def halosync_matchers(host: PluginHost) -> list[object]:
    section = host.config.section("match")
    return [RuleMatcher(section.get("person_rules") or RuleMatcher().person_rules,
                        section.get("company_rules") or RuleMatcher().company_rules)]
