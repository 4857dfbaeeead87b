"""``halosync check-config``: validate the configuration and the installed plugins; print every problem as
``FILE:LINE: key.path: message`` and exit 78, or print one "ok" line and exit 0. No configuration file at all is
a problem too (exit 78): it says where it looked. ``--json``: ``{"ok", "file", "looked_for", "problems": [{"file",
"line", "key", "message"}], "enabled_plugins"}`` on stdout, with the same exit code.

A plugin that fails to import is a problem here too (``plugins.NAME: failed to import ...``, exit 78): `run` would
refuse to start with it installed, and the cure is the same kind of change (fix it, uninstall it, or block it).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Any

from halosync.cli.common import allow_block, config_path, guarded, print_json
from halosync.config import loader
from halosync.config.locate import key_lines, line_of
from halosync.errors import ConfigError, ConfigProblem
from halosync.exitcodes import EX_CONFIG, EX_OK
from halosync.plugin.manager import PluginManager


def register(sub: Any) -> None:
    p = sub.add_parser("check-config", help="validate the configuration (exit 0, or 78 with every problem)",
                       description="Validate the configuration file and the installed plugins. Prints each "
                       "problem as FILE:LINE: key.path: message and exits 78; prints one ok line and exits 0. "
                       "With no configuration file found at all, says where it looked and exits 78.")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout (same exit code)")
    p.set_defaults(handler=guarded(handle))


def looked_for(args: argparse.Namespace) -> list[str]:
    """Where the configuration is looked for, in order, as this process sees them (absolute paths)."""
    out = []
    if getattr(args, "config", None):
        out.append(f"--config {args.config}")
    env = os.environ.get("HALOSYNC_CONFIG")
    out.append(f"$HALOSYNC_CONFIG ({env})" if env else "$HALOSYNC_CONFIG (not set)")
    out.extend(str(candidate.absolute()) for candidate in loader.SEARCH_PATH)
    return out


def handle(args: argparse.Namespace) -> int:
    path = config_path(args)
    shown = str(path) if path else "<defaults>"
    allow, block = allow_block(path)
    plugins = PluginManager()
    plugins.load_entry_points(allow=allow, block=block, strict=False)
    specs = plugins.config_specs(strict=False)
    problems = [_plugin_problem(shown, path, failure.plugin, str(failure)) for failure in plugins.failures]
    config = None
    try:
        config = loader.load(path, specs, unavailable_plugins=[failure.plugin for failure in plugins.failures])
    except ConfigError as exc:
        problems.extend(exc.problems)
    enabled = config.enabled_plugins() if config is not None else []
    if path is None and not problems:
        problems.append(ConfigProblem("<none>", 0, "config", "no configuration file found (looked for: "
                                      + ", ".join(looked_for(args)) + "); write one from halosync.toml.example, "
                                      "or name it with --config or $HALOSYNC_CONFIG"))
    if args.json:
        print_json({"ok": not problems, "file": str(path) if path else None, "looked_for": looked_for(args),
                    "problems": [dataclasses.asdict(p) for p in sorted(problems, key=lambda p: (p.line, p.key))],
                    "enabled_plugins": enabled})
        return EX_CONFIG if problems else EX_OK
    if problems:
        for problem in sorted(problems, key=lambda p: (p.line, p.key)):
            print(problem, file=sys.stderr)
        return EX_CONFIG
    print(f"{shown}: ok ({len(enabled)} plugin(s) enabled{': ' + ', '.join(enabled) if enabled else ''})")
    return EX_OK


def _plugin_problem(shown: str, path: Any, plugin: str, message: str) -> ConfigProblem:
    """Point at the plugin's table when the file has one (the place an operator would switch it off)."""
    try:
        lines = key_lines(path.read_text(encoding="utf-8")) if path is not None else {}
    except (OSError, UnicodeDecodeError):
        lines = {}
    line = lines.get(("plugins", plugin)) or line_of(lines, ("plugins",))
    return ConfigProblem(shown, line, f"plugins.{plugin}", message.removeprefix(f"plugin {plugin!r}: "))
