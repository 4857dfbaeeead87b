"""Reaching a provider, layer by layer: DNS, TCP, TLS, then the clock against the provider's ``Date`` header.

Which hosts: every provider URL an enabled plugin is configured with (its fields declared ``url=True``), so a
third-party plugin's hosts are checked without it doing anything. Each step has its own deadline, and a step that
fails stops the steps above it (a host that does not resolve has no TLS to check).
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
import trio

from halosync.config.loader import Config
from halosync.contracts import CheckResult

CERT_EXPIRY_WARN_DAYS = 14
SKEW_WARN_SECONDS = 30.0
# Signed webhooks are refused when their timestamp is more than 5 minutes off (Standard Webhooks tolerance).
SKEW_FAIL_SECONDS = 300.0


@dataclass(frozen=True)
class Endpoint:
    plugin: str
    key: str  # the configuration key the URL came from
    url: str
    host: str
    port: int
    tls: bool

    @property
    def prefix(self) -> str:
        return self.plugin if self.key == "base_url" else f"{self.plugin}.{self.key}"


def endpoints(config: Config) -> list[Endpoint]:
    """The distinct provider hosts the enabled plugins are configured to reach."""
    out: list[Endpoint] = []
    seen: set[tuple[str, str, int]] = set()
    for plugin in config.enabled_plugins():
        spec = config.plugin_specs.get(plugin)
        table = config.plugin(plugin) or {}
        for key, field in (spec.fields.items() if spec else ()):
            value = table.get(key)
            if not field.url or not isinstance(value, str) or not value:
                continue
            parts = urlsplit(value)
            if not parts.hostname:
                continue
            tls = parts.scheme == "https"
            port = parts.port or (443 if tls else 80)
            if (plugin, parts.hostname, port) in seen:
                continue
            seen.add((plugin, parts.hostname, port))
            out.append(Endpoint(plugin, key, value, parts.hostname, port, tls))
    return out


async def endpoint_checks(ep: Endpoint, within: float) -> list[CheckResult]:
    dns = await _resolve(ep, within)
    if dns.status == "fail":
        return [dns]
    tcp, stream = await _connect(ep, within)
    if stream is None:
        return [dns, tcp]
    if not ep.tls:
        await stream.aclose()
        return [dns, tcp, CheckResult(f"{ep.prefix}.tls", "pass",
                                      f"http:// to loopback host {ep.host}: no TLS to check (test setups only)")]
    return [dns, tcp, await _tls(ep, stream, within)]


async def _resolve(ep: Endpoint, within: float) -> CheckResult:
    name, hint = f"{ep.prefix}.dns", f"check the host name in plugins.{ep.plugin}.{ep.key}, and DNS (resolvectl status)"
    with trio.move_on_after(within):
        try:
            addresses = await trio.socket.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            return CheckResult(name, "fail", f"{ep.host} does not resolve: {exc.strerror or exc}", hint)
        shown = ", ".join(sorted({str(a[4][0]) for a in addresses})[:3])
        return CheckResult(name, "pass", f"{ep.host} resolves to {shown}")
    return CheckResult(name, "fail", f"resolving {ep.host} took over {within:g} s", hint)


async def _connect(ep: Endpoint, within: float) -> tuple[CheckResult, trio.SocketStream | None]:
    name = f"{ep.prefix}.tcp"
    hint = (f"allow outbound TCP to {ep.host}:{ep.port} (firewall, proxy); if the provider is down, halosync "
            "retries on its own")
    started = time.monotonic()
    with trio.move_on_after(within):
        try:
            stream = await trio.open_tcp_stream(ep.host, ep.port)
        except OSError as exc:
            return CheckResult(name, "fail", f"cannot connect to {ep.host}:{ep.port}: {exc.strerror or exc}",
                               hint), None
        elapsed = (time.monotonic() - started) * 1000
        return CheckResult(name, "pass", f"connected to {ep.host}:{ep.port} in {elapsed:.0f} ms"), stream
    return CheckResult(name, "fail", f"no connection to {ep.host}:{ep.port} within {within:g} s", hint), None


async def _tls(ep: Endpoint, tcp: trio.SocketStream, within: float) -> CheckResult:
    name = f"{ep.prefix}.tls"
    stream = trio.SSLStream(tcp, ssl.create_default_context(), server_hostname=ep.host)
    try:
        with trio.move_on_after(within):
            try:
                await stream.do_handshake()
            except trio.BrokenResourceError as exc:
                hint = ("the certificate is not trusted here: behind a TLS-inspecting proxy, add its CA to the "
                        "system store (update-ca-certificates); otherwise the host is not the provider")
                return CheckResult(name, "fail", f"TLS handshake with {ep.host} failed: {exc.__cause__ or exc}",
                                   hint)
            return _certificate(name, stream.version() or "TLS", stream.getpeercert() or {})
        return CheckResult(name, "fail", f"no TLS handshake with {ep.host} within {within:g} s",
                           "something between here and the provider holds the connection: check the proxy")
    finally:
        await trio.aclose_forcefully(stream)


def _certificate(name: str, version: str, cert: dict[str, object]) -> CheckResult:
    not_after = cert.get("notAfter")
    if not isinstance(not_after, str):
        return CheckResult(name, "pass", f"{version}; certificate verified")
    days = (ssl.cert_time_to_seconds(not_after) - time.time()) / 86400
    if days < CERT_EXPIRY_WARN_DAYS:
        return CheckResult(name, "warn", f"{version}; the certificate expires in {days:.0f} days",
                           "tell the provider (a self-hosted HaloPSA: renew your instance's certificate)")
    return CheckResult(name, "pass", f"{version}; certificate valid for {days:.0f} more days")


async def clock_skew(ep: Endpoint, within: float) -> CheckResult:
    """This host's clock against the provider's ``Date`` header (any response carries one)."""
    name = f"{ep.prefix}.clock"
    try:
        async with httpx.AsyncClient(timeout=within, follow_redirects=False) as client:
            sent = time.time()
            response = await client.head(ep.url)
            received = time.time()
    except httpx.HTTPError as exc:
        return CheckResult(name, "warn", f"cannot ask {ep.host} for the time: {exc}", "see the checks above")
    headers = response.headers.get_list("date")
    try:
        remote = parsedate_to_datetime(headers[0]).timestamp()
    except (IndexError, TypeError, ValueError):
        return CheckResult(name, "warn", f"{ep.host} sent no usable Date header; the clock was not compared",
                           "make sure this host's clock is synchronised (timedatectl)")
    # The header has whole seconds and arrived some time within the round trip: compare with its midpoint.
    skew = (sent + received) / 2 - remote
    shown = f"this host's clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} {ep.host}"
    hint = "synchronise the clock: timedatectl set-ntp true (systemd-timesyncd or chrony)"
    if abs(skew) > SKEW_FAIL_SECONDS:
        return CheckResult(name, "fail", shown + ": signed webhooks will be refused as expired", hint)
    if abs(skew) > SKEW_WARN_SECONDS + (received - sent) / 2 + 1:
        return CheckResult(name, "warn", shown, hint)
    return CheckResult(name, "pass", f"within {SKEW_WARN_SECONDS:g} s of {ep.host}'s clock")
