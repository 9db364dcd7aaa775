"""The email that carries account links (portal invitations, password resets): their
text and the base of their links. Sending is :mod:`isotrack.delivery.smtp`'s (the
one place isotrack sends mail, with the server of the settings); :func:`mail_server`
is None when no server is set: nothing is sent and the pages say so (an invitation
link is then handed over in person). :func:`send_mail` sends one plain-text message
or raises :class:`MailNotSent` with the reason; it never logs the message (it
carries a one-time link).
"""

from __future__ import annotations

from isotrack.delivery.smtp import MailNotSent, MailServer, mail_server, send_mail
from isotrack.settings import Settings

__all__ = [
    "MailNotSent",
    "MailServer",
    "invitation_message",
    "link_base",
    "mail_server",
    "reset_message",
    "send_mail",
]


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
