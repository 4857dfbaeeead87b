"""The ``[plugins.apollo]`` table: its declaration (for validation and ``config show``) and its typed form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from halosync.plugin import REQUIRED, Field, PluginConfigSpec


def _ids(value: Any) -> list[tuple[str, str]]:
    if not all(isinstance(v, str) and v for v in value):
        return [("", "must be a list of Apollo ids (strings)")]
    return []


CONFIG_SPEC = PluginConfigSpec(
    name="apollo",
    help="Apollo.io contacts as a lead source",
    fields={
        "base_url": Field(str, "https://api.apollo.io", "Apollo's API host (https; http only for loopback)", url=True),
        "api_key": Field(str, REQUIRED, "a master API key (Settings > Integrations > API)", secret=True),
        "per_page": Field(int, 100, "contacts per search request", minimum=10, maximum=100),
        "label_ids": Field(list, [], "only contacts with one of these list/label ids", check=_ids),
        "stage_ids": Field(list, [], "only contacts in one of these contact stages", check=_ids),
        "keywords": Field(str, "", "only contacts matching these keywords (Apollo's q_keywords)"),
        "timeout": Field(float, 0.0, "seconds one request may take; 0 uses sync.request_timeout", minimum=0),
        "quota_margin": Field(float, 0.02, "share of each quota window left unused for other users of the key",
                              minimum=0, maximum=0.5),
        "max_quota_wait": Field(float, 3600.0, "longest wait for a quota window inside one pull (an hour covers the "
                                "minute and hour windows); a longer one, such as a used-up day, ends the pull with a "
                                "rate-limit error and the daemon polls again later", minimum=1),
        "max_attempts": Field(int, 5, "tries per request on timeouts, 5xx and 429", minimum=1, maximum=20),
        "enrichment_webhooks": Field(bool, False, "accept enrichment results by webhook (token in the URL)"),
        "public_base_url": Field(str, "", "this daemon's public https URL, for enrichment callbacks"),
    },
)


@dataclass(frozen=True)
class ApolloSettings:
    api_key: str = field(repr=False)  # never shown
    base_url: str = "https://api.apollo.io"
    per_page: int = 100
    label_ids: tuple[str, ...] = ()
    stage_ids: tuple[str, ...] = ()
    keywords: str = ""
    timeout: float = 30.0
    quota_margin: float = 0.02
    max_quota_wait: float = 3600.0
    max_attempts: int = 5
    enrichment_webhooks: bool = False
    public_base_url: str = ""

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, default_timeout: float = 30.0) -> ApolloSettings:
        """From the validated ``[plugins.apollo]`` table (secrets already resolved)."""
        return cls(
            api_key=str(table["api_key"]),
            base_url=str(table.get("base_url") or cls.base_url).rstrip("/"),
            per_page=int(table.get("per_page", cls.per_page)),
            label_ids=tuple(table.get("label_ids") or ()),
            stage_ids=tuple(table.get("stage_ids") or ()),
            keywords=str(table.get("keywords") or ""),
            timeout=float(table.get("timeout") or 0.0) or default_timeout,
            quota_margin=float(table.get("quota_margin", cls.quota_margin)),
            max_quota_wait=float(table.get("max_quota_wait", cls.max_quota_wait)),
            max_attempts=int(table.get("max_attempts", cls.max_attempts)),
            enrichment_webhooks=bool(table.get("enrichment_webhooks", False)),
            public_base_url=str(table.get("public_base_url") or ""),
        )
