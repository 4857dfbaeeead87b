"""Checks for ``halosync diagnose``, ``custom-fields`` and ``/health``: each names the step that fails.

authinfo (discovery) -> token (client credentials) -> scope (what was granted) -> permission on each resource
(a one-record read per collection; the agent the API application logs in as must be allowed to see it) ->
custom fields -> the opportunity ticket type -> rate-limit headroom. A failing step stops the steps that need it.
"""

from __future__ import annotations

from halosync.plugin import AuthError, CheckResult, PermissionDenied, ProviderError
from halosync_halopsa.client import HaloClient
from halosync_halopsa.settings import HaloSettings

API_APPS = "Configuration > Integrations > HaloPSA API > View Applications"
RESOURCES = {"clients": "/api/Client", "users": "/api/Users", "sites": "/api/Site"}


async def auth_checks(client: HaloClient, settings: HaloSettings) -> tuple[list[CheckResult], bool]:
    """The auth steps in order; the flag says whether the API can be used at all."""
    results: list[CheckResult] = []
    try:
        url = await client.tokens.token_url()
    except ProviderError as exc:
        results.append(CheckResult("halopsa.authinfo", "fail", str(exc),
                                   "check plugins.halopsa.base_url, or set auth_url to the authorisation server"))
        return results, False
    shown = url.split("?")[0]
    how = "configured" if settings.auth_url else "discovered through /api/authinfo"
    results.append(CheckResult("halopsa.authinfo", "pass", f"authorisation server {shown} ({how})"))

    client.tokens.invalidate()
    try:
        await client.tokens.get()
    except ProviderError as exc:
        hint = f"compare client_id, client_secret and tenant with {API_APPS}" if isinstance(exc, AuthError) else \
            "the authorisation server did not answer; check connectivity"
        results.append(CheckResult("halopsa.token", "fail", str(exc), hint))
        return results, False
    grant = client.tokens.grant
    assert grant is not None
    results.append(CheckResult("halopsa.token", "pass", f"token obtained, valid {grant.lifetime:.0f} s"))

    requested, granted = set(settings.scope.split()), set(grant.scope.split())
    if granted and "all" not in granted and not requested <= granted:
        results.append(CheckResult("halopsa.scope", "warn",
                                   f"asked for scope {settings.scope!r}, granted {grant.scope!r}",
                                   f"allow the missing scopes on the API application ({API_APPS})"))
    else:
        results.append(CheckResult("halopsa.scope", "pass", f"scope {grant.scope or settings.scope!r} granted"))

    resources = dict(RESOURCES)
    if settings.create_opportunity:
        resources["opportunities"] = "/api/Opportunities"
    usable = True
    for label, route in resources.items():
        name = f"halopsa.permission.{label}"
        try:
            await client.get(route, route, {"pageinate": "true", "page_size": 1, "page_no": 1})
        except PermissionDenied as exc:
            usable = False
            results.append(CheckResult(name, "fail", str(exc),
                                       f"give the application's agent access to {label} and the scope to edit them"))
        except ProviderError as exc:
            usable = False
            results.append(CheckResult(name, "fail", f"reading {label} failed: {exc}"))
        else:
            results.append(CheckResult(name, "pass", f"{label} readable (writing is only proven by a write)"))
    return results, usable


def headroom(client: HaloClient, settings: HaloSettings) -> CheckResult:
    state = client.limiter.state()
    message = (f"{state.used} of {state.effective_limit} requests used in the rolling {client.limiter.window:g} s "
               f"window ({client.budget.basis.describe()}; {state.throttled} refusals with 429 since start)")
    if state.effective_limit < state.limit:
        return CheckResult("halopsa.rate_limit", "warn", message + f"; budget lowered from {state.limit} after a 429",
                           "other integrations share this instance's limit; lower requests_per_window")
    if state.remaining < max(1, state.limit // 10):
        return CheckResult("halopsa.rate_limit", "warn", message, "writes will wait for the window to move")
    return CheckResult("halopsa.rate_limit", "pass", message)
