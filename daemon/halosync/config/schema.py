"""What a configuration may contain: the core sections, and how plugins declare their own tables.

A ``Field`` describes one key. Sections are plain dicts of fields; a plugin contributes a ``PluginConfigSpec``
through the ``halosync_config_spec`` hook, validated as ``[plugins.NAME]``. Free-form sub-tables (match rules,
alert rules) are ``Field(dict)``/``Field(list)`` with a ``check`` that returns ``(subkey, message)`` problems.
"""

from __future__ import annotations

import builtins
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
    items: builtins.type | tuple[builtins.type, ...] | None = None  # for a list: the type every element must have

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


CONFLICT_STRATEGIES = ("fill_empty", "source_wins", "sink_wins", "newest_wins")
PERSON_MATCH_RULES = ("email", "linkedin", "name_company")
COMPANY_MATCH_RULES = ("domain", "name")


def _check_rules(allowed: tuple[str, ...]) -> Check:
    def check(value: Any) -> list[tuple[str, str]]:
        bad = [r for r in value if r not in allowed]
        return [("", f"unknown rule {r!r}; rules are {', '.join(allowed)}") for r in bad]

    return check


def _check_conflict(value: Any) -> list[tuple[str, str]]:
    """``{default = "fill_empty", "person.title" = "source_wins", ...}``."""
    problems: list[tuple[str, str]] = []
    for key, strategy in value.items():
        if key != "default" and not key.startswith(("person.", "company.")):
            problems.append((key, 'use "default", "person.<field>" or "company.<field>"'))
        if strategy not in CONFLICT_STRATEGIES:
            problems.append((key, f"unknown strategy {strategy!r}; use one of {', '.join(CONFLICT_STRATEGIES)}"))
    return problems


LOG_LEVELS = ("trace", "debug", "info", "success", "warning", "error", "critical")

