"""Domain and e-mail keys stored in their ``xn--`` (ASCII) form are re-keyed to the Unicode form.

Matching keys normalise internationalised domain names with IDNA since issue 19 (``engine/normalize.py``:
``xn--bcher-kva.de`` and ``bücher.de`` are both ``bücher.de``), but keys stored before that kept whatever spelling
the lead came with: a company stored as ``xn--bcher-kva.de`` never matched a new lead from ``bücher.de``. This
re-keys ``company.domain_key``, ``person.email_key`` (its domain part only: the local part is as it was keyed,
``+tags`` and all) and the sink mirror's ``domain_key`` and ``email_key``.

Two stored identities may share a key afterwards (one stored as ``xn--...``, one later as Unicode): both stay, and
the matcher sees both as candidates, as it does for any two companies on one domain. Nothing is merged here.

The host rule is frozen in this file (not imported from ``normalize``), so the migration does tomorrow what it does
today: UTS-46 mapping and IDNA 2008 to Unicode labels, then NFKC and case folding; a host IDNA refuses stays as it
is. ``down`` puts the ``xn--`` spellings back only where this migration changed them (recorded in ``kv``).
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from typing import Any

import idna

# (table, column, kind): "domain" keys are a host; "email" keys are local@host, and only the host is re-keyed.
COLUMNS = (("company", "domain_key", "domain"), ("person", "email_key", "email"),
           ("mirror_record", "domain_key", "domain"), ("mirror_record", "email_key", "email"))
UNDO_KEY = "migration.0005_idna_keys.undo"  # kv: the rows changed, for down
BATCH = 500
_SPACES = re.compile(r"\s+")


def unicode_host(host: str) -> str:
    try:
        decoded = idna.decode(host, uts46=True)
    except (idna.IDNAError, UnicodeError, ValueError):
        return host
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", decoded).casefold()).strip()


def rekeyed(value: str, kind: str) -> str:
    if kind == "domain":
        return unicode_host(value)
    local, at, host = value.rpartition("@")
    return f"{local}{at}{unicode_host(host)}" if at else value


def up(migrator: Any, db: Any) -> None:
    execute: Any = db.execute_sql  # peewee's is untyped
    mark = db.param
    undo: list[list[Any]] = []
    for table, column, kind in COLUMNS:
        rows = execute(f'SELECT "id", "{column}" FROM "{table}" WHERE "{column}" LIKE {mark}',
                       ("%xn--%",)).fetchall()
        changed = [(rekeyed(old, kind), row_id, old) for row_id, old in rows if rekeyed(old, kind) != old]
        for start in range(0, len(changed), BATCH):
            for new, row_id, _old in changed[start:start + BATCH]:
                execute(f'UPDATE "{table}" SET "{column}" = {mark} WHERE "id" = {mark}', (new, row_id))
        undo.extend([table, column, row_id, old] for _new, row_id, old in changed)
    if undo:
        execute(f'DELETE FROM "kv" WHERE "key" = {mark}', (UNDO_KEY,))
        execute(f'INSERT INTO "kv" ("key", "value", "updated_at") VALUES ({mark}, {mark}, {mark})',
                (UNDO_KEY, json.dumps(undo), time.time()))


def down(migrator: Any, db: Any) -> None:
    execute: Any = db.execute_sql
    mark = db.param
    row = execute(f'SELECT "value" FROM "kv" WHERE "key" = {mark}', (UNDO_KEY,)).fetchone()
    if row is None:
        return
    for table, column, row_id, old in json.loads(row[0]):
        execute(f'UPDATE "{table}" SET "{column}" = {mark} WHERE "id" = {mark}', (old, row_id))
    execute(f'DELETE FROM "kv" WHERE "key" = {mark}', (UNDO_KEY,))
