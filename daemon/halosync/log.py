"""Logging with loguru: stderr by default; under journald (``$JOURNAL_STREAM`` names our stderr) syslog priority
prefixes and no timestamps (journald adds its own); JSON lines when ``log_format = "json"`` (prefixed too under
journald); optional ``app.log``, ``sync.log`` and ``access.log`` in ``log_dir`` with rotation, retention and
compression. The stdlib loggers (httpx, hypercorn, peewee) are routed into loguru.

Channels: records bound with ``channel="sync"`` (``sync_logger()``: pulls, sink batches, dead letters, retries) go
to every sink and also to sync.log; ``channel="access"`` (``access_logger()``: the HTTP listener's requests) go to
access.log only, or, without ``log_dir``, to the main log when the level is debug.

Every secret known to the configuration is masked before a record reaches any sink: one patcher masks the message,
the bound extras and the exception text, which it renders itself (``diagnose=False``: no variable values in
tracebacks) so that no sink formats an unmasked exception.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from loguru import logger

from halosync import secrets
from halosync.errors import ConfigError, ConfigProblem

if TYPE_CHECKING:
    from loguru import Message, Record

    from halosync.config.loader import Config

# syslog priorities, as sd-daemon(3) prefixes them: <3> error ... <7> debug
_PRIORITY = {"TRACE": 7, "DEBUG": 7, "INFO": 6, "SUCCESS": 5, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}
TEXT_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} {level: <8} {name}: {message}"
_INTERNAL = ("priority", "exc_text", "journal", "json")  # extras this module adds; not shown as context


def _patch(record: Record) -> None:
    record["message"] = secrets.redact(record["message"])
    extra = record["extra"]
    if "stdlib_name" in extra:  # a record from a stdlib logger: show that logger's name, not our handler's module
        record["name"] = extra.pop("stdlib_name")
    for key, value in list(extra.items()):
        if isinstance(value, str):
            extra[key] = secrets.redact(value)
    priority = _PRIORITY.get(record["level"].name, 6)
    extra["priority"] = priority
    exc_text = ""
    if record["exception"] is not None:
        kind, value, tb = record["exception"]
        exc_text = secrets.redact("".join(traceback.format_exception(kind, value, tb)).rstrip("\n"))
        record["exception"] = None  # rendered (and masked) here, so no sink formats the raw exception
    extra["exc_text"] = exc_text
    # Journald reads one entry per line: every line carries the priority, or continuation lines become "info".
    text = f"{record['name']}: {record['message']}" + (f"\n{exc_text}" if exc_text else "")
    extra["journal"] = "\n".join(f"<{priority}>{line}" for line in text.split("\n"))
    extra["json"] = json.dumps(_json_record(record, exc_text), default=str, ensure_ascii=False)


def _json_record(record: Record, exc_text: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "time": record["time"].isoformat(),
        "level": record["level"].name,
        "name": record["name"],
        "message": record["message"],
    }
    document.update({k: v for k, v in record["extra"].items() if k not in _INTERNAL})
    if exc_text:
        document["exception"] = exc_text
    return document


def _text_format(record: Record) -> str:
    return TEXT_FORMAT + ("\n{extra[exc_text]}" if record["extra"].get("exc_text") else "") + "\n"


def _journal_format(record: Record) -> str:
    return "{extra[journal]}\n"


def _json_format(record: Record) -> str:
    return "{extra[json]}\n"


def _json_journal_format(record: Record) -> str:
    # One JSON document is one line, so one prefix keeps its priority (`journalctl -p err` finds it).
    return "<{extra[priority]}>{extra[json]}\n"


def under_journald(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is the journal: ``$JOURNAL_STREAM`` ("DEV:INODE") names this very file, as
    systemd.exec(5) says to check (a child whose stderr was redirected inherits the variable but not the journal)."""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in value.split(":"))
        stat = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (stat.st_dev, stat.st_ino) == (device, inode)


