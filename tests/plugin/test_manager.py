"""The plugin host: typed hook calls that name the plugin at fault, hook validation, the plugins listing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from halosync import hookimpl
from halosync.config import loader
from halosync.config.schema import Field, PluginConfigSpec
from halosync.contracts import CheckResult, RateWindow, SourcePage
from halosync.errors import PluginError, PluginLoadError
from halosync.plugin.host import LeadEvent, PluginHost
from halosync.plugin.manager import PluginManager


class ListSource:
    def __init__(self, name: str) -> None:
        self.name = name

    async def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        yield SourcePage([], None)

    async def checks(self) -> list[CheckResult]:
        return []

    def rate_limits(self) -> list[RateWindow]:
        return []

    async def aclose(self) -> None:
        pass


class SourcePlugin:
    def __init__(self, name: str) -> None:
        self.name = name
        self.events: list[LeadEvent] = []

    @hookimpl
    def halosync_config_spec(self) -> PluginConfigSpec:
        return PluginConfigSpec(self.name, fields={"size": Field(int, 1)})

    @hookimpl
    def halosync_sources(self, host: PluginHost) -> list[Any]:
        return [] if host.settings(self.name) is None else [ListSource(self.name)]

    @hookimpl
    def halosync_lead_synced(self, event: LeadEvent) -> None:
        self.events.append(event)


def host_for(tmp_path: Path, text: str, pm: PluginManager) -> PluginHost:
    path = tmp_path / "halosync.toml"
    path.write_text(text)
    return PluginHost(loader.load(path, pm.config_specs(), environ={}))


def test_only_enabled_plugins_answer_in_registration_order(tmp_path: Path) -> None:
    pm = PluginManager()
    for name in ("first", "second", "third"):
        pm.register(SourcePlugin(name), name)
    pm.check()
    host = host_for(tmp_path, "[plugins.third]\n[plugins.first]\n[plugins.second]\nenabled = false\n", pm)
    assert [s.name for s in pm.sources(host)] == ["first", "third"]
    assert pm.sinks(host) == [] and pm.alerters(host) == []


def test_a_wrong_return_names_the_plugin(tmp_path: Path) -> None:
    class Bad:
        @hookimpl
        def halosync_sinks(self, host: PluginHost) -> list[Any]:
            return ["not a sink"]

    pm = PluginManager()
    pm.register(Bad(), "bad")
    with pytest.raises(PluginError, match=r"^plugin 'bad': halosync_sinks returned 'not a sink', which is not a Sink"):
        pm.sinks(host_for(tmp_path, "", pm))


def test_a_failing_hook_names_the_plugin(tmp_path: Path) -> None:
    class Crashing:
        @hookimpl
        def halosync_sources(self, host: PluginHost) -> list[Any]:
            raise KeyError("region")

    pm = PluginManager()
    pm.register(Crashing(), "crashy")
    with pytest.raises(PluginError, match=r"^plugin 'crashy': halosync_sources failed: KeyError: 'region'$"):
        pm.sources(host_for(tmp_path, "", pm))


def test_a_misspelt_hook_is_refused_at_load() -> None:
    class Typo:
        @hookimpl
        def halosync_sourcse(self, host: PluginHost) -> list[Any]:
            return []

    pm = PluginManager()
    pm.register(Typo(), "typo")
    with pytest.raises(PluginLoadError, match=r"^plugin 'typo': .*halosync_sourcse") as caught:
        pm.check()
    assert caught.value.exit_code == 78


def test_a_hook_with_unknown_arguments_is_refused() -> None:
    class WrongArgs:
        @hookimpl
        def halosync_sources(self, host: PluginHost, nursery: object) -> list[Any]:
            return []

    pm = PluginManager()
    with pytest.raises(PluginLoadError, match=r"^plugin 'wrongargs': cannot be registered: .*nursery"):
        pm.register(WrongArgs(), "wrongargs")


def test_config_spec_must_be_named_after_the_entry_point() -> None:
    pm = PluginManager()
    pm.register(SourcePlugin("other"), "mine", ("halosync-mine", "1.0"))
    with pytest.raises(PluginLoadError, match=r"declares \[plugins.other\], but the plugin is registered as 'mine'"):
        pm.config_specs()


def test_notification_failures_are_logged_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    from halosync import log

    class Failing:
        @hookimpl
        def halosync_lead_failed(self, event: LeadEvent) -> None:
            raise RuntimeError("pager is down")

    listener = SourcePlugin("listener")
    pm = PluginManager()
    pm.register(Failing(), "failing")
    pm.register(listener, "listener")
    log.setup()
    event = LeadEvent("apollo", "p-1", "halopsa", "created", sink_id="42")
    pm.lead_synced(event)
    pm.lead_failed(LeadEvent("apollo", "p-2", "halopsa", "failed", detail="no email"))
    assert listener.events == [event]
    err = capsys.readouterr().err
    assert "plugin failing failed in halosync_lead_failed" in err and "RuntimeError: pager is down" in err


def test_info_lists_hooks_kinds_and_origin() -> None:
    pm = PluginManager()
    pm.register(SourcePlugin("lister"), "lister")
    [info] = pm.info()
    assert info.name == "lister" and info.kinds == ("source",)
    assert info.hooks == ("halosync_config_spec", "halosync_lead_synced", "halosync_sources")
    assert info.origin == __file__
