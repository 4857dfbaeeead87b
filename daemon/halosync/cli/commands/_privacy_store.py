"""The store as the offline privacy commands (suppress, forget, export-person) open it: configured, migrated."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from halosync import log
from halosync.cli.common import load_all
from halosync.config.loader import Config
from halosync.errors import StoreError
from halosync.store.gateway import Store
from halosync.store.migrations_runner import Migrations


@contextmanager
def opened(args: argparse.Namespace) -> Iterator[tuple[Config, Store]]:
    config, _ = load_all(args)
    log.setup(config, level="warning")
    store = Store(config.database_url, timeout=config.get("database.timeout"), pool_size=1)
    try:
        migrations = Migrations(store)
        if store.call(migrations.current) < store.call(migrations.latest):
            raise StoreError(f"the store {store.shown_url} is not at the latest schema; run `halosync migrate up` "
                             "(or start the daemon once) first")
        yield config, store
    finally:
        store.close()