def setup(config: Config | None = None, *, level: str | None = None, stream: TextIO | None = None,
          environ: Mapping[str, str] | None = None) -> None:
    """(Re)configure every sink. Safe to call again on reload."""
    if config is not None:
        level = level or config.get("daemon.log_level")
    else:  # before the configuration is read (or without one), the short override still applies
        level = level or os.environ.get("HALOSYNC_LOG_LEVEL", "")
    level = level.upper() if level and level.upper() in _PRIORITY else "INFO"
    fmt = config.get("daemon.log_format") if config else "text"
    out = stream or sys.stderr
    logger.remove()
    logger.configure(patcher=_patch)
    formatter: Callable[[Record], str]
    journald = under_journald(out, environ)
    if fmt == "json":
        formatter = _json_journal_format if journald else _json_format
    elif journald:
        formatter = _journal_format
    else:
        formatter = _text_format
    # Without an explicit stream, write to whatever sys.stderr is at the time of the record (not the object it was
    # at setup), so a replaced stderr (a test's capture, a redirect) never leaves a sink writing to a closed file.
    sink: TextIO | Callable[[Message], None] = stream if stream is not None else _write_stderr
    log_dir = config.get("daemon.log_dir") if config else ""
    main = _main_filter(access_too=not log_dir and level in ("TRACE", "DEBUG"))
    logger.add(sink, level=level, format=formatter, diagnose=False, backtrace=False, colorize=False, filter=main)
    if config is not None and log_dir:
        _add_files(Path(log_dir), config, level, _json_format if fmt == "json" else _text_format)
    _route_stdlib(level)


def _write_stderr(message: Message) -> None:
    sys.stderr.write(message)


def _add_files(directory: Path, config: Config, level: str, formatter: Callable[[Record], str]) -> None:
    common: dict[str, Any] = {
        "rotation": config.get("daemon.log_rotation"),
        "retention": config.get("daemon.log_retention"),
        "compression": "gz",
        "diagnose": False,
        "backtrace": False,
        # Writes happen in loguru's own thread, so a slow disk never stalls the trio loop.
        "enqueue": True,
        "format": formatter,
        "level": level,
        "encoding": "utf-8",
    }
    try:
        logger.add(directory / "app.log", filter=_main_filter(access_too=False), **common)
        logger.add(directory / "sync.log", filter=lambda r: r["extra"].get("channel") == "sync", **common)
        logger.add(directory / "access.log", filter=lambda r: r["extra"].get("channel") == "access",
                   **{**common, "level": "INFO"})
    except OSError as exc:
        origin = config.origin(("daemon", "log_dir"))
        file, _, line = origin.rpartition(":")
        raise ConfigError([ConfigProblem(file or origin, int(line) if line.isdigit() else 0, "daemon.log_dir",
                                         f"cannot write log files in {str(directory)!r}: {exc.strerror or exc}; "
                                         "create it for the daemon's user, or unset log_dir")]) from None


def _main_filter(*, access_too: bool) -> Callable[[Record], bool]:
    """The main sinks (stderr, app.log): everything but the access log, unless ``access_too``."""
    def main(record: Record) -> bool:
        return access_too or record["extra"].get("channel") != "access"

    return main


class _InterceptHandler(logging.Handler):
    """Hands stdlib log records to loguru, keeping the stdlib logger's name and the caller's frame."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.bind(stdlib_name=record.name).opt(exception=record.exc_info or None).log(level, record.getMessage())


def _route_stdlib(level: str) -> None:
    logging.basicConfig(handlers=[_InterceptHandler()], level=0, force=True)
    # httpx logs every request at INFO; that is our metrics' job, not the log's.
    for name in ("httpx", "httpcore", "hpack"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("hypercorn.error", "hypercorn.access"):
        logging.getLogger(name).setLevel(getattr(logging, level, logging.INFO))
    logging.getLogger("peewee").setLevel(logging.INFO)  # DEBUG would log every SQL statement with its values


def sync_logger() -> Any:
    """The logger for lead-level events; with ``log_dir`` set these also go to sync.log."""
    return logger.bind(channel="sync")


def access_logger() -> Any:
    """The logger for the HTTP listener's requests; they go to access.log (see the module)."""
    return logger.bind(channel="access")
