"""``isotrack ppp verify`` (the pharmacy's offline check: public keys only) and
``isotrack ppp keys list|export|rotate`` (the clinic's signing keys)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from isotrack.cli.app import out, parse_day, print_json, translate_errors
from isotrack.cli.db_cmd import CLI_ACTOR, DatabaseOption, now, open_database
from isotrack.cli.ppp_cmd import authorization_json, capsules_text, describe, ppp_app
from isotrack.clinical.programme import Authorization, check_in_force
from isotrack.errors import InvalidInputError
from isotrack.store.ppp_keys import list_keys, public_jwks, rotate_keys
from isotrack.store.ppp_tokens import load_jwks, verify_authorization

DEFAULT_OVERLAP_DAYS = 30
"""How long a retired key keeps verifying by default: longer than any dispensing
window, so every token signed before the rotation expires first."""

keys_app = typer.Typer(
    name="keys",
    help="The clinic's keys that sign pharmacy authorisations: list, export the public "
    "keys, rotate.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
ppp_app.add_typer(keys_app, name="keys")


def offline_check(token: str, jwks_text: str) -> Authorization:
    """The authorisation a token states, checked with the public keys of a JWKS only
    (its day is not checked here)."""
    return verify_authorization(token, load_jwks(jwks_text))


# --- isotrack ppp verify ----------------------------------------------------------------------
@ppp_app.command("verify")
@translate_errors
def verify_command(
    token: Annotated[
        str, typer.Argument(metavar="TOKEN", help="The token printed or in the QR code.")
    ],
    jwks: Annotated[
        Path,
        typer.Option(
            "--jwks", metavar="FILE", help="The clinic's public keys (isotrack ppp keys export)."
        ),
    ],
    on: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help="The day of the dispense (default: today)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Check an authorisation token offline, with the clinic's public keys only.

    Valid: signed (EdDSA) by a key of the JWKS file and the day is within the
    authorisation; prints whom it is for (name, date of birth) and what it
    allows (capsules per strength, do-not-dispense-after date), to compare with
    the person at the counter. Invalid (another algorithm, unknown key,
    altered, malformed) or not in force that day: one line on stderr, exit 1.
    No database, secret or network is used. Whether it was already dispensed
    only the clinic knows: record the dispense against it there.

    Example: [bold]isotrack ppp verify eyJhbGciOiJFZERTQSIs... --jwks clinic-keys.json[/bold]
    """
    day = parse_day("--date", on)
    try:
        jwks_text = jwks.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInputError("--jwks", f"cannot be read: {error.strerror}") from None
    authorization = offline_check(token, jwks_text)
    in_force = authorization.issued_on <= day <= authorization.not_after
    if as_json:
        print_json(
            {
                "signature": "valid",
                "in_force": in_force,
                "checked_on": day.isoformat(),
                "authorization": authorization_json(authorization),
            }
        )
    else:
        out.print("Signature: valid (one of the clinic's published keys)", markup=False)
        out.print(f"Authorises: {describe(authorization)}", markup=False)
    check_in_force(authorization, day)  # ProgrammeRefusal: expired, or not yet issued
    if not as_json:
        out.print(
            f"In force on {day}: check the name and date of birth, then dispense at most "
            f"{capsules_text(authorization)}, no later than {authorization.not_after}.",
            markup=False,
        )


# --- isotrack ppp keys ------------------------------------------------------------------------
@keys_app.command("list")
@translate_errors
def list_command(database: DatabaseOption = None) -> None:
    """List the signing keys: active, still verifying (overlap) or expired.

    Example: [bold]isotrack ppp keys list --database sqlite:///clinic.db[/bold]
    """
    moment = now()
    with open_database(database) as engine:
        keys = list_keys(engine, now=moment)
    if not keys:
        out.print("No signing key yet: the first authorisation makes one.", markup=False)
        return
    table = Table(title="Keys that sign pharmacy authorisations")
    for column in ("kid", "status", "created", "by", "retired", "verifies until"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.kid,
            key.status,
            key.created_at.isoformat(timespec="minutes"),
            key.created_by,
            key.retired_at.isoformat(timespec="minutes") if key.retired_at else "",
            key.verify_until.isoformat(timespec="minutes") if key.verify_until else "",
        )
    out.print(table)


@keys_app.command("export")
@translate_errors
def export_command(
    out_file: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="Write the JWKS here (default: print)."),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Export the public keys (JWKS) a pharmacy needs to check tokens offline.

    The active key and the retired ones still in their overlap; never a
    private key. The same document as GET /.well-known/jwks.json.

    Example: [bold]isotrack ppp keys export --out clinic-keys.json[/bold]
    """
    with open_database(database) as engine:
        document = public_jwks(engine, now=now())
    text = json.dumps(document, indent=2) + "\n"
    if out_file is None:
        out.print(text, markup=False, end="")
        return
    out_file.write_text(text, encoding="utf-8")
    out.print(f"Wrote {len(document['keys'])} public key(s) to {out_file}", markup=False)


@keys_app.command("rotate")
@translate_errors
def rotate_command(
    overlap_days: Annotated[
        int,
        typer.Option(
            "--overlap-days",
            min=0,
            help="How long the old key keeps verifying the tokens it signed.",
        ),
    ] = DEFAULT_OVERLAP_DAYS,
    database: DatabaseOption = None,
) -> None:
    """Make a new signing key; the old one keeps verifying for the overlap.

    Tokens signed before the rotation stay valid until the overlap ends (give
    pharmacies the new export before then); after it they are refused.

    Example: [bold]isotrack ppp keys rotate --overlap-days 30[/bold]
    """
    moment = now()
    with open_database(database) as engine:
        kid = rotate_keys(engine, now=moment, actor=CLI_ACTOR, overlap=timedelta(days=overlap_days))
    until = (moment + timedelta(days=overlap_days)).isoformat(timespec="minutes")
    out.print(f"New signing key {kid}; the previous one verifies until {until}.", markup=False)
    out.print("Export the public keys again for pharmacies that work offline.", markup=False)
