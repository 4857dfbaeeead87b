"""The public plugin surface (``halosync.plugin``): everything in it imports, the contracts have one home and the
old import paths still reach them, the matcher hook's results are checked, and the import contract that keeps the
built-in plugins on the surface covers every internal module."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import pytest

import halosync
import halosync.plugin as surface
from halosync import contracts
from halosync.config import loader
from halosync.engine import matching
from halosync.errors import PluginError
from halosync.plugin import host
from halosync.plugin.manager import PluginManager

ROOT = Path(__file__).resolve().parents[2]


def test_every_public_name_is_importable_from_halosync_plugin() -> None:
    assert surface.__all__ == sorted(set(surface.__all__), key=surface.__all__.index)  # no name twice
    missing = [name for name in surface.__all__ if not hasattr(surface, name)]
    assert missing == []
    for name in ("Source", "Sink", "Matcher", "Alerter", "WebhookVerifier", "WebhookParser", "hookimpl",
                 "PluginHost", "PluginConfigSpec", "ProviderError", "RateWindow", "HeaderQuota",
                 "RollingWindowLimiter", "CircuitBreaker", "full_jitter", "serve", "Request"):
        assert name in surface.__all__, f"{name} belongs to the public plugin surface"


def test_the_contracts_live_in_contracts_and_the_old_paths_still_import_them() -> None:
    assert matching.Matcher is contracts.Matcher
    assert matching.CandidateIndex is contracts.CandidateIndex
    assert host.LeadEvent is contracts.LeadEvent
    assert surface.Matcher is contracts.Matcher and surface.LeadEvent is contracts.LeadEvent
    assert halosync.hookimpl is surface.hookimpl


def test_the_import_contract_forbids_every_internal_module() -> None:
    """A new internal module must be added to the contract, or the built-in plugins could start importing it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"]
                    if c.get("source_modules") == ["halosync_apollo", "halosync_halopsa", "halosync_builtin"])
    # Every module of halosync, present or future, by wildcard; halosync.plugin alone let through.
    assert contract["forbidden_modules"] == ["halosync.*"]
    assert {rule.split(" -> ")[1] for rule in contract["ignore_imports"]} == {"halosync.plugin"}
    assert {f"halosync.{m.name}" for m in pkgutil.iter_modules(halosync.__path__)} > {"halosync.plugin"}


class NotAMatcher:
    name = "half"

    def match_company(self, keys: object, index: object) -> None:
        return None


class HalfMatcherPlugin:
    @surface.hookimpl
    def halosync_matchers(self, host: surface.PluginHost) -> list[object]:
        return [NotAMatcher()]


def test_a_matcher_missing_a_method_is_refused_naming_its_plugin(tmp_path: Path) -> None:
    pm = PluginManager()
    pm.register(HalfMatcherPlugin(), "halfmatch")
    path = tmp_path / "halosync.toml"
    path.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n', encoding="utf-8")
    config = loader.load(path, pm.config_specs())
    with pytest.raises(PluginError, match=r"halfmatch.*not a Matcher"):
        pm.matchers(surface.PluginHost(config))
