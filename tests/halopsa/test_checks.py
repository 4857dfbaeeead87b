"""`halosync diagnose` lines: each check names the step that fails and says where to fix it."""

from __future__ import annotations

import pytest

from halosync.contracts import CheckResult
from halosync.errors import ProviderError
from halosync_halopsa.fake import FakeHalo
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


async def test_all_steps_pass_against_a_healthy_instance(sink: HaloSink) -> None:
    results = by_name(await sink.checks())
    for name in ("halopsa.authinfo", "halopsa.token", "halopsa.scope", "halopsa.permission.clients",
                 "halopsa.permission.users", "halopsa.rate_limit"):
        assert results[name].status == "pass", results[name]


async def test_wrong_credentials_fail_at_the_token_step(halo_url: str) -> None:
    sink = HaloSink(halo_settings(halo_url, client_secret="not-the-secret-123"))
    results = await sink.checks()
    failed = [r for r in results if r.status == "fail"]
    assert [r.name for r in failed] == ["halopsa.token"]
    assert "View Applications" in failed[0].hint
    assert all("not-the-secret-123" not in r.message + r.hint for r in results)
    await sink.aclose()


async def test_refused_scope_fails_at_the_token_step_naming_the_scope(fake: FakeHalo, halo_url: str) -> None:
    fake.settings.scopes = ("read:customers",)
    sink = HaloSink(halo_settings(halo_url, scope="all"))
    token = by_name(await sink.checks())["halopsa.token"]
    assert token.status == "fail" and "invalid_scope" in token.message and "plugins.halopsa.scope" in token.message
    await sink.aclose()


async def test_missing_agent_permission_names_the_resource(fake: FakeHalo, sink: HaloSink) -> None:
    fake.settings.denied = frozenset({"users"})
    results = by_name(await sink.checks())
    assert results["halopsa.permission.clients"].status == "pass"
    users = results["halopsa.permission.users"]
    assert users.status == "fail" and "You do not have permission to access Users" in users.message


async def test_unreachable_instance_fails_at_authinfo() -> None:
    sink = HaloSink(halo_settings("http://127.0.0.1:9", max_retries=0))
    assert by_name(await sink.checks())["halopsa.authinfo"].status == "fail"
    await sink.aclose()


async def test_custom_fields_checked_against_fieldinfo(fake: FakeHalo, halo_url: str) -> None:
    fake.add_field("CFApolloId", usage=3)
    fake.add_field("CFIndustry", usage=2)  # a client field, mapped on users by mistake
    sink = HaloSink(halo_settings(halo_url, custom_fields={
        "user": {"CFApolloId": "{source_id}", "CFIndustry": "{title}", "CFLinkedIn": "{linkedin_url}"}}))
    results = by_name(await sink.checks())
    assert results["halopsa.custom_field.CFApolloId"].status == "pass"
    assert results["halopsa.custom_field.CFIndustry"].status == "fail"
    assert "belongs to Clients" in results["halopsa.custom_field.CFIndustry"].message
    missing = results["halopsa.custom_field.CFLinkedIn"]
    assert missing.status == "fail" and "Configuration > Custom Objects > Custom Fields" in missing.hint
    with pytest.raises(ProviderError, match=r"CFIndustry belongs to Clients.*and 1 more"):
        await sink.start()  # writing with a missing field would silently drop its values
    await sink.aclose()


async def test_opportunity_ticket_type_is_checked(halo_url: str) -> None:
    sink = HaloSink(halo_settings(halo_url, create_opportunity=True, opportunity_tickettype_id=99))
    check = by_name(await sink.checks())["halopsa.tickettype"]
    assert check.status == "fail" and "2 Opportunity" in check.hint
    await sink.aclose()


async def test_rate_limits_report_the_rolling_window(sink: HaloSink) -> None:
    await sink.start()
    (window,) = sink.rate_limits()
    assert window.window == "rolling-300s" and window.limit == 300
    assert window.used == 2 and window.remaining == 298 and window.reset_at is not None


async def test_unreadable_field_definitions_fail_their_own_check(fake: FakeHalo, halo_url: str) -> None:
    fake.settings.denied = frozenset({"fieldinfo"})
    sink = HaloSink(halo_settings(halo_url, custom_fields={"user": {"CFApolloId": "{source_id}"}}))
    check = by_name(await sink.checks())["halopsa.custom_fields"]
    assert check.status == "fail" and "You do not have permission to access Custom Fields" in check.message
    await sink.aclose()
