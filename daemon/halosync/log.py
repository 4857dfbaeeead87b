"""Logging with loguru: stderr by default; under journald (``$JOURNAL_STREAM``) syslog priority prefixes and no
timestamps (journald adds its own); JSON lines when ``log_format = "json"``; optional ``app.log`` and ``sync.log``
in ``log_dir`` with rotation, retention and compression. The stdlib loggers of httpx and hypercorn are routed
into loguru. Every secret known to the configuration is masked before a record reaches any sink.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from halosync import secrets

if TYPE_CHECKING:
    from loguru import Record

    from halosync.config.loader import Config

# syslog priorities, as sd-daemon(3) prefixes them: <3> error ... <7> debug
_PRIORITY = {"TRACE": 7, "DEBUG": 7, "INFO": 6, "SUCCESS": 5, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}
TEXT_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} {level: <8} {name}: {message}"
JOURNAL_FORMAT = "<{extra[priority]}>{level}: {message}"


def _patch(record: Record) -> None:
    record["message"] = secrets.redact(record["message"])
    record["extra"]["priority"] = _PRIORITY.get(record["level"].name, 6)
    if record["exception"] is not None and record["exception"].value is not None:
        exc = record["exception"].value
        if exc.args and any(isinstance(a, str) and secrets.redact(a) != a for a in exc.args):
            exc.args = tuple(secrets.redact(a) if isinstance(a, str) else a for a in exc.args)


def setup(config: Config | None = None, *, level: str | None = None, stream: Any = None) -> None:
    """(Re)configure every sink. Safe to call again on reload."""
    level = (level or (config.get("daemon.log_level") if config else None) or "info").upper()
    fmt = config.get("daemon.log_format") if config else "text"
    logger.remove()
    logger.configure(patcher=_patch)
    out = stream or sys.stderr
    if fmt == "json":
        logger.add(out, level=level, serialize=True, diagnose=False, backtrace=False)
    elif os.environ.get("JOURNAL_STREAM") and stream is None:
        logger.add(out, level=level, format=JOURNAL_FORMAT, diagnose=False, backtrace=False, colorize=False)
    else:
        logger.add(out, level=level, format=TEXT_FORMAT, diagnose=False, backtrace=False, colorize=False)
    log_dir = config.get("daemon.log_dir") if config else ""
    if log_dir:
        directory = Path(log_dir)
        common: dict[str, Any] = {
            "rotation": config.get("daemon.log_rotation") if config else "50 MB",
            "retention": config.get("daemon.log_retention") if config else "14 days",
            "compression": "gz", "diagnose": False, "backtrace": False, "enqueue": True,
            "serialize": fmt == "json", "level": level,
        }
        logger.add(directory / "app.log", **common)
        logger.add(directory / "sync.log", filter=lambda r: r["extra"].get("channel") == "sync", **common)
    _route_stdlib(level)


class _InterceptHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def _route_stdlib(level: str) -> None:
    logging.basicConfig(handlers=[_InterceptHandler()], level=0, force=True)
    # httpx logs every request at INFO; that is our metrics' job, not the log's.
    for name in ("httpx", "httpcore", "hpack"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("hypercorn.error", "hypercorn.access", "peewee"):
        logging.getLogger(name).setLevel(getattr(logging, level, logging.INFO) if name != "peewee" else logging.INFO)


def sync_logger() -> Any:
    """The logger for lead-level events; with ``log_dir`` set these also go to sync.log."""
    return logger.bind(channel="sync")
