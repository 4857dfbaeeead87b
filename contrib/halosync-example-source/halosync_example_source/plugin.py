"""The LeadBoard source: pulls leads changed since the last pull, page by page, from the fictional LeadBoard API.

    [plugins.leadboard]
    base_url = "https://api.leadboard.example"
    token = "env:LEADBOARD_TOKEN"        # a secret: env:, file:, credential: or a literal

The cursor is ``UPDATED_AT|ID`` of the last lead of a page: LeadBoard orders by both, so a restart resumes exactly
after the last committed lead, even among leads changed at the same second.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import trio

from halosync.plugin import (
    REQUIRED,
    AuthError,
    CheckResult,
    Field,
    HeaderQuota,
    Lead,
    Person,
    PluginConfigSpec,
    PluginHost,
    ProviderError,
    RateWindow,
    Rejected,
    Source,
    SourcePage,
    TransientProviderError,
    WindowHeaders,
    full_jitter,
    hookimpl,
    parse_retry_after,
)

NAME = "leadboard"  # the entry-point name
SPEC = PluginConfigSpec(NAME, help="LeadBoard: leads pulled from the LeadBoard API", fields={
    "base_url": Field(str, "https://api.leadboard.example", "the API's address", url=True),
    "token": Field(str, REQUIRED, "API token (Settings > API on LeadBoard)", secret=True),
    "page_size": Field(int, 100, "leads per request", minimum=1, maximum=500),
})
MINUTE = WindowHeaders("minute", 60, ("x-ratelimit-limit",), (), ("x-ratelimit-remaining",))
RETRIES = 5


class LeadBoardSource:
    def __init__(self, base_url: str, token: str, *, page_size: int = 100, timeout: float = 30.0,
                 backoff_base: float = 1.0) -> None:
        self.name = NAME
        self.page_size = page_size
        self.backoff_base = backoff_base
        self.quota = HeaderQuota(NAME, "leads", [MINUTE])
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout,
                                      headers={"authorization": f"Bearer {token}"})

    async def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        since, _, after = ("0|" if full or not cursor else cursor).partition("|")
        while True:
            body = await self._get("/v1/leads", {"since": since, "after": after, "limit": self.page_size})
            records = body.get("leads") or []
            leads: list[Lead] = []
            rejected: list[Rejected] = []
            for record in records:
                lead = to_lead(record)
                if isinstance(lead, Lead):
                    leads.append(lead)
                else:
                    rejected.append(lead)
            if records:
                since, after = repr(float(records[-1]["updated_at"])), str(records[-1]["id"])
            yield SourcePage(leads, f"{since}|{after}", rejected)
            if not body.get("has_more"):
                return

    async def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One GET, waiting on the quota; 429s are waited out (Retry-After, else backoff), 5xx retried."""
        for attempt in range(RETRIES + 1):
            await self.quota.acquire()
            try:
                answer = await self.http.get(path, params=params)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                self.quota.observe(answer.headers)
                if answer.status_code in (401, 403):
                    raise AuthError(NAME, f"LeadBoard refused the token (HTTP {answer.status_code})")
                if answer.status_code < 400:
                    result: dict[str, Any] = answer.json()
                    return result
                problem = f"HTTP {answer.status_code}"
                wait = parse_retry_after(answer.headers.get("retry-after"), time.time())
                if answer.status_code == 429 and wait is not None:
                    self.quota.block_for(wait)
                    continue
                if answer.status_code != 429 and answer.status_code < 500:
                    raise ProviderError(NAME, f"LeadBoard answered {problem}: {answer.text[:200]}")
            await trio.sleep(full_jitter(attempt, base=self.backoff_base, cap=30.0))
        raise TransientProviderError(NAME, f"GET {path} failed {RETRIES + 1} times, last: {problem}")

    async def checks(self) -> list[CheckResult]:
        try:
            await self._get("/v1/me")
        except AuthError as exc:
            return [CheckResult("leadboard.auth", "fail", str(exc), "create a token under Settings > API on "
                                "LeadBoard and set [plugins.leadboard] token")]
        except TransientProviderError as exc:
            return [CheckResult("leadboard.reach", "fail", str(exc), "check base_url and the network")]
        return [CheckResult("leadboard.auth", "pass", "the token is accepted")]

    def rate_limits(self) -> list[RateWindow]:
        return self.quota.windows()

    async def aclose(self) -> None:
        await self.http.aclose()


def to_lead(record: Mapping[str, Any]) -> Lead | Rejected:
    source_id = str(record.get("id") or "") or None
    email, first, last = record.get("email"), record.get("first_name"), record.get("last_name")
    if source_id is None:
        return Rejected(None, "the LeadBoard lead has no id", dict(record))
    if not isinstance(email, str | None) or not (email or first or last):
        return Rejected(source_id, "the LeadBoard lead has neither a usable email nor a name", dict(record))
    person = Person(first_name=first, last_name=last, email=email, title=record.get("title"))
    changed = datetime.fromtimestamp(float(record["updated_at"]), UTC) if record.get("updated_at") else None
    return Lead(source=NAME, source_id=source_id, person=person, updated_at=changed, raw=dict(record))


@hookimpl
def halosync_config_spec() -> PluginConfigSpec:
    return SPEC


@hookimpl
def halosync_sources(host: PluginHost) -> list[Source]:
    table = host.settings(NAME)
    if table is None:  # not enabled
        return []
    return [LeadBoardSource(table["base_url"], table["token"], page_size=table["page_size"],
                            timeout=host.request_timeout)]
