"""Run every diagnostic check, in the order an operator reads them: this host, the store, the running daemon and
the webhook routes, then each enabled plugin from the network up (DNS, TCP, TLS, clock, then the plugin's own auth
and permission checks and its quota headroom).

Plugins are checked concurrently; every network step has the deadline ``within`` (``--timeout``), a plugin's own
checks a few times that, so a run ends in bounded time even against a silent provider.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import trio

from halosync.config.loader import Config
from halosync.contracts import CheckResult, Sink, Source
from halosync.diagnose import database, local, network, providers, running, webhooks
from halosync.errors import HalosyncError
from halosync.plugin.host import PluginHost
from halosync.plugin.manager import PluginManager

# A plugin's checks() make several requests (token, then a lookup or two), each bounded by the plugin's timeout.
PLUGIN_CHECKS_FACTOR = 3


async def run_checks(config: Config, plugins: PluginManager, *, within: float = 10.0) -> list[CheckResult]:
    results = [local.config_check(config)]
    results += await _in_thread(lambda: local.state_dir_checks(config), "state_dir.writable", within)
    results += await _in_thread(lambda: database.database_checks(config, within), "database.connect", within * 2)
    socket_result = await running.control_socket_check(config, within)
    results.append(socket_result)
    results.append(await running.http_listener_check(config, within, daemon_running=socket_result.status == "pass"))
    results += webhooks.webhook_checks(config, plugins)
    results += await _plugins(config, plugins, within)
    return results


async def _in_thread(fn: Callable[[], list[CheckResult]], name: str, within: float) -> list[CheckResult]:
    """A blocking check in a worker thread; past the deadline it is abandoned (the thread ends on its own)."""
    with trio.move_on_after(within):
        return await trio.to_thread.run_sync(fn, abandon_on_cancel=True)
    return [CheckResult(name, "fail", f"no result within {within:g} s",
                        "the disk or database server does not answer: check it (df -h, systemctl status postgresql)")]


async def _plugins(config: Config, plugins: PluginManager, within: float) -> list[CheckResult]:
    host = PluginHost(config)
    try:
        objects: list[Source | Sink] = [*plugins.sources(host), *plugins.sinks(host)]
    except HalosyncError as exc:
        return [CheckResult("plugins", "fail", str(exc),
                            "fix the plugin's configuration, or add it to [plugins] block")]
    by_plugin: dict[str, list[Callable[[], Awaitable[list[CheckResult]]]]] = {}
    unreachable: set[str] = set()
    for ep in network.endpoints(config):
        by_plugin.setdefault(ep.plugin, []).append(partial(_reach, ep, within, unreachable))
    for obj in objects:
        by_plugin.setdefault(obj.name, []).append(partial(_own, obj, within, unreachable))
    answers: dict[str, list[CheckResult]] = {}

    async def one_plugin(plugin: str) -> None:
        # In order within a plugin: its own checks are pointless once its host is unreachable.
        answers[plugin] = [r for step in by_plugin[plugin] for r in await step()]

    async with trio.open_nursery() as nursery:
        for plugin in by_plugin:
            nursery.start_soon(one_plugin, plugin)
    return [r for plugin in by_plugin for r in answers[plugin]]


async def _reach(ep: network.Endpoint, within: float, unreachable: set[str]) -> list[CheckResult]:
    results = await network.endpoint_checks(ep, within)
    if any(r.status == "fail" for r in results):
        unreachable.add(ep.plugin)
        return results
    return [*results, await network.clock_skew(ep, within)]


async def _own(obj: Source | Sink, within: float, unreachable: set[str]) -> list[CheckResult]:
    if obj.name in unreachable:
        await obj.aclose()
        return [CheckResult(f"{obj.name}.checks", "warn", "skipped: the provider is unreachable",
                            f"fix the {obj.name} lines above first")]
    return await providers.plugin_checks(obj, within * PLUGIN_CHECKS_FACTOR)
