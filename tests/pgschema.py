"""A fresh, empty PostgreSQL schema as a database URL, dropped afterwards: for the PostgreSQL tests and benchmarks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


class Unreachable(Exception):
    pass


def postgres_url() -> str:
    return os.environ.get("HALOSYNC_TEST_POSTGRES_URL", PG_DEFAULT)


@contextmanager
def fresh_schema(prefix: str = "t") -> Iterator[str]:
    """Raises ``Unreachable`` (naming the server) when it cannot connect."""
    import psycopg2

    base = postgres_url()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg2.connect(base)
    except psycopg2.OperationalError as exc:
        raise Unreachable(f"PostgreSQL at {base} is unreachable ({exc})") from None
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()
