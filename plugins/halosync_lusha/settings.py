"""The ``[plugins.lusha]`` table: its declaration (for validation and ``config show``) and its typed form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from halosync.plugin import REQUIRED, Field, PluginConfigSpec

PLANS = ("", "pro", "premium", "scale", "legacy")


def _list_ids(value: Any) -> list[tuple[str, str]]:
    if not value:
        return [("", "name at least one Lusha contact list (its id, from the list's URL in Lusha)")]
    if not all(isinstance(v, str | int) and str(v).strip() for v in value):
        return [("", "must be a list of Lusha contact list ids (strings)")]
    return []


CONFIG_SPEC = PluginConfigSpec(
    name="lusha",
    help="Lusha contact lists as a lead source (and Lusha's signed webhooks)",
    fields={
        "base_url": Field(str, "https://api.lusha.com", "Lusha's API host (https; http only for loopback)", url=True),
        "api_key": Field(str, REQUIRED, "the account's API key (Lusha: Settings > API)", secret=True),
        "list_ids": Field(list, REQUIRED, "the contact lists (contacts tables) to sync, by id", check=_list_ids),
        "page_size": Field(int, 100, "entities per request (Lusha's most is 100)", minimum=1, maximum=100),
        "plan": Field(str, "", "your Lusha plan, for the quota shown before the first answer: pro, premium, scale, "
                      "legacy (empty: only what Lusha's headers say)", choices=PLANS),
        "max_entities": Field(int, 20_000, "most list members remembered for change detection (a content hash "
                              "each, kept in the cursor); a pull over more stops with a clear error",
                              minimum=1, maximum=200_000),
        "timeout": Field(float, 0.0, "seconds one request may take; 0 uses sync.request_timeout", minimum=0),
        "quota_margin": Field(float, 0.02, "share of each quota window left unused for other users of the key",
                              minimum=0, maximum=0.5),
        "max_quota_wait": Field(float, 3600.0, "longest wait for a quota window inside one pull; a longer one "
                                "(a used-up day) ends the pull with a rate-limit error until the next poll",
                                minimum=1),
        "max_attempts": Field(int, 8, "tries per request on timeouts, 5xx and 429 (backoff 1 s doubling to 60 s)",
                              minimum=1, maximum=20),
        "webhook_secret": Field(str, "", "the account's webhook signing secret (empty: webhooks off)", secret=True),
        "webhook_tolerance": Field(float, 300.0, "seconds a webhook's X-Lusha-Timestamp may differ from now",
                                   minimum=1, maximum=86_400),
    },
)


@dataclass(frozen=True)
class LushaSettings:
    api_key: str = field(repr=False)  # never shown
    list_ids: tuple[str, ...] = ()
    base_url: str = "https://api.lusha.com"
    page_size: int = 100
    plan: str = ""
    max_entities: int = 20_000
    timeout: float = 30.0
    quota_margin: float = 0.02
    max_quota_wait: float = 3600.0
    max_attempts: int = 8
    webhook_secret: str = field(default="", repr=False)
    webhook_tolerance: float = 300.0

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, default_timeout: float = 30.0) -> LushaSettings:
        """From the validated ``[plugins.lusha]`` table (secrets already resolved)."""
        return cls(
            api_key=str(table["api_key"]),
            list_ids=tuple(str(v).strip() for v in table.get("list_ids") or ()),
            base_url=str(table.get("base_url") or cls.base_url).rstrip("/"),
            page_size=int(table.get("page_size", cls.page_size)),
            plan=str(table.get("plan") or ""),
            max_entities=int(table.get("max_entities", cls.max_entities)),
            timeout=float(table.get("timeout") or 0.0) or default_timeout,
            quota_margin=float(table.get("quota_margin", cls.quota_margin)),
            max_quota_wait=float(table.get("max_quota_wait", cls.max_quota_wait)),
            max_attempts=int(table.get("max_attempts", cls.max_attempts)),
            webhook_secret=str(table.get("webhook_secret") or ""),
            webhook_tolerance=float(table.get("webhook_tolerance", cls.webhook_tolerance)),
        )
