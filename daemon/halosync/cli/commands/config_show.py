"""``halosync config show [--json]``: the effective configuration, secrets redacted, each value with its origin
(``FILE:LINE``, ``env:NAME`` or ``default``)."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from halosync.cli.common import guarded, load_all, print_json
from halosync.exitcodes import EX_OK


def register(sub: Any) -> None:
    config = sub.add_parser("config", help="show the effective configuration",
                            description="Inspect the effective configuration.")
    nested = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    p = nested.add_parser("show", help="the effective configuration, secrets redacted, with each value's origin",
                          description="Print the effective configuration (file, environment overrides, defaults) "
                          "with secrets redacted and each value's origin.")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=guarded(handle))


def handle(args: argparse.Namespace) -> int:
    config, _ = load_all(args)
    values = config.values()
    if args.json:
        print_json({
            "file": str(config.path) if config.path else None,
            "values": {key: {"value": value, "origin": origin} for key, value, origin in values},
        })
        return EX_OK
    print(f"# {config.path or 'no configuration file: defaults'}")
    rows = [(f"{key} = {_toml(value)}", origin) for key, value, origin in values]
    width = min(max((len(left) for left, _ in rows), default=0), 72)
    for left, origin in rows:
        print(f"{left:<{width}}  # {origin}")
    return EX_OK


def _toml(value: Any) -> str:
    """A value as it would be written in halosync.toml (JSON's strings, numbers and booleans are TOML's too)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)
