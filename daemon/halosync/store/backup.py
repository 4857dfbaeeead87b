"""Consistent copies of the state store, and putting one back (``halosync backup DEST`` / ``restore SRC``).

SQLite: the online backup API copies a snapshot of one read transaction, so a backup taken while the daemon
writes is consistent (WAL lets the daemon carry on meanwhile). The copy is a single self-contained file.
PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot too) and ``pg_restore`` in one transaction, given
database.url whole as a libpq URI (TLS files and every other parameter included). The connection's password
reaches them through ``PGPASSWORD``, never on a command line.

A restore never starts from a file that fails its own checks, keeps a copy of the store it replaces, and is
verified afterwards (``halosync.diagnose.store_checks``); the order lives in ``halosync.cli.commands.backup``.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from halosync.errors import StoreError
from halosync.store.database import redacted_url

StoreKind = Literal["sqlite", "postgresql"]
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
# The migration history table (halosync.store.migrations_runner): what makes a dump a halosync store.
HISTORY_TABLE = "halosync_schema_migration"
SUFFIX: dict[StoreKind, str] = {"sqlite": ".db", "postgresql": ".dump"}
BACKUP_PREFIX = "halosync-"


@dataclass(frozen=True)
class Copied:
    path: Path
    kind: StoreKind
    size: int
    seconds: float


def store_kind(url: str) -> StoreKind:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgres", "postgresql"):
        return "postgresql"
    raise StoreError(f"database.url {redacted_url(url)!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")


def sqlite_path(url: str) -> Path:
    path = unquote(urlsplit(url).path)
    path = path[1:] if path.startswith("/") else path  # sqlite:////abs/path -> /abs/path
    if path in ("", ":memory:"):
        raise StoreError("an in-memory SQLite store has nothing to back up or restore; set database.url to a file")
    return Path(path)


def file_kind(path: Path) -> StoreKind:
    """What a backup file holds, from its first bytes."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise StoreError(f"{str(path)!r} is neither a SQLite database nor a pg_dump custom-format archive; "
                     "give a file written by `halosync backup`")


def destination(dest: str, kind: StoreKind, *, force: bool) -> Path:
    """``dest`` itself, or a time-stamped file inside it when it is a directory (or written with a trailing /)."""
    path = Path(dest)
    if dest.endswith("/") or path.is_dir():
        if not path.is_dir():
            raise StoreError(f"directory {dest!r} does not exist; create it first (install -d -m 0750 {dest})")
        path = _stamped(path, kind)
    if path.exists() and not force:
        raise StoreError(f"{str(path)!r} already exists; choose another name, or pass --force to replace it")
    if not path.parent.is_dir():
        raise StoreError(f"directory {str(path.parent)!r} does not exist; create it first")
    return path


def _stamped(directory: Path, kind: StoreKind) -> Path:
    """A new time-stamped name in ``directory``: to the microsecond, so two backups within one second (a cron job
    and a hand-run one) never collide; names still sort by age, which ``prune`` relies on."""
    now = time.time()
    micro = int(now % 1 * 1_000_000)
    while True:
        path = directory / f"{BACKUP_PREFIX}{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{micro:06d}" \
                           f"{SUFFIX[kind]}"
        if not path.exists():
            return path
        micro += 1  # taken (a backup this very microsecond): the next one still sorts after it


