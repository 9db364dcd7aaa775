"""Sending email: one plain-text message to a real SMTP server (aiosmtpd); a server
that does not answer is MailNotSent with the reason; a password never goes in clear
outside development and test; links in emails use the configured public URL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from tests.smtp_server import SmtpServer, running_smtp_server

from isotrack.http.mail import (
    MailNotSent,
    MailServer,
    link_base,
    mail_server,
    reset_message,
    send_mail,
)
from isotrack.settings import Settings


def test_a_message_arrives_as_sent() -> None:
    with running_smtp_server() as smtp:
        settings = Settings(
            env="test", smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none",
            mail_from="clinic@example.org",
        )  # fmt: skip
        server = mail_server(settings)
        assert server is not None
        subject, body = reset_message("https://isotrack.example.org/password/reset/abc", "soon")
        send_mail(server, "kim@example.org", subject, body)
        message = smtp.wait_for("kim@example.org")
    assert message["Subject"] == "Reset your isotrack password"
    assert message["From"] == "clinic@example.org"
    assert SmtpServer.link_in(message, "/password/reset/").endswith("/password/reset/abc")


def test_no_server_no_mail_and_a_dead_server_is_mail_not_sent() -> None:
    assert mail_server(Settings(env="test")) is None
    with running_smtp_server() as smtp:
        port = smtp.port  # free again once the server stops
    dead = MailServer(host="127.0.0.1", port=port, security="none", sender="a@example.org")
    with pytest.raises(MailNotSent, match=f"127.0.0.1:{port}"):
        send_mail(dead, "kim@example.org", "subject", "body")


def test_a_password_is_never_sent_in_clear_in_production() -> None:
    with pytest.raises(ValidationError, match="in clear"):
        Settings(env="production", smtp_security="none", smtp_password="secret-password")  # noqa: S106
    assert Settings(env="test", smtp_security="none", smtp_password="x").smtp_password  # noqa: S106


def test_anonymous_links_need_the_public_url_in_production() -> None:
    production = Settings(env="production")
    assert link_base(production, "http://evil.example/", anonymous=True) is None
    assert link_base(production, "https://clinic.example/", anonymous=False) == (
        "https://clinic.example"
    )
    public = Settings(env="production", cds_public_url="https://isotrack.example.org")
    assert link_base(public, "http://evil.example/", anonymous=True) == (
        "https://isotrack.example.org"
    )
