"""Checks that every kind of source and sink shares: diagnostics that fail clearly, bad credentials refused for
good, nothing lost, malformed records rejected with a reason. The HTTP checks (source_checks, sink_checks) and the
file-source checks (file_source_checks) are written with them, so the same mistake reads the same everywhere."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import cast

import pytest

from halosync.plugin import AuthError, CheckResult, Lead, PermissionDenied, ProviderError
from halosync.testing.kit import Pulled

GUIDE = "docs/plugins.md, halosync_sources"


def sample(ids: set[str], n: int = 5) -> list[str]:
    """A few of ``ids``, for a message: enough to look one up, not a wall of them."""
    return sorted(ids)[:n]


def carries(lead: Lead, text: str) -> bool:
    """Whether ``text`` is among the lead's fields (not only in ``raw``)."""
    values = {"person": lead.person.values(), "company": lead.company.values() if lead.company else {}}
    return text in json.dumps(values, default=str)


def assert_nothing_lost(expected: set[str], pulled: set[str], what: str, fix: str) -> None:
    missing = expected - pulled
    assert not missing, f"{what}: {len(missing)} of {len(expected)} record(s) never arrived (e.g. " \
                        f"{sample(missing)}). {fix} ({GUIDE})"


async def assert_pulls_to_the_end(add: Callable[[int], object], pull: Callable[[], Awaitable[Pulled]],
                                  page_size: int, *, lost: str, per_page: str) -> None:
    """Several pages' worth of records (``add(count)``, returning their ids) all arrive in one ``pull()`` (else the
    ``lost`` advice), one SourcePage per ``per_page``, and the pull leaves a cursor to resume from."""
    expected = set(cast("Iterable[str]", add(page_size * 3 + 2)))
    pulled = await pull()
    assert_nothing_lost(expected, pulled.ids, "a full pull", lost)
    assert len(pulled.pages) >= 3, (
        f"pull() yielded {len(pulled.pages)} page(s) for {len(expected)} records at {page_size} a page: "
        f"yield one SourcePage per {per_page}, so the daemon commits progress as it goes ({GUIDE})")
    assert pulled.cursor is not None, (
        "no page of a complete pull carried a cursor: the next pull would start from the beginning. Set "
        f"SourcePage.cursor to where the pull stands after that page ({GUIDE})")


async def pull_past_malformed(pull: Callable[[], Awaitable[Pulled]], what: str = "record") -> Pulled:
    """``pull()``, turning an exception into the advice to reject the malformed ``what`` instead."""
    try:
        return await pull()
    except Exception as exc:
        raise AssertionError(
            f"a malformed {what} made the pull raise {type(exc).__name__}: {exc}. Yield it as "
            f"Rejected(source_id, reason, raw) in its page's `rejected`, and go on ({GUIDE})") from exc


def assert_rejected_with_a_reason(pulled: Pulled, neighbours: set[str], what: str = "record") -> None:
    """The ``neighbours`` of a malformed ``what`` arrived, and something was rejected, each with a reason."""
    assert_nothing_lost(neighbours, pulled.ids, f"the {what}s around a malformed one",
                        f"One malformed {what} must not cost the others on its page")
    assert pulled.rejected, (
        f"a malformed {what} was neither a lead nor Rejected: it vanished. Put Rejected(source_id, reason, raw) "
        f"in SourcePage.rejected so it becomes a dead letter the user can see ({GUIDE})")
    assert all(isinstance(r.reason, str) and r.reason.strip() for r in pulled.rejected), (
        f"Rejected without a reason: {pulled.rejected!r}; say what is wrong with the {what}, in words")


async def assert_checks_fail_clearly(checks: Callable[[], Awaitable[list[CheckResult]]],
                                     bad_checks: Callable[[], Awaitable[list[CheckResult]]], *,
                                     good: str = "working credentials", bad: str = "bad credentials",
                                     refused: str = "credentials the provider refuses",
                                     hint: str = "create an API key under Settings > Integrations") -> None:
    """``checks`` (with ``good``: working credentials) fail nothing; ``bad_checks`` (on ``bad``, the ``refused``
    credentials, say) return a failing CheckResult with a message and a hint (such as ``hint``), without raising."""
    good_results = await checks()
    assert not [r for r in good_results if r.status == "fail"], (
        f"checks() fails with {good}: {[r for r in good_results if r.status == 'fail']!r}")
    try:
        results = await bad_checks()
    except Exception as exc:
        raise AssertionError(
            f"checks() raised {type(exc).__name__}: {exc} on {bad}: return a CheckResult with status "
            "'fail', a message and a hint instead (`halosync diagnose` prints them)") from exc
    failed = [r for r in results if r.status == "fail"]
    assert failed, f"checks() passes with {refused}: {results!r}"
    for r in failed:
        assert r.message.strip() and r.hint.strip(), (
            f"check {r.name!r} fails without {'a message' if not r.message.strip() else 'a hint'}: say what "
            f"failed and what the user should do (e.g. {hint!r})")


async def assert_refused_for_good(call: Callable[[], Awaitable[object]], what: str) -> None:
    """``call`` with refused credentials raises a ProviderError the daemon does not retry (AuthError, ideally)."""
    try:
        await call()
    except (AuthError, PermissionDenied):
        return
    except ProviderError as exc:
        assert not exc.retryable, (
            f"{what} with bad credentials raised a retryable {type(exc).__name__} ({exc}): the daemon would retry "
            "it forever. Raise AuthError (halosync.plugin), which is not retryable")
        return
    raise AssertionError(f"{what} with bad credentials did not raise: raise AuthError (halosync.plugin) on a 401")


def retry_after_or_skip(retry_after: float | None, sends_retry_after: bool) -> float | None:
    """The Retry-After a 429 check sends (None: none), skipping the check when the provider never sends one."""
    if retry_after is not None and not sends_retry_after:
        pytest.skip("the fake says the provider sends no Retry-After with its 429s")
    return retry_after
