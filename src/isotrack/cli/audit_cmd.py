"""``isotrack audit verify``, ``checkpoint`` and ``keygen``: check the hash chain of
the audit trail, and anchor its head outside the database with a signed checkpoint
(see :mod:`isotrack.store.checkpoint` and docs/audit.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from isotrack.cli.app import app, out, print_json, translate_errors
from isotrack.cli.db_cmd import (
    CheckpointKeyOption,
    CheckpointOption,
    DatabaseOption,
    open_database,
    read_anchor,
)
from isotrack.errors import StorageError
from isotrack.store import verify_audit
from isotrack.store.checkpoint import (
    generate_key_pair,
    key_id,
    load_signing_key,
    load_verify_key,
    sign_checkpoint,
    write_checkpoint,
)
from isotrack.store.hashing import timestamp_text

audit_app = typer.Typer(
    name="audit",
    help="The audit trail of every command and every read of a patient's record.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
@translate_errors
def verify_command(
    database: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    checkpoint: CheckpointOption = None,
    key: CheckpointKeyOption = None,
) -> None:
    """Check that no audit row was changed, deleted or inserted.

    Each row holds the SHA-256 of the previous row and of its own fields.
    Exit code 0 when the chain is intact, 1 when it is broken (the first
    broken row is named). Without --checkpoint a chain recomputed after an
    edit, or a trail whose newest rows were deleted, still verifies.

    Example: [bold]isotrack audit verify --checkpoint audit.json --key audit-key.pem.pub[/bold]
    """
    anchor = read_anchor(checkpoint, key)
    with open_database(database) as engine:
        result = verify_audit(engine, checkpoint=anchor)
    if as_json:
        print_json(
            {
                "ok": result.ok,
                "rows": result.rows,
                "first_broken": result.first_broken,
                "reason": result.reason,
                "head_hash": result.head_hash,
            }
        )
    elif result.ok and anchor is not None:
        out.print(f"Audit trail intact: {result.reason}.", markup=False)
    elif result.ok:
        out.print(
            f"Audit trail intact: {result.rows} row(s) checked; head hash {result.head_hash} "
            "(anchor it: `isotrack audit checkpoint`).",
            markup=False,
        )
    if not result.ok:
        typer.echo(
            f"error: audit trail broken at row {result.first_broken}: {result.reason}", err=True
        )
        raise typer.Exit(1)


@audit_app.command("checkpoint")
@translate_errors
def checkpoint_command(
    key: Annotated[
        Path,
        typer.Option(
            "--key", metavar="FILE", help="Private key (PEM, `isotrack audit keygen`) to sign with."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="Write the checkpoint here (default: print)."),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Sign the head of the audit trail (its row count and last hash), to keep elsewhere.

    The trail is verified first: a broken trail is not signed (exit 1). Keep the
    checkpoint off the database server (another machine, a ticket); `isotrack
    audit verify --checkpoint FILE` then detects a recomputed chain and deleted
    newest rows.

    Example: [bold]isotrack audit checkpoint --key audit-key.pem --out audit-$(date +%F).json[/bold]
    """
    signing_key = load_signing_key(key)
    with open_database(database) as engine:
        result = verify_audit(engine)
    if not result.ok:
        raise StorageError(
            f"audit trail broken at row {result.first_broken}: {result.reason}; not signed"
        )
    document = sign_checkpoint(
        rows=result.rows,
        head_hash=result.head_hash,
        at=timestamp_text(datetime.now(UTC)),
        key=signing_key,
    )
    if output is None:
        print_json(document)
        return
    write_checkpoint(document, output)
    out.print(
        f"Checkpoint of {result.rows} row(s), head hash {result.head_hash}, written to "
        f"{output} (key {document['key_id']}).",
        markup=False,
    )


@audit_app.command("keygen")
@translate_errors
def keygen_command(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Where to write the private key (PEM).")
    ],
) -> None:
    """Make an Ed25519 key pair for audit checkpoints: FILE (private, owner-only) and
    FILE.pub (public).

    Keep FILE where checkpoints are signed (`audit checkpoint --key FILE`) and
    give FILE.pub to whoever verifies them (`audit verify --key FILE.pub`).

    Example: [bold]isotrack audit keygen /etc/isotrack/audit-key.pem[/bold]
    """
    private_path, public_path = generate_key_pair(file)
    public = load_verify_key(public_path)
    out.print(
        f"Key {key_id(public)}: private key {private_path}, public key {public_path}.",
        markup=False,
    )
