"""Email over SMTP: the one place isotrack sends mail, with the server of the settings
(``ISOTRACK_SMTP_*``, ``ISOTRACK_MAIL_FROM``).

:func:`mail_server` is None when no server is set. :func:`send_mail` sends one
plain-text message or raises :class:`MailNotSent` with the reason (the account
emails of :mod:`isotrack.http.mail`); :class:`EmailChannel` is the reminders'
channel: its Message-ID is made from the message's idempotency key, so a receiver
that sees the same message twice (see docs/reminders.md) can tell, and a refusal
is :class:`~isotrack.delivery.DeliveryFailed`, retryable for a 4xx reply or a
server out of reach, not for a 5xx one. Nothing here logs a message.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from isotrack.delivery import DeliveryFailed, OutgoingMessage, opaque_key
from isotrack.errors import IsotrackError
from isotrack.settings import Settings

SMTP_TIMEOUT_SECONDS = 10


class MailNotSent(IsotrackError):  # noqa: N818  # an outcome the page reports, not a crash
    """The mail server refused the message or could not be reached."""

    code = "mail-not-sent"


@dataclass(frozen=True, slots=True)
class MailServer:
    host: str
    port: int
    security: str
    """``starttls``, ``tls`` or ``none``."""
    sender: str
    username: str | None = None
    password: str | None = None

    @property
    def domain(self) -> str | None:
        return self.sender.rpartition("@")[2] or None


def mail_server(settings: Settings) -> MailServer | None:
    """The SMTP server of the settings; None when ``ISOTRACK_SMTP_HOST`` is not set."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password
    return MailServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=password.get_secret_value() if password is not None else None,
    )


def plain_message(
    server: MailServer, to: str, subject: str, body: str, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


def deliver(server: MailServer, message: EmailMessage) -> None:
    """Hand one message to the server; smtplib's or the socket's error when it did not."""
    if server.security == "tls":
        context = ssl.create_default_context()
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if server.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if server.username and server.password:
            client.login(server.username, server.password)
        client.send_message(message)


def send_mail(server: MailServer, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; MailNotSent (with the reason) when it was not."""
    message = plain_message(server, to, subject, body, make_msgid(domain=server.domain))
    try:
        deliver(server, message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailNotSent(
            f"the mail server {server.host}:{server.port} did not take the message ({error})"
        ) from None


def message_id(idempotency_key: str, domain: str | None) -> str:
    """The Message-ID of a queued message: the same for every attempt, naming nothing
    (a hash of the key, which holds the patient id and the kind)."""
    return f"<{opaque_key(idempotency_key)}@{domain or 'isotrack'}>"


class EmailChannel:
    """The email :class:`~isotrack.delivery.Channel`."""

    name = "email"

    def __init__(self, server: MailServer) -> None:
        self.server = server

    def send(self, message: OutgoingMessage) -> None:
        to = message.recipient.email
        if not to:
            raise DeliveryFailed(retryable=False, reason="the recipient has no email address")
        email = plain_message(
            self.server,
            to,
            message.subject,
            message.body,
            message_id(message.idempotency_key, self.server.domain),
        )
        try:
            deliver(self.server, email)
        except smtplib.SMTPResponseException as error:
            raise DeliveryFailed(
                retryable=400 <= error.smtp_code < 500,
                reason=f"the mail server replied {error.smtp_code}",
            ) from None
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise DeliveryFailed(
                retryable=all(400 <= code < 500 for code in codes),
                reason=f"the mail server refused the recipient ({codes})",
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(
                retryable=True,
                reason=f"the mail server {self.server.host}:{self.server.port} "
                f"could not be reached ({type(error).__name__})",
            ) from None
