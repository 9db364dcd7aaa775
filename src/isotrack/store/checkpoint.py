"""Signed checkpoints of the audit trail: its head, anchored outside the database.

The audit chain is unkeyed: whoever can write the database can edit a row and
recompute every hash after it, or delete the newest rows, and the chain still
verifies. A checkpoint closes both holes. It names the number of rows and the
``row_hash`` of the last one, signed with an Ed25519 key the database never
holds; kept elsewhere (another machine, a ticket, a printout), it lets
:func:`~isotrack.store.verification.verify_audit` detect

- a recomputed chain: row ``rows`` no longer has the signed hash;
- deleted newest rows: the trail is shorter than ``rows``.

Rows appended after the newest checkpoint are covered by the next one: write
checkpoints often (``isotrack audit checkpoint`` from cron).

The file is JSON: ``format``, ``version``, ``rows``, ``head_hash``, ``at``,
``key_id`` (the first 16 hex digits of the SHA-256 of the raw public key) and
``signature`` (base64 Ed25519 over the canonical JSON of the other fields).
Keys are PEM files: the private key (PKCS #8, readable by its owner only) signs;
its public half (SubjectPublicKeyInfo, ``.pub``) verifies.

>>> key = Ed25519PrivateKey.generate()
>>> signed = sign_checkpoint(rows=3, head_hash="ab" * 32, at="2026-03-02T09:00:00+00:00", key=key)
>>> read_checkpoint_document(signed, key.public_key()).rows
3
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from isotrack.errors import InvalidInputError
from isotrack.store.hashing import canonical_json

CHECKPOINT_FORMAT = "isotrack-audit-checkpoint"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint whose signature was checked."""

    rows: int
    head_hash: str
    at: str
    key_id: str


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key_pair(path: str | Path) -> tuple[Path, Path]:
    """Write a new private key to ``path`` (owner-only) and its public half to
    ``path.pub``; refuses to overwrite either. Returns both paths."""
    private_path = Path(path)
    public_path = private_path.with_name(private_path.name + ".pub")
    for existing in (private_path, public_path):
        if existing.exists():
            raise InvalidInputError("key", f"{existing} exists already: choose another file")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def load_signing_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file ``path``."""
    try:
        key = serialization.load_pem_private_key(_read_key_file(path), password=None)
    except (ValueError, TypeError) as error:
        raise InvalidInputError("key", f"{path} is not a PEM private key: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInputError("key", f"{path} is not an Ed25519 private key")
    return key


def load_verify_key(path: str | Path) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file ``path`` (or the public half of a
    private key file)."""
    data = _read_key_file(path)
    if b"PRIVATE KEY" in data:
        return load_signing_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as error:
        raise InvalidInputError("key", f"{path} is not a PEM public key: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInputError("key", f"{path} is not an Ed25519 public key")
    return key


def sign_checkpoint(
    *, rows: int, head_hash: str, at: str, key: Ed25519PrivateKey
) -> dict[str, Any]:
    """The checkpoint document for a trail of ``rows`` rows ending in ``head_hash``."""
    body: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "rows": rows,
        "head_hash": head_hash,
        "at": at,
        "key_id": key_id(key.public_key()),
    }
    signature = key.sign(canonical_json(body).encode("utf-8"))
    return body | {"signature": base64.b64encode(signature).decode("ascii")}


def write_checkpoint(document: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def read_checkpoint(path: str | Path, key: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint in ``path``; InvalidInputError when it cannot be read or its
    signature is not ``key``'s."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInputError("checkpoint", f"{path} cannot be read: {error}") from error
    return read_checkpoint_document(document, key, source=str(path))


def read_checkpoint_document(
    document: object, key: Ed25519PublicKey, *, source: str = "the checkpoint"
) -> Checkpoint:
    if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
        raise InvalidInputError("checkpoint", f"{source} is not an isotrack audit checkpoint")
    body = {name: value for name, value in document.items() if name != "signature"}
    try:
        signature = base64.b64decode(str(document.get("signature", "")), validate=True)
        key.verify(signature, canonical_json(body).encode("utf-8"))
    except (ValueError, InvalidSignature):
        raise InvalidInputError(
            "checkpoint",
            f"{source}: the signature does not match (changed, or signed by key "
            f"{body.get('key_id')!s}, not by the verification key {key_id(key)})",
        ) from None
    rows, head_hash = body.get("rows"), body.get("head_hash")
    if not isinstance(rows, int) or rows < 0 or not isinstance(head_hash, str):
        raise InvalidInputError("checkpoint", f"{source} has no valid rows and head_hash")
    return Checkpoint(rows, head_hash, str(body.get("at")), str(body.get("key_id")))


def _read_key_file(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise InvalidInputError("key", f"key file {path} cannot be read: {error}") from error