CORE: dict[str, dict[str, Field]] = {
    "daemon": {
        "state_dir": Field(str, "/var/lib/halosync", "where the SQLite database and backups live"),
        "control_socket": Field(str, "/run/halosync/control.sock", "the Unix socket halosyncctl talks to"),
        "control_group": Field(str, "", "group allowed to use the control socket (besides root and the daemon's user)"),
        "control_allowed_uids": Field(list, [], "extra uids allowed on the control socket (tests, tooling)", items=int),
        "control_idle_timeout": Field(float, 300.0, "seconds a control connection may stay silent before it is closed",
                                      minimum=0.1),
        "control_max_clients": Field(int, 16, "control connections served at once; more are refused", minimum=1),
        "log_level": Field(str, "info", "also HALOSYNC_LOG_LEVEL", choices=LOG_LEVELS),
        "log_format": Field(str, "text", "text or json", choices=("text", "json")),
        "log_dir": Field(str, "", "if set, also write app.log and sync.log here (rotated, compressed)"),
        "log_rotation": Field(str, "50 MB", 'when a log file in log_dir is rotated: a size ("50 MB"), an age '
                              '("1 week") or a time of day ("00:00")', check=lambda v: _log_file_option("rotation", v)),
        "log_retention": Field((str, int), "14 days", 'how long rotated log files are kept ("14 days"), or how many',
                               check=lambda v: _log_file_option("retention", v)),
        "shutdown_grace": Field(float, 30.0, "seconds in-flight writes may take to finish on SIGTERM", minimum=0),
        "watchdog_stale_after": Field(float, 60.0, "heartbeat age that stops watchdog pings", minimum=1),
    },
    "database": {
        "url": Field(str, "", "sqlite:////path/halosync.db or postgresql://user@host/db; default: state_dir",
                     check=lambda v: _database_url(v)),
        "timeout": Field(float, 30.0, "seconds a database operation may wait for a lock", minimum=0.1),
        "pool_size": Field(int, 4, "connections (PostgreSQL); SQLite always uses one writer", minimum=1),
    },
    "http": {
        "listen": Field(str, "127.0.0.1:8787", 'host:port of the health/metrics/webhook listener; "" turns it off',
                        check=lambda v: _listen_address(v)),
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
    "match": {
        "person_rules": Field(list, list(PERSON_MATCH_RULES), "person matching rules, in order",
                              check=_check_rules(PERSON_MATCH_RULES)),
        "company_rules": Field(list, list(COMPANY_MATCH_RULES), "company matching rules, in order",
                               check=_check_rules(COMPANY_MATCH_RULES)),
        "strip_plus_tags": Field(bool, True,
                                 "treat a+tag@example.com as a@example.com on every domain (always on gmail)"),
        "conflict": Field(dict, {"default": "fill_empty"},
                          'per-field strategy when a sink value differs: {default = "fill_empty", "person.title" = '
                          '"source_wins"}; fill_empty | source_wins | sink_wins | newest_wins', check=_check_conflict),
    },
    "alerts": {
        "enabled": Field(bool, True, "evaluate alert rules and deliver notifications"),
        "interval": Field(float, 15.0, "seconds between rule evaluations", minimum=1),
        "receivers": Field(list, ["log"], "receivers a rule notifies unless it names its own (see [plugins.alerts])",
                           items=str),
        "group_by": Field(list, ["rule"], "alerts sharing these labels (rule, severity, provider, source...) go out "
                          "in one notification", items=str),
        "group_wait": Field(float, 30.0, "seconds a group waits for more alerts before it is sent", minimum=0),
        "repeat_interval": Field(float, 14400.0, "seconds before a still-firing alert is notified again", minimum=60),
        "resolve_after": Field(float, 120.0, "seconds a condition must stay clear before its alert resolves",
                               minimum=0),
        "hysteresis": Field(float, 10.0, "percent under a threshold a value must fall to count as clear",
                            minimum=0, maximum=100),
        "send_resolved": Field(bool, True, "also notify when an alert resolves"),
        "delivery_timeout": Field(float, 30.0, "seconds one delivery to a receiver may take", minimum=0.1),
        "delivery_attempts": Field(int, 5, "tries per notification before it is given up (and logged)", minimum=1),
        "retry_base": Field(float, 5.0, "first delay between delivery tries, seconds (doubles, with jitter)",
                            minimum=0),
        "retry_cap": Field(float, 300.0, "longest delay between delivery tries, seconds", minimum=0),
        "rules": Field(dict, {}, "per-rule settings, [alerts.rules.NAME]: threshold, warning, for, severity, "
                       "receivers, enabled, clear_threshold, window, min_count, resolve_after",
                       check=lambda value: _check_alert_rules(value)),
    },
    # Issue 16: personal data (halosync.engine.suppression, halosync.engine.retention).
    "suppression": {
        "enabled": Field(bool, True, "check every lead against the suppression list and the sources' signals"),
        "entries": Field(list, [], 'people never synced: "email:a@b.com", "domain:b.com", "linkedin:URL", '
                         '"source_id:apollo:ID" (kept in step with the list on start and reload)', items=str),
        "file": Field(str, "", "a file of more entries, one a line (# comments); relative to this file"),
        "labels": Field(list, [], "source labels that mean do not contact (Apollo label ids)", items=str),
        "email_statuses": Field(list, ["unsubscribed", "do_not_contact"],
                                "person.email_status values that mean do not contact", items=str),
    },
    "retention": {
        "raw_records_days": Field(float, 30.0, "days a processed lead keeps its provider's raw record (0: for ever)",
                                  minimum=0),
        "lineage_days": Field(float, 180.0, "days lineage events (trace) are kept (0: for ever)", minimum=0),
        "dead_letters_days": Field(float, 90.0, "days dead letters are kept (0: for ever)", minimum=0),
        "webhook_inbox_days": Field(float, 30.0, "days handled webhook deliveries are kept (0: for ever)", minimum=0),
        "interval": Field(float, 3600.0, "seconds between pruning passes", minimum=1),
        "batch": Field(int, 500, "rows per pruning transaction (small: the pipeline never waits long)", minimum=1,
                       maximum=10_000),
    },
    "plugins": {
        "allow": Field(list, [], "if not empty, only these plugins are loaded", items=str),
        "block": Field(list, [], "plugins never loaded (their tables are ignored)", items=str),
    },
}


def _log_file_option(option: str, value: Any) -> list[tuple[str, str]]:
    """Let loguru judge a rotation/retention value now, so a typo is a config error rather than a crash at start."""
    try:  # loguru's own parser is private; without it, loguru itself reports a bad value when logging starts
        from loguru._file_sink import FileSink

        make = getattr(FileSink, f"_make_{option}_function")
    except (ImportError, AttributeError):
        return []
    try:
        make(value)
    except (ValueError, TypeError) as exc:
        return [("", f"is not a valid log {option}: {exc}")]
    return []


def _check_alert_rules(value: Any) -> list[tuple[str, str]]:
    from halosync.config.alert_rules import check_rules

    return check_rules(value)


def _database_url(value: Any) -> list[tuple[str, str]]:
    if value == "" or str(value).startswith("sqlite:///"):
        return []
    if str(value).startswith(("postgresql://", "postgres://")):
        from halosync.store.database import postgres_driver_missing  # late: loading a config needs no peewee

        missing = postgres_driver_missing()
        return [("", missing)] if missing else []
    return [("", "must be sqlite:///PATH or postgresql://USER@HOST/DB")]  # the value may hold a password


def _listen_address(value: Any) -> list[tuple[str, str]]:
    if value == "":
        return []
    host, _, port = str(value).rpartition(":")
    if host and port.isdigit() and int(port) <= 65535:
        return []
    return [("", f'must be HOST:PORT (e.g. "127.0.0.1:8787", "[::1]:8787") or "" to turn it off, not {value!r}')]
