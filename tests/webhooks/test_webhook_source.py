"""The built-in webhook source plugin: its configuration (secrets checked and masked), and the JSON lead shape it
documents, mapped onto halosync.model.Lead."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from halosync.config import loader
from halosync.contracts import WebhookRequest
from halosync.errors import ConfigError, LeadError
from halosync.model import Company, Person
from halosync.plugin.host import PluginHost
from halosync.plugin.manager import PluginManager
from halosync_builtin import webhook_source
from halosync_builtin.webhook_source import PushedLeads, lead_from_json

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def load(tmp_path: Path, table: str, environ: dict[str, str] | None = None) -> loader.Config:
    manager = PluginManager()
    manager.register(webhook_source, "webhook")
    path = tmp_path / "halosync.toml"
    path.write_text(f"[daemon]\nstate_dir = \"{tmp_path}\"\n\n[plugins.webhook]\n{table}\n")
    return loader.load(path, manager.config_specs(), environ=environ or {})


def test_secrets_from_env_are_resolved_and_masked(tmp_path: Path) -> None:
    config = load(tmp_path, 'secrets = ["env:HOOK_SECRET"]\nsource = "website"', {"HOOK_SECRET": SECRET})
    [verifier] = webhook_source.halosync_webhook_verifiers(PluginHost(config))
    assert isinstance(verifier, PushedLeads) and verifier.source == "website" and verifier.plugin == "webhook"
    assert SECRET not in json.dumps(config.redacted())


def test_bad_secrets_are_config_errors_naming_the_entry(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, 'secrets = ["whsec_YWJjZ", "env:NOT_SET"]')
    text = str(info.value)
    assert "plugins.webhook.secrets.0: has 5 base64 characters" in text
    assert "plugins.webhook.secrets.1: environment variable NOT_SET is not set" in text


def test_not_enabled_means_no_verifier(tmp_path: Path) -> None:
    config = load(tmp_path, f'enabled = false\nsecrets = ["{SECRET}"]')
    assert webhook_source.halosync_webhook_verifiers(PluginHost(config)) == []


def test_the_documented_lead_shape() -> None:
    lead = lead_from_json("pushed", {
        "id": 42, "labels": ["webinar"], "updated_at": "2026-11-29T15:00:00+00:00",
        "person": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "title": "CTO"},
        "company": {"name": "Analytical Engines", "domain": "example.com", "source_id": "c-9"},
    })
    assert (lead.source, lead.source_id, lead.labels) == ("pushed", "42", ("webinar",))
    assert lead.person == Person(first_name="Ada", last_name="Lovelace", email="ada@example.com", title="CTO")
    assert lead.company == Company(name="Analytical Engines", domain="example.com", source_id="c-9")
    assert lead.updated_at == datetime.fromisoformat("2026-11-29T15:00:00+00:00")


@pytest.mark.parametrize(("entry", "words"), [
    ({"person": {"email": "a@example.com"}}, '"id"'),
    ({"id": "1"}, '"person" must be an object'),
    ({"id": "1", "person": {}}, "no value at all"),
    ({"id": "1", "person": {"emial": "a@example.com"}}, "person.emial is not a lead field"),
    ({"id": "1", "person": {"email": 5}}, "person.email must be a string"),
    ({"id": "1", "person": {"email": "a@b.c"}, "updated_at": "last week"}, "ISO 8601"),
    ({"id": "1", "person": {"email": "a@b.c"}, "labels": "vip"}, "labels"),
])
def test_leads_that_do_not_fit_say_why(entry: dict[str, object], words: str) -> None:
    with pytest.raises(LeadError, match=words):
        lead_from_json("pushed", entry)


def test_a_delivery_keeps_its_good_leads_and_rejects_the_bad_ones() -> None:
    verifier = PushedLeads([SECRET], tolerance=300, source="pushed")
    body = json.dumps({"leads": [{"id": "1", "person": {"email": "a@example.com"}}, {"id": "2", "person": 7}]})
    content = verifier.parse(WebhookRequest("webhook", {}, {}, body.encode(), 0.0))
    assert content.source == "pushed" and [lead.source_id for lead in content.leads] == ["1"]
    [rejected] = content.rejected
    assert rejected.source_id == "2" and rejected.reason.startswith("leads[1]: ")
    single = verifier.parse(WebhookRequest("webhook", {}, {}, b'{"id": "s", "person": {"email": "s@x.io"}}', 0.0))
    assert [lead.source_id for lead in single.leads] == ["s"]
    with pytest.raises(LeadError, match="neither a lead"):
        verifier.parse(WebhookRequest("webhook", {}, {}, b"[1, 2]", 0.0))
