"""The plugin host: loads plugins through the ``halosync`` entry-point group and offers one typed method per hook,
so core code never calls ``pm.hook.*`` directly.

Built-in plugins (Apollo, HaloPSA, the matcher, alerts, the webhook source) are registered through the same entry
points as any third-party plugin. ``HALOSYNC_DISABLE_PLUGIN_AUTOLOAD=1`` skips entry points (tests register what
they need by hand), and ``[plugins] allow/block`` filter what is imported.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pluggy
from loguru import logger

from halosync._markers import ENTRY_POINT_GROUP, PROJECT
from halosync.config.schema import PluginConfigSpec
from halosync.contracts import Alerter, LeadEvent, Matcher, Sink, Source, WebhookVerifier
from halosync.errors import PluginError, PluginLoadError
from halosync.plugin import spec
from halosync.plugin.host import PluginHost

AUTOLOAD_OFF = "HALOSYNC_DISABLE_PLUGIN_AUTOLOAD"

# The kinds `halosync plugins` shows, by the registration hook that makes a plugin one.
KINDS = {
    "source": "halosync_sources",
    "sink": "halosync_sinks",
    "matcher": "halosync_matchers",
    "alerter": "halosync_alerters",
    "webhook": "halosync_webhook_verifiers",
}


@dataclass(frozen=True)
class PluginInfo:
    """One loaded plugin, as ``halosync plugins`` shows it."""

    name: str
    version: str
    distribution: str
    origin: str  # the file the plugin was imported from
    hooks: tuple[str, ...]
    kinds: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kinds": list(self.kinds), "version": self.version,
                "distribution": self.distribution, "hooks": list(self.hooks), "origin": self.origin}


class PluginManager:
    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(spec)
        self._dists: dict[str, tuple[str, str]] = {}
        # Plugins that could not be loaded when loading with ``strict=False`` (for `check-config`).
        self.failures: list[PluginLoadError] = []

    # --- loading -----------------------------------------------------------------------------------

    def load_entry_points(self, allow: Sequence[str] = (), block: Sequence[str] = (), *, strict: bool = True) -> None:
        """Import and register every plugin of the entry-point group, then verify their hooks.

        With ``strict`` the first plugin that fails raises ``PluginLoadError`` naming it; without, every failure
        is kept in ``failures`` and the other plugins still load (so `check-config` can report everything).
        """
        if os.environ.get(AUTOLOAD_OFF) == "1":
            return
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            # The same distribution can be seen twice on sys.path (an egg-info beside the installed one).
            if (allow and ep.name not in allow) or ep.name in block or self._pm.has_plugin(ep.name):
                continue
            try:
                self._load_one(ep)
            except PluginLoadError as exc:
                if strict:
                    raise
                self.failures.append(exc)
        self.check()

    def _load_one(self, ep: importlib.metadata.EntryPoint) -> None:
        try:
            module = ep.load()
        except Exception as exc:
            raise PluginLoadError(
                ep.name, f"failed to import {ep.value!r}: {type(exc).__name__}: {exc}. "
                f"Fix or uninstall the plugin, or add {ep.name!r} to [plugins] block"
            ) from exc
        dist = ep.dist
        self.register(module, ep.name, (dist.name, dist.version) if dist else ("", ""))

    def register(self, plugin: ModuleType | object, name: str, dist: tuple[str, str] = ("", "")) -> None:
        """Register a plugin object or module under ``name`` (what ``[plugins.NAME]`` configures)."""
        try:
            self._pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginLoadError(name, f"cannot be registered: {_one_line(exc)}") from exc
        self._dists[name] = dist

    def check(self) -> None:
        """Refuse hook implementations that match no hookspec (a typo in a hook name would otherwise be ignored)."""
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self._pm.get_name(exc.plugin) or "?"
            raise PluginLoadError(name, f"{_one_line(exc)}; docs/plugins.md lists the hooks") from exc

    def names(self) -> list[str]:
        return sorted(name for name, _ in self._pm.list_name_plugin())

    def info(self) -> list[PluginInfo]:
        out = []
        for name, plugin in sorted(self._pm.list_name_plugin(), key=lambda item: item[0]):
            hooks = tuple(sorted(h.name for h in self._pm.get_hookcallers(plugin) or ()))
            dist, version = self._dists.get(name, ("", ""))
            module = plugin if isinstance(plugin, ModuleType) else sys.modules.get(type(plugin).__module__)
            origin = getattr(module, "__file__", None) or getattr(module, "__name__", "?")
            version = version or str(getattr(module, "__version__", ""))
            kinds = tuple(kind for kind, hook in KINDS.items() if hook in hooks)
            out.append(PluginInfo(name, version, dist, str(origin), hooks, kinds))
        return out

    # --- one typed method per hook ------------------------------------------------------------------

    def config_specs(self, *, strict: bool = True) -> list[PluginConfigSpec]:
        """Every plugin's configuration table. A plugin failing here cannot be configured: a load error, raised,
        or without ``strict`` kept in ``failures`` (that plugin then has no table)."""
        out: list[PluginConfigSpec] = []
        for impl in self._impls("halosync_config_spec"):
            try:
                spec = self._spec_of(impl)
            except PluginLoadError as exc:
                if strict:
                    raise
                self.failures.append(exc)
                continue
            if spec is not None:
                out.append(spec)
        return out

    def _spec_of(self, impl: pluggy.HookImpl) -> PluginConfigSpec | None:
        name = impl.plugin_name
        try:
            result = self._call(impl, "halosync_config_spec")
        except PluginError as exc:
            raise PluginLoadError(name, str(exc).removeprefix(f"plugin {name!r}: ")) from exc
        if result is not None and not isinstance(result, PluginConfigSpec):
            raise PluginLoadError(name, f"halosync_config_spec returned {result!r}, not a PluginConfigSpec")
        # Through an entry point, [plugins.NAME], allow/block and `halosync plugins` must all use one name.
        # (Tests may register a plugin under any name.)
        if result is not None and result.name != name and self._dists.get(name, ("", ""))[0]:
            raise PluginLoadError(name, f"halosync_config_spec declares [plugins.{result.name}], but the plugin "
                                  f"is registered as {name!r}; name the spec after the entry point")
        return result

    def sources(self, host: PluginHost) -> list[Source]:
        return self._collect("halosync_sources", host, Source)

    def sinks(self, host: PluginHost) -> list[Sink]:
        return self._collect("halosync_sinks", host, Sink)

    def matchers(self, host: PluginHost) -> list[Matcher]:
        return self._collect("halosync_matchers", host, Matcher)

    def alerters(self, host: PluginHost) -> list[Alerter]:
        return self._collect("halosync_alerters", host, Alerter)

    def webhook_verifiers(self, host: PluginHost) -> list[WebhookVerifier]:
        return self._collect("halosync_webhook_verifiers", host, WebhookVerifier)

    def lead_synced(self, event: LeadEvent) -> None:
        self._notify("halosync_lead_synced", event)

    def lead_failed(self, event: LeadEvent) -> None:
        self._notify("halosync_lead_failed", event)

    # --- plumbing -----------------------------------------------------------------------------------

    def _impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        """The implementations of a hook in registration order (pluggy calls them last-registered first)."""
        return list(getattr(self._pm.hook, hook_name).get_hookimpls())

    @staticmethod
    def _call(impl: pluggy.HookImpl, hook_name: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation, so that a failure names the plugin that failed."""
        try:
            return impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(impl.plugin_name, f"{hook_name} failed: {type(exc).__name__}: {exc}") from exc

    def _collect(self, hook_name: str, host: PluginHost, kind: Any) -> list[Any]:
        """Call a registration hook plugin by plugin; every returned object must satisfy ``kind`` (a runtime-
        checkable Protocol), so a plugin returning the wrong thing is named at start, not deep in the engine."""
        out: list[Any] = []
        for impl in self._impls(hook_name):
            for obj in _flatten(self._call(impl, hook_name, host=host)):
                if kind is not None and not isinstance(obj, kind):
                    raise PluginError(impl.plugin_name, f"{hook_name} returned {obj!r}, which is not a "
                                      f"{kind.__name__} (see halosync.contracts)")
                out.append(obj)
        return out

    def _notify(self, hook_name: str, event: LeadEvent) -> None:
        for impl in self._impls(hook_name):
            try:
                self._call(impl, hook_name, event=event)
            except PluginError:  # a notification must never break the pipeline; the log says who failed
                logger.opt(exception=True).warning("plugin {} failed in {}", impl.plugin_name, hook_name)


def _one_line(exc: Exception) -> str:
    """pluggy's messages span lines; ours are one line a user can act on."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def _flatten(result: Iterable[Any] | None) -> list[Any]:
    return list(result or [])
