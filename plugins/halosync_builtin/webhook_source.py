"""The built-in ``webhook`` source: leads pushed by any provider or script as signed JSON.

Enable it with a table; deliveries go to ``POST /webhooks/webhook``, signed per Standard Webhooks
(``halosync.webhooks.standard``)::

    [plugins.webhook]
    secrets = ["env:HALOSYNC_WEBHOOK_SECRET"]   # whsec_<base64>; list two while rotating the key
    tolerance = 300                             # seconds a delivery's webhook-timestamp may be off
    source = "webhook"                          # the source name the leads are staged under

The body is one lead or ``{"leads": [lead, ...]}``. A lead (every key but ``id`` and ``person`` is optional; the
keys of ``person`` and ``company`` are those of ``halosync.model.Person`` and ``Company``)::

    {"id": "crm-123",                                  the sender's id for the lead: a re-send updates it
     "person": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "title": "CTO",
                "phone": "...", "mobile": "...", "linkedin_url": "...", "city": "...", "state": "...",
                "country": "...", "full_name": "...", "email_status": "verified"},
     "company": {"name": "Analytical Engines", "domain": "example.com", "website": "...", "linkedin_url": "...",
                 "phone": "...", "city": "...", "country": "...", "source_id": "the sender's company id"},
     "updated_at": "2026-11-29T15:00:00+00:00", "created_at": "...",   ISO 8601
     "labels": ["webinar"]}

A body that is not JSON is refused with 400 before it is stored. A lead that does not fit the shape is not
staged: it becomes a dead letter (stage ``intake``) with the reason, and the rest of the delivery goes on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from halosync.plugin import (
    TOLERANCE_SECONDS,
    Company,
    Field,
    Lead,
    LeadError,
    Person,
    PluginConfigSpec,
    PluginHost,
    Rejected,
    SecretFormatError,
    StandardWebhookVerifier,
    Verification,
    WebhookContent,
    WebhookRequest,
    WebhookVerifier,
    decode_secret,
    hookimpl,
)

NAME = "webhook"
_PERSON_KEYS = frozenset(f.name for f in fields(Person))
_COMPANY_KEYS = frozenset(f.name for f in fields(Company))


def _check_secrets(value: Any) -> list[tuple[str, str]]:
    """Each entry (resolved by the loader from a literal, env:, file: or credential:) must be a whsec_ secret."""
    if not isinstance(value, list):
        return []
    problems: list[tuple[str, str]] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, str) or entry.startswith(("env:", "file:", "credential:")):
            continue  # the loader reports a wrong type or a reference it could not resolve
        try:
            decode_secret(entry)
        except SecretFormatError as exc:
            problems.append((str(index), str(exc)))
    return problems


@hookimpl
def halosync_config_spec() -> PluginConfigSpec:
    return PluginConfigSpec(NAME, {
        "secrets": Field(list, [], "Standard Webhooks secrets (whsec_<base64>); two while rotating", secret=True,
                         items=str, check=_check_secrets),
        "tolerance": Field(float, TOLERANCE_SECONDS, "seconds a delivery's timestamp may be off (replay window)",
                           minimum=1, maximum=3600),
        "source": Field(str, NAME, "source name the pushed leads are staged under"),
    }, help="leads pushed as signed JSON to POST /webhooks/webhook")


@hookimpl
def halosync_webhook_verifiers(host: PluginHost) -> list[WebhookVerifier]:
    settings = host.settings(NAME)
    if settings is None:
        return []
    keys = list(settings.get("secrets") or [])  # resolved by the configuration loader
    return [PushedLeads(keys, tolerance=float(settings["tolerance"]), source=str(settings["source"]))]


class PushedLeads(StandardWebhookVerifier):
    """Verifies like any Standard Webhooks receiver, then reads the body as leads."""

    def __init__(self, secret_values: list[str], *, tolerance: float, source: str) -> None:
        super().__init__(NAME, secret_values, tolerance=tolerance)
        self.source = source

    def verify(self, request: WebhookRequest) -> Verification:
        verification = super().verify(request)
        if verification.ok and _json_problem(request.body):
            return Verification(False, _json_problem(request.body), verification.delivery_id, 400)
        return verification

    def explain(self, request: WebhookRequest) -> dict[str, Any]:
        out = super().explain(request)
        problem = _json_problem(request.body)
        if out["ok"] and problem:
            out.update(ok=False, status=400, reason=problem)
        return out

    def parse(self, request: WebhookRequest) -> WebhookContent:
        document = json.loads(request.body)
        if isinstance(document, Mapping) and isinstance(document.get("leads"), list):
            entries = document["leads"]
        elif isinstance(document, Mapping) and "person" in document:
            entries = [document]
        else:
            raise LeadError('the body is neither a lead nor {"leads": [...]}; see the webhook plugin\'s lead shape')
        leads: list[Lead] = []
        rejected: list[Rejected] = []
        for index, entry in enumerate(entries):
            try:
                leads.append(lead_from_json(self.source, entry))
            except LeadError as exc:
                source_id = entry.get("id") if isinstance(entry, Mapping) else None
                rejected.append(Rejected(None if source_id is None else str(source_id), f"leads[{index}]: {exc}",
                                         entry if isinstance(entry, Mapping) else {"value": entry}))
        return WebhookContent(source=self.source, leads=leads, rejected=rejected)


def lead_from_json(source: str, entry: Any) -> Lead:
    """One lead of the documented shape; LeadError says what is wrong with it."""
    if not isinstance(entry, Mapping):
        raise LeadError("a lead must be a JSON object")
    source_id = entry.get("id")
    if not isinstance(source_id, str | int) or isinstance(source_id, bool) or str(source_id) == "":
        raise LeadError('"id" (string or number) is required: the sender\'s id for this lead')
    person = _part(entry.get("person"), _PERSON_KEYS, "person", required=True)
    if not any(person.values()):
        raise LeadError("person has no value at all")
    company = _part(entry.get("company"), _COMPANY_KEYS, "company", required=False)
    labels = entry.get("labels") or []
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise LeadError('"labels" must be a list of strings')
    return Lead(source=source, source_id=str(source_id), person=Person(**person),
                company=Company(**company) if company else None,
                updated_at=_when(entry.get("updated_at"), "updated_at"),
                created_at=_when(entry.get("created_at"), "created_at"),
                labels=tuple(labels), raw=dict(entry))


def _part(value: Any, known: frozenset[str], name: str, *, required: bool) -> dict[str, str | None]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise LeadError(f'"{name}" must be an object')
    unknown = sorted(set(value) - known)
    if unknown:
        raise LeadError(f"{name}.{unknown[0]} is not a lead field; known: {', '.join(sorted(known))}")
    for key, item in value.items():
        if item is not None and not isinstance(item, str):
            raise LeadError(f"{name}.{key} must be a string or null")
    return {str(k): v for k, v in value.items()}


def _when(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise LeadError(f'"{name}" {str(value)[:40]!r} is not an ISO 8601 date-time') from None


def _json_problem(body: bytes) -> str:
    try:
        json.loads(body)
    except ValueError as exc:
        return f"the body is not JSON ({exc.msg} at character {exc.pos})" if isinstance(
            exc, json.JSONDecodeError) else "the body is not JSON"
    return ""
