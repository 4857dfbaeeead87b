"""Create the pipeline's tables.

This creates the schema from ``halosync.store.models`` as of the first release. Once a release has shipped, a
change to a table is a new numbered migration, and this file gets a frozen copy of the models it created.
"""

from __future__ import annotations

from typing import Any

from halosync.store.models import MODELS


def up(migrator: Any, db: Any) -> None:
    with db.bind_ctx(MODELS):
        db.create_tables(MODELS)


def down(migrator: Any, db: Any) -> None:
    with db.bind_ctx(MODELS):
        db.drop_tables(MODELS)
