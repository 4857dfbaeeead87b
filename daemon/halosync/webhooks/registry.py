"""Which verifier answers ``POST /webhooks/{plugin}``: built from the plugins' ``halosync_webhook_verifiers`` hook at
start and again after every reload, so a rotated secret takes effect on SIGHUP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loguru import logger

from halosync.contracts import WebhookParser, WebhookVerifier

if TYPE_CHECKING:
    from halosync.daemon.api import StateView


class Verifiers:
    def __init__(self, daemon: StateView) -> None:
        self.daemon = daemon
        self._by_plugin: dict[str, WebhookVerifier] = {}

    def load(self) -> None:
        by_plugin: dict[str, WebhookVerifier] = {}
        for verifier in self.daemon.plugins.webhook_verifiers(self.daemon.host):
            if verifier.plugin in by_plugin:
                logger.warning("two webhook verifiers claim {!r}; the first registered one is used", verifier.plugin)
                continue
            by_plugin[verifier.plugin] = verifier
        self._by_plugin = by_plugin

    async def reload(self) -> None:
        self.load()

    def get(self, plugin: str) -> WebhookVerifier | None:
        return self._by_plugin.get(plugin)

    def parser(self, plugin: str) -> WebhookParser | None:
        verifier = self._by_plugin.get(plugin)
        return verifier if isinstance(verifier, WebhookParser) else None

    def names(self) -> list[str]:
        return sorted(self._by_plugin)
