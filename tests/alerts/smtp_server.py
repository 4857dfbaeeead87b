"""A small SMTP server on trio for the tests: EHLO, STARTTLS (with the self-signed certificate beside this file),
AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It keeps every message and the commands it was sent, so a
test can check what went over the wire and in which order (no AUTH before STARTTLS)."""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import trio

HERE = Path(__file__).parent
CERT, KEY = HERE / "smtp-test-cert.pem", HERE / "smtp-test-key.pem"


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: Message
    tls: bool
    user: str | None


@dataclass
class SMTPServer:
    offer_starttls: bool = True
    users: dict[str, str] = field(default_factory=dict)
    mails: list[Mail] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # verbs in order, e.g. ["EHLO", "STARTTLS", "EHLO", "AUTH"]
    port: int = 0

    async def start(self, nursery: trio.Nursery) -> int:
        listeners = await nursery.start(trio.serve_tcp, self.handle, 0)
        self.port = listeners[0].socket.getsockname()[1]
        return self.port

    async def handle(self, stream: trio.abc.Stream) -> None:
        session = _Session(self, stream)
        try:
            await session.run()
        except (trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError):
            pass  # the client went away (or refused our certificate): that is its test's business
        finally:
            await trio.aclose_forcefully(session.stream)


class _Session:
    def __init__(self, server: SMTPServer, stream: trio.abc.Stream) -> None:
        self.server = server
        self.stream = stream
        self.buffer = b""
        self.tls = False
        self.user: str | None = None
        self.sender = ""
        self.recipients: list[str] = []

    async def line(self) -> bytes | None:
        while b"\r\n" not in self.buffer:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    async def say(self, *lines: str) -> None:
        text = "".join(f"{line}\r\n" for line in lines)
        await self.stream.send_all(text.encode())

    async def run(self) -> None:
        await self.say("220 localhost halosync-test ESMTP")
        while (raw := await self.line()) is not None:
            verb, _, arg = raw.decode().partition(" ")
            verb = verb.upper()
            self.server.commands.append(verb)
            if verb in ("EHLO", "HELO"):
                await self.ehlo()
            elif verb == "STARTTLS" and self.server.offer_starttls and not self.tls:
                await self.starttls()
            elif verb == "AUTH":
                await self.auth(arg)
            elif verb == "MAIL":
                self.sender, self.recipients = arg.partition(":")[2].strip("<> "), []
                await self.say("250 OK")
            elif verb == "RCPT":
                self.recipients.append(arg.partition(":")[2].strip("<> "))
                await self.say("250 OK")
            elif verb == "DATA":
                await self.data()
            elif verb in ("RSET", "NOOP"):
                await self.say("250 OK")
            elif verb == "QUIT":
                await self.say("221 bye")
                return
            else:
                await self.say("502 command not implemented")

    async def ehlo(self) -> None:
        extensions = ["8BITMIME"]
        if self.server.offer_starttls and not self.tls:
            extensions.append("STARTTLS")
        if self.server.users and (self.tls or not self.server.offer_starttls):
            extensions.append("AUTH PLAIN LOGIN")
        await self.say("250-localhost", *(f"250-{e}" for e in extensions[:-1]), f"250 {extensions[-1]}")

    async def starttls(self) -> None:
        await self.say("220 ready to start TLS")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(CERT, KEY)
        tls = trio.SSLStream(self.stream, context, server_side=True)
        await tls.do_handshake()
        self.stream, self.tls, self.buffer = tls, True, b""

    async def auth(self, arg: str) -> None:
        mechanism, _, initial = arg.partition(" ")
        if mechanism.upper() == "PLAIN":
            if not initial:
                await self.say("334 ")
                initial = ((await self.line()) or b"").decode()
            _, user, password = base64.b64decode(initial).decode().split("\0")
        elif mechanism.upper() == "LOGIN":
            await self.say("334 " + base64.b64encode(b"Username:").decode())
            user = base64.b64decode((await self.line()) or b"").decode()
            await self.say("334 " + base64.b64encode(b"Password:").decode())
            password = base64.b64decode((await self.line()) or b"").decode()
        else:
            await self.say("504 unrecognised authentication type")
            return
        if self.server.users.get(user) == password:
            self.user = user
            await self.say("235 authentication successful")
        else:
            await self.say("535 5.7.8 authentication credentials invalid")

    async def data(self) -> None:
        if self.server.users and self.user is None:
            await self.say("530 5.7.0 authentication required")
            return
        await self.say("354 end data with <CR><LF>.<CR><LF>")
        lines: list[bytes] = []
        while (line := await self.line()) is not None and line != b".":
            lines.append(line[1:] if line.startswith(b"..") else line)
        self.server.mails.append(Mail(self.sender, self.recipients, message_from_bytes(b"\r\n".join(lines)),
                                      self.tls, self.user))
        await self.say("250 OK queued")
