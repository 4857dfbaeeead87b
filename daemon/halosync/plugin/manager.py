"""The plugin host: loads plugins through the ``halosync`` entry-point group and offers one typed method per hook,
so core code never calls ``pm.hook.*`` directly.

Built-in plugins (Apollo, HaloPSA, the matcher, alerts, the webhook source) are registered through the same entry
points as any third-party plugin. ``HALOSYNC_DISABLE_PLUGIN_AUTOLOAD=1`` skips entry points (tests register what
they need by hand), and ``[plugins] allow/block`` filter what is loaded.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from halosync.config.schema import PluginConfigSpec
from halosync.contracts import Alerter, Sink, Source, WebhookVerifier
from halosync.errors import PluginError
from halosync.plugin import ENTRY_POINT_GROUP, PROJECT, spec
from halosync.plugin.host import LeadEvent, PluginHost

T = TypeVar("T")


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    distribution: str
    origin: str  # where it was loaded from
    hooks: tuple[str, ...]
    kinds: tuple[str, ...] = field(default=())


class PluginManager:
    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(spec)
        self._dists: dict[str, tuple[str, str]] = {}

    # --- loading -----------------------------------------------------------------------------------

    def load_entry_points(self, allow: Sequence[str] = (), block: Sequence[str] = ()) -> None:
        """Import and register every plugin of the entry-point group, then verify their hooks."""
        if os.environ.get("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD") == "1":
            return
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if (allow and ep.name not in allow) or ep.name in block or self._pm.has_plugin(ep.name):
                continue
            try:
                module = ep.load()
            except Exception as exc:
                raise PluginError(
                    ep.name, f"failed to import {ep.value!r}: {type(exc).__name__}: {exc}. "
                    f"Fix or uninstall the plugin, or add it to [plugins] block"
                ) from exc
            dist = ep.dist
            self.register(module, ep.name, (dist.name, dist.version) if dist else ("?", "?"))
        self.check()

    def register(self, plugin: ModuleType | object, name: str, dist: tuple[str, str] = ("", "")) -> None:
        try:
            self._pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginError(name, f"cannot be registered: {exc}") from exc
        self._dists[name] = dist

    def check(self) -> None:
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(getattr(exc, "plugin_name", "?") or "?", str(exc)) from exc

    def info(self) -> list[PluginInfo]:
        out = []
        for name, plugin in sorted(self._pm.list_name_plugin()):
            hooks = tuple(sorted(h.name for h in self._pm.get_hookcallers(plugin) or ()))
            dist, version = self._dists.get(name, ("", ""))
            origin = getattr(plugin, "__file__", None) or type(plugin).__module__
            kinds = tuple(k for k, hook in _KINDS.items() if hook in hooks)
            out.append(PluginInfo(name, version, dist, str(origin), hooks, kinds))
        return out

    # --- one typed method per hook ------------------------------------------------------------------

    def config_specs(self) -> list[PluginConfigSpec]:
        return [s for s in self._pm.hook.halosync_config_spec() if s is not None]

    def sources(self, host: PluginHost) -> list[Source]:
        return self._collect("halosync_sources", host, Source)

    def sinks(self, host: PluginHost) -> list[Sink]:
        return self._collect("halosync_sinks", host, Sink)

    def matchers(self, host: PluginHost) -> list[Any]:
        return self._collect("halosync_matchers", host, object)

    def alerters(self, host: PluginHost) -> list[Alerter]:
        return self._collect("halosync_alerters", host, Alerter)

    def webhook_verifiers(self, host: PluginHost) -> list[WebhookVerifier]:
        return self._collect("halosync_webhook_verifiers", host, WebhookVerifier)

    def lead_synced(self, event: LeadEvent) -> None:
        self._notify("halosync_lead_synced", event)

    def lead_failed(self, event: LeadEvent) -> None:
        self._notify("halosync_lead_failed", event)

    # --- plumbing -----------------------------------------------------------------------------------

    def _collect(self, hook_name: str, host: PluginHost, kind: type[T]) -> list[T]:
        """Call a registration hook plugin by plugin, so that a failure names the plugin that failed."""
        caller = getattr(self._pm.hook, hook_name)
        out: list[T] = []
        for impl in reversed(caller.get_hookimpls()):  # registration order
            try:
                result = impl.function(host=host)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(impl.plugin_name, f"{hook_name} failed: {type(exc).__name__}: {exc}") from exc
            for obj in _flatten(result):
                if kind is not object and not isinstance(obj, kind):
                    raise PluginError(impl.plugin_name, f"{hook_name} returned {obj!r}, not a {kind.__name__}")
                out.append(obj)
        return out

    def _notify(self, hook_name: str, event: LeadEvent) -> None:
        from loguru import logger

        for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
            try:
                impl.function(event=event)
            except Exception:  # a notification must never break the pipeline; the log says who failed
                logger.opt(exception=True).warning("plugin {} failed in {}", impl.plugin_name, hook_name)


_KINDS = {
    "source": "halosync_sources",
    "sink": "halosync_sinks",
    "matcher": "halosync_matchers",
    "alert": "halosync_alerters",
    "webhook": "halosync_webhook_verifiers",
}


def _flatten(result: Iterable[Any] | None) -> list[Any]:
    return list(result or [])
