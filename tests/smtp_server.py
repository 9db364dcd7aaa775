"""A real SMTP server for tests (aiosmtpd, on 127.0.0.1 and a free port) that keeps
every message it receives, so a test reads what isotrack actually sent.

    with running_smtp_server() as smtp:
        settings = Settings(smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none", ...)
        ...
        message = smtp.wait_for("ana@example.org")
        link = smtp.link_in(message, "/invitation/")
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

WAIT_SECONDS = 10
_LINK = re.compile(r"https?://\S+")


class _Keeper(MessageHandler):
    def __init__(
        self, mail_delay: float = 0.0, rcpt_reply: str | None = None, reply_delay: float = 0.0
    ) -> None:
        super().__init__()
        self.messages: list[Message] = []
        self.arrived = threading.Condition()
        self.mail_delay = mail_delay
        self.mail_commands = 0
        self.rcpt_reply = rcpt_reply
        self.reply_delay = reply_delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep the message, then wait ``reply_delay`` before saying 250: a server that
        has the message while its client does not know yet."""
        reply = str(await super().handle_DATA(server, session, envelope))
        await asyncio.sleep(self.reply_delay)
        return reply

    async def handle_RCPT(  # noqa: N802  # aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        """Take the recipient, or answer ``rcpt_reply`` (e.g. '550 no such user')."""
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_MAIL(  # noqa: N802  # aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        """Count each MAIL FROM (a message begins), then answer after ``mail_delay``: a
        slow server, so a test can stop a client while it waits."""
        with self.arrived:
            self.mail_commands += 1
            self.arrived.notify_all()
        await asyncio.sleep(self.mail_delay)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    def handle_message(self, message: Message) -> None:
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()


class SmtpServer:
    """The running server: where it listens and what it received."""

    def __init__(self, host: str, port: int, keeper: _Keeper) -> None:
        self.host = host
        self.port = port
        self._keeper = keeper

    @property
    def messages(self) -> list[Message]:
        with self._keeper.arrived:
            return list(self._keeper.messages)

    def answer_at_once(self) -> None:
        """From now on, say 250 as soon as a message is kept (no ``reply_delay``)."""
        self._keeper.reply_delay = 0.0

    def wait_for_mail_command(self, count: int, seconds: float = WAIT_SECONDS) -> None:
        """Until the ``count``-th MAIL FROM has arrived (a message is being sent)."""
        deadline = time.monotonic() + seconds
        with self._keeper.arrived:
            while self._keeper.mail_commands < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no MAIL command {count} within {seconds} s")
                self._keeper.arrived.wait(left)

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, address: str, *, count: int = 1) -> Message:
        """The ``count``-th message to ``address`` (waits up to WAIT_SECONDS)."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self._keeper.arrived:
            while len(self.to_unlocked(address)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no message {count} to {address} within {WAIT_SECONDS} s")
                self._keeper.arrived.wait(left)
            return self.to_unlocked(address)[count - 1]

    def to_unlocked(self, address: str) -> list[Message]:
        return [m for m in self._keeper.messages if address.lower() in str(m["To"]).lower()]

    @staticmethod
    def body(message: Message) -> str:
        payload = message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode(message.get_content_charset() or "utf-8")

    @classmethod
    def link_in(cls, message: Message, path: str) -> str:
        """The one link of the message whose path starts with ``path``."""
        links = [link for link in _LINK.findall(cls.body(message)) if path in link]
        assert len(links) == 1, f"expected one {path} link in: {cls.body(message)!r}"
        return links[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_smtp_server(
    *, mail_delay: float = 0.0, rcpt_reply: str | None = None, reply_delay: float = 0.0
) -> Iterator[SmtpServer]:
    keeper = _Keeper(mail_delay, rcpt_reply, reply_delay)
    port = _free_port()
    controller = Controller(keeper, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, keeper)
    finally:
        controller.stop()
