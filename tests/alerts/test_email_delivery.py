"""The email receiver against a real local SMTP server: STARTTLS before credentials, the message a person reads,
refusal when STARTTLS is not offered, bad passwords and untrusted certificates reported clearly.

The SMTP exchange runs in a worker thread (smtplib), so these tests run on the real clock, not the autojump one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from halosync.config import loader
from halosync.contracts import Alert, Alerter
from halosync.errors import AuthError, ProviderError
from halosync.plugin.host import PluginHost
from tests.alerts.conftest import alerts_running, plugin_manager, write_config
from tests.alerts.smtp_server import CERT, SMTPServer
from tests.waiting import until

FIRING = Alert("queue_backlog", "critical", "firing", "queue_backlog: 2500 items, above 1000 items", 2500.0,
               {}, started_at=1_790_000_000.0)


def email_toml(port: int, *, security: str = "starttls", password: str = "env:SMTP_PASSWORD",
               ca_file: str | None = str(CERT)) -> str:
    return f"""
[plugins.alerts.receivers.oncall]
type = "email"
host = "127.0.0.1"
port = {port}
security = "{security}"
username = "halosync@example.com"
password = "{password}"
from = "halosync@example.com"
to = ["noc@example.com", "owner@example.com"]
subject_prefix = "[acme] "
timeout = 5
""" + (f'ca_file = "{ca_file}"\n' if ca_file else "")


def oncall(tmp_path: Path, toml: str) -> Alerter:
    pm = plugin_manager()
    config = loader.load(write_config(tmp_path, toml), pm.config_specs())
    return next(a for a in pm.alerters(PluginHost(config)) if a.name == "oncall")


@pytest.fixture(autouse=True)
def smtp_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", "correct horse")


async def test_mail_goes_out_over_starttls_with_credentials_only_after_it(tmp_path: Path,
                                                                         nursery: trio.Nursery) -> None:
    server = SMTPServer(users={"halosync@example.com": "correct horse"})
    port = await server.start(nursery)
    await oncall(tmp_path, email_toml(port)).send([FIRING])
    [mail] = server.mails
    assert mail.tls and mail.user == "halosync@example.com"
    assert server.commands.index("STARTTLS") < server.commands.index("AUTH")
    assert mail.recipients == ["noc@example.com", "owner@example.com"]
    assert mail.message["Subject"].startswith("[acme] [FIRING:1] halosync on ")
    payload = mail.message.get_payload(decode=True)
    assert isinstance(payload, bytes), "the alert mail is not a single-part text message"
    body = payload.decode()
    assert "CRITICAL queue_backlog: 2500 items, above 1000 items (since 2026-09-21T" in body


async def test_a_server_without_starttls_gets_no_credentials_and_no_mail(tmp_path: Path,
                                                                        nursery: trio.Nursery) -> None:
    server = SMTPServer(offer_starttls=False, users={"halosync@example.com": "correct horse"})
    port = await server.start(nursery)
    with pytest.raises(ProviderError, match="does not offer STARTTLS, so nothing was sent"):
        await oncall(tmp_path, email_toml(port)).send([FIRING])
    assert "AUTH" not in server.commands and "MAIL" not in server.commands
    assert server.mails == []


async def test_a_wrong_password_is_an_auth_error_that_says_what_to_check(tmp_path: Path,
                                                                        nursery: trio.Nursery) -> None:
    server = SMTPServer(users={"halosync@example.com": "another"})
    port = await server.start(nursery)
    with pytest.raises(AuthError, match="refused the username or password") as caught:
        await oncall(tmp_path, email_toml(port)).send([FIRING])
    assert "correct horse" not in str(caught.value)


async def test_an_untrusted_certificate_stops_the_delivery(tmp_path: Path, nursery: trio.Nursery) -> None:
    server = SMTPServer(users={"halosync@example.com": "correct horse"})
    port = await server.start(nursery)
    with pytest.raises(ProviderError, match=r"TLS with 127\.0\.0\.1:\d+ failed"):
        await oncall(tmp_path, email_toml(port, ca_file=None)).send([FIRING])
    assert server.mails == []


async def test_an_alert_reaches_a_local_relay_without_tls_end_to_end(tmp_path: Path, nursery: trio.Nursery) -> None:
    server = SMTPServer(offer_starttls=False)
    port = await server.start(nursery)
    toml = email_toml(port, security="none").replace('username = "halosync@example.com"\n', "") + (
        '[alerts.rules.queue_backlog]\nreceivers = ["oncall"]\nfor = 0\n')
    async with alerts_running(tmp_path, toml, alerts={"interval": 1}) as run:
        run.engine.queue_figures["pending"] = 2500
        await until(lambda: server.mails, what="a mail at the SMTP server", within=60)
        health = run.daemon.plugin_health["alerts.oncall"]
        await until(lambda: health.last_success_at, lambda at: at is not None, what="a success in the mailer's health",
                    within=60)
    assert not server.mails[0].tls and "queue_backlog" in server.mails[0].message["Subject"]
