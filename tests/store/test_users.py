"""The user repository on both backends: users, deactivation, refresh-token revocation.

The PostgreSQL database is shared by the storage tests and its user tables are
not emptied between them: every name and token id here is made unique.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from isotrack.errors import ConflictError, NotFoundError
from isotrack.store.users import StoredRefreshToken, StoredUser, user_transaction

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}"


def _add(engine: Engine, name: str, role: str = "nurse") -> StoredUser:
    user = StoredUser.new(unique(name), role, "$argon2id$stored-hash", created_at=AT)
    with user_transaction(engine) as tx:
        tx.users.add(user)
    return user


def _token(user: StoredUser, token_id: str, family_id: str) -> StoredRefreshToken:
    """Ids are qualified with the user's (unique) name."""
    return StoredRefreshToken(
        id=f"{user.username}:{token_id}", user_id=user.id, family_id=f"{user.username}:{family_id}",
        issued_at=AT, expires_at=AT + timedelta(days=1),
    )  # fmt: skip


def test_a_created_user_is_found_by_name_and_id(database: Engine) -> None:
    user = _add(database, "nurse.kim")
    with user_transaction(database) as tx:
        by_name = tx.users.by_username(user.username)
        by_id = tx.users.by_id(user.id)
    assert by_name is not None
    assert by_id is not None
    assert (by_name.id, by_name.role, by_name.active) == (user.id, "nurse", True)
    assert by_id.password_hash == "$argon2id$stored-hash"  # noqa: S105  # a stored hash


def test_a_username_is_unique(database: Engine) -> None:
    kim = _add(database, "nurse.kim")
    with pytest.raises(ConflictError), user_transaction(database) as tx:
        tx.users.add(StoredUser.new(kim.username, "prescriber", "$argon2id$x", created_at=AT))
    with user_transaction(database) as tx:
        assert [u.role for u in tx.users.all() if u.username == kim.username] == ["nurse"]


def test_a_patient_user_needs_an_existing_record(database: Engine) -> None:
    user = StoredUser.new(
        unique("pat"), "patient", "$argon2id$x", created_at=AT, patient_id="nobody"
    )
    with pytest.raises(NotFoundError), user_transaction(database) as tx:
        tx.users.add(user)


def test_deactivating_keeps_the_user_but_disables_it(database: Engine) -> None:
    user = _add(database, "nurse.kim")
    with user_transaction(database) as tx:
        assert tx.users.deactivate(user.id)
        assert not tx.users.deactivate("00000000-0000-0000-0000-000000000000")
    with user_transaction(database) as tx:
        stored = tx.users.by_id(user.id)
    assert stored is not None
    assert stored.active is False


def test_revoking_a_family_revokes_only_that_family(database: Engine) -> None:
    user = _add(database, "nurse.kim")
    with user_transaction(database) as tx:
        for token_id, family in (("t1", "f1"), ("t2", "f1"), ("t3", "f2")):
            tx.users.add_refresh_token(_token(user, token_id, family))
    with user_transaction(database) as tx:
        assert tx.users.use_refresh_token(f"{user.username}:t1", AT)
        assert not tx.users.use_refresh_token(f"{user.username}:t1", AT)
        assert tx.users.revoke_family(f"{user.username}:f1", AT) == 2
        assert tx.users.revoke_family(f"{user.username}:f1", AT) == 0
    with user_transaction(database) as tx:
        revoked = {t: tx.users.refresh_token(f"{user.username}:{t}") for t in ("t1", "t2", "t3")}
        assert not tx.users.use_refresh_token(f"{user.username}:t2", AT)
    assert all(revoked[t].revoked_at is not None for t in ("t1", "t2"))  # type: ignore[union-attr]
    assert revoked["t3"] is not None
    assert revoked["t3"].revoked_at is None


def test_revoking_a_users_tokens_spares_other_users(database: Engine) -> None:
    kim, lee = _add(database, "nurse.kim"), _add(database, "nurse.lee")
    with user_transaction(database) as tx:
        tx.users.add_refresh_token(_token(kim, "k1", "fk"))
        tx.users.add_refresh_token(_token(lee, "l1", "fl"))
    with user_transaction(database) as tx:
        assert tx.users.revoke_user_tokens(kim.id, AT) == 1
    with user_transaction(database) as tx:
        assert not tx.users.use_refresh_token(f"{kim.username}:k1", AT)
        assert tx.users.use_refresh_token(f"{lee.username}:l1", AT)
