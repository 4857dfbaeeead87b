"""The ``email`` receiver: one plain-text message per notification group, over SMTP.

``security = "starttls"`` (the default, port 587) upgrades the connection before anything else is said and refuses
to go on when the server does not offer STARTTLS: credentials and alert text never cross the network in the clear
by accident. ``"tls"`` is implicit TLS (port 465); ``"none"`` is for a relay on the same host only. The server's
certificate is checked against the system's CAs, or ``ca_file`` for a private CA.

smtplib is blocking, so a delivery runs in a worker thread with the socket timeout from the receiver's table; when
the dispatcher's own deadline passes first, the thread is abandoned and ends at that socket timeout.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import trio

from halosync.plugin import Alert, AuthError, ProviderError, TransientProviderError, render

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 587}


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 0
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    subject_prefix: str = ""
    ca_file: str = ""
    timeout: float = 30.0


class EmailAlerter:
    def __init__(self, name: str, settings: SMTPSettings) -> None:
        self.name = name
        self.settings = settings

    def message(self, alerts: Sequence[Alert]) -> EmailMessage:
        s = self.settings
        msg = EmailMessage()
        msg["Subject"] = f"{s.subject_prefix}{render.title(alerts)}"
        msg["From"] = s.sender
        msg["To"] = ", ".join(s.to)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=s.sender.rpartition("@")[2] or None)
        msg.set_content(render.text(alerts) + "\n\n-- \nSent by halosync. Silence with: halosyncctl silence RULE "
                        "--for 2h\n")
        return msg

    async def send(self, alerts: Sequence[Alert]) -> None:
        message = self.message(alerts)
        await trio.to_thread.run_sync(self._deliver, message, abandon_on_cancel=True)

    def _deliver(self, message: EmailMessage) -> None:
        s = self.settings
        port = s.port or DEFAULT_PORTS[s.security]
        context = ssl.create_default_context(cafile=s.ca_file or None)
        where = f"{s.host}:{port}"
        try:
            if s.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, port, timeout=s.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, port, timeout=s.timeout)
            with smtp:
                smtp.ehlo()
                if s.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise ProviderError(self.name, f"SMTP server {where} does not offer STARTTLS, so nothing "
                                                       "was sent; use a server that does, security = \"tls\" for "
                                                       "port 465, or \"none\" only for a relay on this host")
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, s.password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthError(self.name, f"SMTP server {where} refused the username or password "
                                       f"({exc.smtp_code}); check the receiver's username and password") from exc
        except smtplib.SMTPResponseException as exc:
            error = TransientProviderError if 400 <= exc.smtp_code < 500 else ProviderError
            raise error(self.name, f"SMTP server {where} answered {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except ssl.SSLError as exc:
            raise ProviderError(self.name, f"TLS with {where} failed ({exc.reason or exc}); check the host name "
                                           "and the server's certificate (ca_file for a private CA)") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientProviderError(self.name, f"SMTP delivery to {where} failed: {type(exc).__name__}: "
                                                    f"{exc}") from exc


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
