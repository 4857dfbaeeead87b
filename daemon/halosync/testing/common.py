"""Checks that sources and sinks share: diagnostics that fail clearly, and bad credentials refused for good."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from halosync.plugin import AuthError, CheckResult, PermissionDenied, ProviderError


async def assert_checks_fail_clearly(checks: Callable[[], Awaitable[list[CheckResult]]],
                                     bad_checks: Callable[[], Awaitable[list[CheckResult]]]) -> None:
    """``checks`` (working credentials) fail nothing; ``bad_checks`` (refused credentials) return a failing
    CheckResult with a message and a hint, without raising."""
    good = await checks()
    assert not [r for r in good if r.status == "fail"], (
        f"checks() fails with working credentials: {[r for r in good if r.status == 'fail']!r}")
    try:
        results = await bad_checks()
    except Exception as exc:
        raise AssertionError(
            f"checks() raised {type(exc).__name__}: {exc} on bad credentials: return a CheckResult with status "
            "'fail', a message and a hint instead (`halosync diagnose` prints them)") from exc
    failed = [r for r in results if r.status == "fail"]
    assert failed, f"checks() passes with credentials the provider refuses: {results!r}"
    for r in failed:
        assert r.message.strip() and r.hint.strip(), (
            f"check {r.name!r} fails without {'a message' if not r.message.strip() else 'a hint'}: say what "
            "failed and what the user should do (e.g. 'create an API key under Settings > Integrations')")


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
