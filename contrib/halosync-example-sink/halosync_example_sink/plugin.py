"""The TinyCRM sink: writes companies to the fictional TinyCRM API and lists them for halosync's mirror.

    [plugins.tinycrm]
    base_url = "https://api.tinycrm.example"
    api_key = "env:TINYCRM_KEY"         # a secret: env:, file:, credential: or a literal

Every create carries its op's idempotency key as TinyCRM's ``external_key``: after a crash or a lost answer,
``find`` asks TinyCRM for the records with those keys, so a retry never makes a second record.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import trio

from halosync.plugin import (
    COMPANY_FIELDS,
    REQUIRED,
    AuthError,
    CheckResult,
    EntityKind,
    Field,
    MirrorPage,
    PluginConfigSpec,
    PluginHost,
    ProviderError,
    RateWindow,
    Sink,
    SinkRecord,
    TransientProviderError,
    WriteOp,
    WriteResult,
    full_jitter,
    hookimpl,
    parse_retry_after,
)

NAME = "tinycrm"  # the entry-point name
SPEC = PluginConfigSpec(NAME, help="TinyCRM: companies written to the TinyCRM API", fields={
    "base_url": Field(str, "https://api.tinycrm.example", "the API's address", url=True),
    "api_key": Field(str, REQUIRED, "API key (Admin > Keys on TinyCRM)", secret=True),
    "page_size": Field(int, 100, "records per listing request", minimum=1, maximum=500),
})
RETRIES = 5


class TinyCRMSink:
    def __init__(self, base_url: str, api_key: str, *, page_size: int = 100, timeout: float = 30.0,
                 backoff_base: float = 1.0) -> None:
        self.name = NAME
        self.batch_size = 50
        self.kinds: tuple[EntityKind, ...] = ("company",)
        self.page_size = page_size
        self.backoff_base = backoff_base
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout, headers={"x-api-key": api_key})

    async def _call(self, method: str, path: str, *, body: Any = None, params: Any = None) -> Any:
        """One request. 429s wait (Retry-After, else backoff) and go again: TinyCRM did nothing. A write that
        fails otherwise is not repeated: its outcome is unknown, and the daemon asks ``find`` before a retry."""
        problem = ""
        for attempt in range(RETRIES + 1):
            try:
                answer = await self.http.request(method, path, json=body, params=params)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if answer.status_code in (401, 403):
                    raise AuthError(NAME, f"TinyCRM refused the API key (HTTP {answer.status_code})")
                if answer.status_code < 400:
                    return answer.json()
                problem = f"HTTP {answer.status_code}: {answer.text[:200]}"
                if answer.status_code == 429:
                    wait = parse_retry_after(answer.headers.get("retry-after"), time.time())
                    await trio.sleep(wait if wait is not None else full_jitter(attempt, base=self.backoff_base))
                    continue
                if answer.status_code < 500:
                    raise ProviderError(NAME, f"{method} {path}: {problem}")
            if method != "GET":
                break
            await trio.sleep(full_jitter(attempt, base=self.backoff_base))
        raise TransientProviderError(NAME, f"{method} {path} failed: {problem}")

    async def start(self) -> None:
        await self._call("GET", "/v1/me")

    async def write(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        if ops and ops[0].action == "update":
            return [WriteResult(op.key, (await self._call("PATCH", f"/v1/companies/{op.sink_id}",
                                                          body=dict(op.fields)))["id"]) for op in ops]
        body = {"records": [{**op.fields, "external_key": op.key} for op in ops]}
        answers = (await self._call("POST", "/v1/companies", body=body))["results"]
        return [WriteResult(op.key, a.get("id"), a.get("error")) for op, a in zip(ops, answers, strict=True)]

    async def find(self, ops: Sequence[WriteOp]) -> list[SinkRecord | None]:
        answer = await self._call("GET", "/v1/companies", params={"external_key": ",".join(op.key for op in ops)})
        by_key = {r["external_key"]: to_record(r) for r in answer["records"]}
        return [by_key.get(op.key) for op in ops]

    async def fetch(self, kind: EntityKind, sink_ids: Sequence[str]) -> dict[str, SinkRecord]:
        answer = await self._call("GET", "/v1/companies", params={"ids": ",".join(sink_ids)})
        return {r["id"]: to_record(r) for r in answer["records"]}

    async def list_records(self, kind: EntityKind, *, since: str | None = None) -> AsyncIterator[MirrorPage]:
        after = since or "0"
        while True:
            answer = await self._call("GET", "/v1/companies", params={"after": after, "limit": self.page_size})
            if answer["records"]:
                after = str(answer["records"][-1]["change"])
            yield MirrorPage([to_record(r) for r in answer["records"]], watermark=after)
            if not answer["has_more"]:
                return

    async def checks(self) -> list[CheckResult]:
        try:
            await self.start()
        except AuthError as exc:
            return [CheckResult("tinycrm.auth", "fail", str(exc), "create a key under Admin > Keys on TinyCRM "
                                "and set [plugins.tinycrm] api_key")]
        except ProviderError as exc:
            return [CheckResult("tinycrm.reach", "fail", str(exc), "check base_url and the network")]
        return [CheckResult("tinycrm.auth", "pass", "the API key is accepted")]

    def rate_limits(self) -> list[RateWindow]:
        return []  # TinyCRM reports no quota; a 429 is waited out

    async def aclose(self) -> None:
        await self.http.aclose()


def to_record(row: Mapping[str, Any]) -> SinkRecord:
    return SinkRecord("company", str(row["id"]), {k: v for k, v in row.items() if k in COMPANY_FIELDS})


@hookimpl
def halosync_config_spec() -> PluginConfigSpec:
    return SPEC


@hookimpl
def halosync_sinks(host: PluginHost) -> list[Sink]:
    table = host.settings(NAME)
    if table is None:  # not enabled
        return []
    return [TinyCRMSink(table["base_url"], table["api_key"], page_size=table["page_size"],
                        timeout=host.request_timeout)]
