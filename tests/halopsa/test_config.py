"""The [plugins.halopsa] table: validation a user sees, and the hooks that build the sink from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from halosync.config.loader import Config, load
from halosync.errors import ConfigError, PluginError
from halosync.plugin.host import PluginHost
from halosync_halopsa import plugin
from halosync_halopsa.settings import SPEC
from halosync_halopsa.sink import HaloSink

BASE = """
[plugins.halopsa]
base_url = "{url}"
client_id = "app"
client_secret = "env:HALO_SECRET"
"""


def config(tmp_path: Path, text: str, url: str = "https://acme.halopsa.com") -> Config:
    path = tmp_path / "halosync.toml"
    path.write_text(BASE.format(url=url) + text, encoding="utf-8")
    return load(path, [SPEC], environ={"HALO_SECRET": "topsecret-1234"})


def problems(tmp_path: Path, text: str, url: str = "https://acme.halopsa.com") -> str:
    with pytest.raises(ConfigError) as caught:
        config(tmp_path, text, url)
    return str(caught.value)


def test_http_is_refused_except_for_loopback(tmp_path: Path) -> None:
    assert "must use https://" in problems(tmp_path, "", url="http://acme.halopsa.com")
    assert config(tmp_path, "", url="http://127.0.0.1:8080").plugin("halopsa") is not None


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    table = config(tmp_path, "").plugin("halopsa")
    assert table is not None
    assert (table["scope"], table["requests_per_window"], table["window_seconds"], table["batch_size"]) == (
        "all", 300, 300.0, 100)


def test_field_mappings_and_custom_fields_are_checked(tmp_path: Path) -> None:
    text = problems(tmp_path, """
[plugins.halopsa.fields.user]
title = "{job_title}"
site_id = "{city}"
[plugins.halopsa.fields.contact]
name = "{name}"
[plugins.halopsa.custom_fields.user]
ApolloId = "{source_id}"
""")
    assert "plugins.halopsa.fields.user.title: unknown variable {job_title}" in text
    assert "plugins.halopsa.fields.user.site_id: is set by halosync itself" in text
    assert "plugins.halopsa.fields.contact: unknown HaloPSA object" in text
    assert "plugins.halopsa.custom_fields.user.ApolloId: HaloPSA custom field names start with CF" in text


def test_hooks_build_a_sink_only_when_enabled(tmp_path: Path) -> None:
    assert plugin.halosync_sinks(PluginHost(load(None, [SPEC], environ={}))) == []
    host = PluginHost(config(tmp_path, '[plugins.halopsa.custom_fields.user]\nCFApolloId = "{source_id}"\n'))
    (sink,) = plugin.halosync_sinks(host)
    assert isinstance(sink, HaloSink) and sink.kinds == ("company", "person")
    assert "topsecret-1234" not in repr(sink.settings)
    (verifier,) = plugin.halosync_webhook_verifiers(host)
    assert verifier.plugin == "halopsa"


def test_constants_are_accepted_where_a_template_would_be(tmp_path: Path) -> None:
    text = "[plugins.halopsa.fields.client]\nis_account = false\ncustomertype = 2\n"
    table = config(tmp_path, text).plugin("halopsa")
    assert table is not None and table["fields"] == {"client": {"is_account": False, "customertype": 2}}


def test_opportunities_need_a_ticket_type(tmp_path: Path) -> None:
    host = PluginHost(config(tmp_path, "create_opportunity = true\n"))
    with pytest.raises(PluginError, match="opportunity_tickettype_id"):
        plugin.halosync_sinks(host)
