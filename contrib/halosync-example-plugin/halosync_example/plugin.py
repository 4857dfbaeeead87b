"""The example plugin: ``[plugins.example]`` configures an alert deliverer that appends each alert as one line
to a file, and counts the leads halosync reports as synced.

    [plugins.example]
    path = "/var/lib/halosync/alerts.txt"
    prefix = "halosync"
    webhook_url = "https://hooks.example.com/alerts"   # https, or http to a loopback host
    token = "env:EXAMPLE_TOKEN"                        # a secret: env:, file:, credential: or a literal
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import trio

from halosync.plugin import REQUIRED, Alert, Alerter, Field, LeadEvent, PluginConfigSpec, PluginHost, hookimpl

NAME = "example"  # must equal the entry-point name in pyproject.toml

SPEC = PluginConfigSpec(NAME, help="example: append alerts to a file", fields={
    "path": Field(str, REQUIRED, "file the alerts are appended to"),
    "prefix": Field(str, "halosync", "first word of every line"),
    "webhook_url": Field(str, "", "where a real deliverer would post (shows the url=True check)", url=True),
    "token": Field(str, "", "a credential (shows secret=True: masked in logs and `config show`)", secret=True),
})

# Leads reported synced, by outcome (created, updated, merged). A hook runs for every lead of every run, for years:
# keep a count, never the events themselves.
synced: Counter[str] = Counter()


class FileAlerter:
    """Appends ``PREFIX STATE SEVERITY RULE: SUMMARY`` lines; the file write runs in a thread (never block)."""

    def __init__(self, path: Path, prefix: str) -> None:
        self.name = NAME
        self.path = path
        self.prefix = prefix

    async def send(self, alerts: Sequence[Alert]) -> None:
        lines = "".join(f"{self.prefix} {a.state} {a.severity} {a.rule}: {a.summary}\n" for a in alerts)
        await trio.to_thread.run_sync(self._append, lines)

    def _append(self, text: str) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(text)


@hookimpl
def halosync_config_spec() -> PluginConfigSpec:
    return SPEC


@hookimpl
def halosync_alerters(host: PluginHost) -> list[Alerter]:
    settings = host.settings(NAME)
    if settings is None:  # not enabled: no [plugins.example] table, or enabled = false
        return []
    return [FileAlerter(Path(settings["path"]), settings["prefix"])]


@hookimpl
def halosync_lead_synced(event: LeadEvent) -> None:
    synced[event.outcome] += 1
