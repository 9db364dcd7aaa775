"""Secrets kept in the database sealed with the server key: an EHR's access token is
stored as AES-256-GCM ciphertext under a key derived (HKDF-SHA256) from
``ISOTRACK_SECRET_KEY`` for one purpose, so a copy of the database (a backup, a
replica) holds no usable token. Rotating the server key makes what was sealed
unreadable: :func:`unseal` then answers None (the clinician launches again).

>>> sealed = seal(b"k" * 32, "an-access-token", purpose="smart-access-token")
>>> sealed.startswith("v1.") and "an-access-token" not in sealed
True
>>> unseal(b"k" * 32, sealed, purpose="smart-access-token")
'an-access-token'
>>> unseal(b"x" * 32, sealed, purpose="smart-access-token") is None
True
>>> unseal(b"k" * 32, sealed, purpose="another-purpose") is None
True
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1."
_NONCE_BYTES = 12


def _key(server_key: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"isotrack:{purpose}".encode()
    ).derive(server_key)


def seal(server_key: bytes, text: str, *, purpose: str) -> str:
    """``text`` encrypted and authenticated for ``purpose`` (printable ASCII)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(server_key, purpose)).encrypt(nonce, text.encode("utf-8"), None)
    return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(server_key: bytes, sealed: str, *, purpose: str) -> str | None:
    """The text of :func:`seal`; None when it was sealed under another key or purpose,
    or is not a sealed value at all."""
    if not sealed.startswith(VERSION):
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed[len(VERSION) :].encode("ascii"))
        nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        return AESGCM(_key(server_key, purpose)).decrypt(nonce, body, None).decode("utf-8")
    except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
        return None
