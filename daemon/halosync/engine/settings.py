"""The engine's knobs, read from ``[sync]`` and ``[match]`` (re-read on reload)."""

from __future__ import annotations

from dataclasses import dataclass, field

from halosync.config.loader import Config
from halosync.engine.conflict import ConflictPolicy
from halosync.engine.outbox import RetryPolicy


@dataclass(frozen=True)
class EngineSettings:
    interval: float = 300.0
    batch_size: int = 100
    concurrency: int = 2
    dry_run: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    request_timeout: float = 30.0
    mirror_refresh: float = 900.0
    policy: ConflictPolicy = field(default_factory=ConflictPolicy)
    strip_plus_tags: bool = True
    plan_batch: int = 250  # staged leads matched per transaction

    @classmethod
    def from_config(cls, config: Config) -> EngineSettings:
        sync, match = config.section("sync"), config.section("match")
        return cls(
            interval=float(sync.get("interval", 300.0)),
            batch_size=int(sync.get("batch_size", 100)),
            concurrency=int(sync.get("concurrency", 2)),
            dry_run=bool(sync.get("dry_run", False)),
            retry=RetryPolicy(int(sync.get("max_attempts", 8)), float(sync.get("retry_base", 5.0)),
                              float(sync.get("retry_cap", 900.0))),
            request_timeout=float(sync.get("request_timeout", 30.0)),
            mirror_refresh=float(sync.get("mirror_refresh", 900.0)),
            policy=ConflictPolicy.from_config(match.get("conflict")),
            strip_plus_tags=bool(match.get("strip_plus_tags", True)),
        )
