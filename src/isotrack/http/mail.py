"""Email over SMTP: the one place isotrack sends mail (portal invitations, password
resets), with the server of the settings (``ISOTRACK_SMTP_*``, ``ISOTRACK_MAIL_FROM``).

:func:`mail_server` is None when no server is set: nothing is sent and the pages
say so (an invitation link is then handed over in person). :func:`send_mail`
sends one plain-text message or raises :class:`MailNotSent` with the reason; it
never logs the message (it carries a one-time link).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

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


def send_mail(server: MailServer, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; MailNotSent (with the reason) when it was not."""
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=server.sender.rpartition("@")[2] or None)
    message.set_content(body)
    try:
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
    except (OSError, smtplib.SMTPException) as error:
        raise MailNotSent(
            f"the mail server {server.host}:{server.port} did not take the message ({error})"
        ) from None


def link_base(settings: Settings, request_base: str, *, anonymous: bool) -> str | None:
    """The base URL of links in emails: ``ISOTRACK_CDS_PUBLIC_URL`` (the server's
    external URL) when set. Without it, a page a signed-in staff member asked for
    may use the request's own scheme and host, and so may any page in development
    and test; a request from anyone (a password reset) may not in production, since
    its Host header would choose where the link points: None then."""
    if settings.cds_public_url:
        return settings.cds_public_url.rstrip("/")
    if settings.relaxed or not anonymous:
        return request_base.rstrip("/")
    return None


def invitation_message(link: str, expires: str) -> tuple[str, str]:
    """(subject, body) of a patient portal invitation."""
    return (
        "Your isotretinoin treatment: set up your patient account",
        "Your clinic invites you to its patient pages for your isotretinoin treatment:\n"
        "your schedule, your tests, and where you report side effects and answer the\n"
        "monthly questions.\n\n"
        f"Open this link to choose your username and password:\n\n    {link}\n\n"
        f"The link works once, until {expires}. If it has expired, ask the clinic for a\n"
        "new one. If you did not expect this email, you can ignore it.\n",
    )


def reset_message(link: str, expires: str) -> tuple[str, str]:
    """(subject, body) of a password-reset email."""
    return (
        "Reset your isotrack password",
        "Someone (we hope you) asked to reset the password of your isotrack account.\n\n"
        f"Open this link to choose a new password:\n\n    {link}\n\n"
        f"The link works once, until {expires}. If you did not ask for it, ignore this\n"
        "email: your password stays as it is.\n",
    )