def prune(directory: Path, kind: StoreKind, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` time-stamped backups of this kind in ``directory``; returns the deleted."""
    found = sorted(directory.glob(f"{BACKUP_PREFIX}*{SUFFIX[kind]}"))  # the time stamp sorts by age
    doomed = found[:-keep] if keep > 0 else []
    for old in doomed:
        old.unlink()
    return doomed


# --- SQLite ------------------------------------------------------------------------------------------


def sqlite_copy(source: Path, dest: Path, *, timeout: float) -> Copied:
    """Copy the database at ``source`` to ``dest`` with the online backup API; ``dest`` appears whole or not at all."""
    if not source.is_file():
        raise StoreError(f"there is no database at {str(source)!r}; check database.url / daemon.state_dir")
    started = time.monotonic()
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        src = sqlite3.connect(source, timeout=timeout)
        try:
            out = sqlite3.connect(partial)
            try:
                src.backup(out)  # all pages in one step: one read transaction, one consistent snapshot
                # A single file that needs no -wal beside it, wherever it is copied to.
                out.execute("PRAGMA journal_mode=DELETE")
            finally:
                out.close()
        finally:
            src.close()
        _fsync(partial)
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"copying {str(source)!r} to {str(dest)!r} failed: {exc}") from exc
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"cannot write {str(dest)!r}: {exc.strerror or exc}") from None
    return Copied(dest, "sqlite", dest.stat().st_size, time.monotonic() - started)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- PostgreSQL --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgTarget:
    """How the PostgreSQL client tools reach the store: a libpq connection URI for ``--dbname`` (database.url with
    every query parameter, but no password), the environment that carries the password, and the schema when the
    URL's search_path names one (then only that schema is dumped and restored)."""

    conninfo: str
    env: dict[str, str]
    schema: str | None


def pg_target(url: str) -> PgTarget:
    """database.url as the client tools take it. The daemon hands the URL's query parameters to libpq as they are
    (halosync.store.database), so they go on unchanged -- ``sslrootcert``, ``sslcert``, ``sslkey``,
    ``target_session_attrs``, ``host=/run/postgresql``, all of them -- and ``pg_dump`` reaches the store the way the
    daemon does. The password, in the user info or a ``password`` parameter, moves to ``PGPASSWORD``: a command
    line is readable by every user of the machine (ps, /proc)."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user, _, userinfo_password = userinfo.partition(":")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    password = unquote(userinfo_password) or next((v for k, v in reversed(pairs) if k == "password"), "")
    kept = [(k, v) for k, v in pairs if k != "password"]
    path = parts.path if parts.path.lstrip("/") else "/postgres"  # the daemon's default database, not libpq's
    # Put together by hand: urlunsplit drops an empty host (postgresql:///db, a Unix socket), which libpq needs.
    netloc = f"{user}@{hostport}" if at else hostport
    query = urlencode(kept, quote_via=quote)  # parse_qsl decoded "+" as a space, as the daemon's driver sees it
    conninfo = f"postgresql://{netloc}{path}" + (f"?{query}" if query else "")
    env = {"PGCONNECT_TIMEOUT": "10"}  # libpq waits for ever by default; a URL's connect_timeout wins over this
    if password:
        env["PGPASSWORD"] = password
    schema = None
    for option in dict(pairs).get("options", "").split():
        if option.startswith("-csearch_path="):
            schema = option.split("=", 1)[1].split(",")[0].strip('"') or None
    return PgTarget(conninfo, env, schema)


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StoreError(f"{name} is not installed, and a PostgreSQL store is backed up and restored with it; "
                         "install the PostgreSQL client tools matching the server's major version "
                         "(Debian: apt install postgresql-client)")
    return path


def _run_pg(argv: list[str], target: PgTarget) -> None:
    env = {**os.environ, **target.env}
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[:800]
        raise StoreError(f"{Path(argv[0]).name} failed (exit {result.returncode}): {detail}")


def pg_dump(url: str, dest: Path) -> Copied:
    target = pg_target(url)
    started = time.monotonic()
    partial = dest.with_name(f".{dest.name}.partial")
    argv = [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
            f"--dbname={target.conninfo}"]
    if target.schema:
        argv.append(f"--schema={target.schema}")
    try:
        _run_pg(argv, target)
        _fsync(partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return Copied(dest, "postgresql", dest.stat().st_size, time.monotonic() - started)


def pg_restore(url: str, src: Path) -> None:
    """Replace the store's tables with the archive's, in one transaction (all or nothing)."""
    target = pg_target(url)
    argv = [pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
            "--single-transaction", "--exit-on-error", f"--dbname={target.conninfo}"]
    if target.schema:
        argv.append(f"--schema={target.schema}")
    _run_pg([*argv, str(src)], target)


def pg_check_archive(src: Path, url: str) -> None:
    """Read the archive's table of contents before anything changes: a truncated or foreign file fails here, and so
    does a dump of another schema (pg_dump qualifies every name, so it would be restored beside the store, not
    into it)."""
    result = subprocess.run([pg_tool("pg_restore"), "--list", str(src)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StoreError(f"{str(src)!r} is not a readable pg_dump archive: {' '.join(result.stderr.split())[:400]}")
    tables = {(m.group(1), m.group(2)) for m in re.finditer(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ", result.stdout, re.M)}
    schema = pg_target(url).schema or "public"
    if (schema, HISTORY_TABLE) not in tables:
        found = sorted({s for s, t in tables if t == HISTORY_TABLE})
        held = f"it holds a halosync store in schema {', '.join(found)}" if found else "it holds no halosync store"
        raise StoreError(f"{str(src)!r} cannot be restored into schema {schema!r}: {held}; nothing was changed")
