"""What a configuration may contain: the core sections, and how plugins declare their own tables.

A ``Field`` describes one key. Sections are plain dicts of fields; a plugin contributes a ``PluginConfigSpec``
through the ``halosync_config_spec`` hook, validated as ``[plugins.NAME]``. Free-form sub-tables (match rules,
alert rules) are ``Field(dict)``/``Field(list)`` with a ``check`` that returns ``(subkey, message)`` problems.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Check = Callable[[Any], list[tuple[str, str]]]


class _Required:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Field:
    type: type | tuple[type, ...]
    default: Any = None
    help: str = ""
    secret: bool = False  # a literal, "env:NAME", "file:/path" or "credential:NAME"; masked everywhere
    url: bool = False  # a provider URL: https, or http to a loopback host only
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    check: Check | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


Section = Mapping[str, Field]


@dataclass(frozen=True)
class PluginConfigSpec:
    """A plugin's table ``[plugins.<name>]``. ``enabled`` (bool, default true) is always accepted."""

    name: str
    fields: Mapping[str, Field] = field(default_factory=dict)
    help: str = ""


LOG_LEVELS = ("trace", "debug", "info", "success", "warning", "error", "critical")

CORE: dict[str, dict[str, Field]] = {
    "daemon": {
        "state_dir": Field(str, "/var/lib/halosync", "where the SQLite database and backups live"),
        "control_socket": Field(str, "/run/halosync/control.sock", "the Unix socket halosyncctl talks to"),
        "control_group": Field(str, "", "group allowed to use the control socket (besides root and the daemon's user)"),
        "control_allowed_uids": Field(list, [], "extra uids allowed on the control socket (tests, tooling)"),
        "control_idle_timeout": Field(float, 300.0, "seconds a control connection may stay silent before it is closed",
                                      minimum=0.1),
        "control_max_clients": Field(int, 16, "control connections served at once; more are refused", minimum=1),
        "log_level": Field(str, "info", "also HALOSYNC_LOG_LEVEL", choices=LOG_LEVELS),
        "log_format": Field(str, "text", "text or json", choices=("text", "json")),
        "log_dir": Field(str, "", "if set, also write app.log and sync.log here (rotated, compressed)"),
        "log_rotation": Field(str, "50 MB", "when a log file in log_dir is rotated"),
        "log_retention": Field(str, "14 days", "how long rotated log files are kept"),
        "shutdown_grace": Field(float, 30.0, "seconds in-flight writes may take to finish on SIGTERM", minimum=0),
        "watchdog_stale_after": Field(float, 60.0, "heartbeat age that stops watchdog pings", minimum=1),
    },
    "database": {
        "url": Field(str, "", "sqlite:////path/halosync.db or postgresql://user@host/db; default: state_dir"),
        "timeout": Field(float, 30.0, "seconds a database operation may wait for a lock", minimum=0.1),
        "pool_size": Field(int, 4, "connections (PostgreSQL); SQLite always uses one writer", minimum=1),
    },
    "http": {
        "listen": Field(str, "127.0.0.1:8787", 'host:port of the health/metrics/webhook listener; "" turns it off'),
        "max_body_bytes": Field(int, 1_048_576, "largest webhook body accepted", minimum=1024),
        "request_timeout": Field(float, 10.0, "seconds a request may take", minimum=0.1),
    },
    "sync": {
        "interval": Field(float, 300.0, "seconds between scheduled source polls", minimum=1),
        "batch_size": Field(int, 100, "leads per sink write batch", minimum=1, maximum=100),
        "concurrency": Field(int, 2, "sink workers", minimum=1, maximum=64),
        "dry_run": Field(bool, False, "compute and log the plan, write nothing"),
        "max_attempts": Field(int, 8, "write attempts before a lead becomes a dead letter", minimum=1),
        "retry_base": Field(float, 5.0, "first retry delay, seconds (doubles each attempt, with jitter)", minimum=0),
        "retry_cap": Field(float, 900.0, "longest retry delay, seconds", minimum=0),
        "request_timeout": Field(float, 30.0, "seconds any provider request may take", minimum=0.1),
        "mirror_refresh": Field(float, 900.0, "seconds between incremental refreshes of the sink mirror", minimum=10),
    },
    "plugins": {
        "allow": Field(list, [], "if not empty, only these plugins are loaded"),
        "block": Field(list, [], "plugins never loaded"),
    },
}
