"""The sync engine: staging, matching, the outbox and its sink workers, the sink mirror, lineage, dry runs."""

from __future__ import annotations
