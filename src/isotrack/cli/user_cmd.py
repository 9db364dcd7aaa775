"""``isotrack user add``: create a user of the API with a generated password."""

from __future__ import annotations

from typing import Annotated

import typer

from isotrack.cli.app import app, out, translate_errors
from isotrack.cli.db_cmd import CLI_ACTOR, DatabaseOption, now, open_database
from isotrack.http.account_links import clean_email
from isotrack.http.passwords import create_user

user_app = typer.Typer(
    name="user",
    help="Users of the API: clinicians, pharmacists, patients and admins.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(user_app, name="user")


@user_app.command("add")
@translate_errors
def add_command(
    username: Annotated[str, typer.Argument(help="The sign-in name.")],
    role: Annotated[
        str,
        typer.Option("--role", help="admin, prescriber, nurse, pharmacist or patient."),
    ],
    patient: Annotated[
        str | None,
        typer.Option("--patient", metavar="ID", help="For a patient user: their record's id."),
    ] = None,
    totp: Annotated[
        bool,
        typer.Option("--totp", help="Add a TOTP second factor (required for admin)."),
    ] = False,
    email: Annotated[
        str | None,
        typer.Option("--email", help="Where password-reset links are sent (optional)."),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Create a user; the generated password (and TOTP URI) is printed once, never stored.

    A patient can instead make their own account from a portal invitation (the
    patient page in the web app); anyone with --email can reset a forgotten
    password from the sign-in page.

    Example: [bold]isotrack user add kim --role nurse --database sqlite:///clinic.db[/bold]
    """
    with open_database(database) as engine:
        user = create_user(
            engine, username, role, now=now(), actor=CLI_ACTOR, patient_id=patient,
            with_totp=totp, email=clean_email(email or ""),
        )  # fmt: skip
    out.print(f"User {user.username} ({user.role}) created; id {user.user_id}.", markup=False)
    out.print(f"Password (shown once): {user.password}", markup=False)
    if user.totp_uri is not None:
        out.print(
            f"TOTP URI for an authenticator app (shown once): {user.totp_uri}",
            markup=False,
            soft_wrap=True,
        )
