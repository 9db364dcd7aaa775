"""One-time links on both backends: kept as digests, used once, not after expiry,
withdrawn by a newer link; users' lock flag, second factor and email look-up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from isotrack.store.account_tokens import StoredAccountToken, token_digest
from isotrack.store.models import AccountTokenRow
from isotrack.store.users import StoredUser, user_transaction

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _invitation(patient_id: str, token: str, *, hours: int = 24) -> StoredAccountToken:
    return StoredAccountToken(
        id=token_digest(token),
        purpose="invitation",
        created_by="nurse",
        created_at=AT,
        expires_at=AT + timedelta(hours=hours),
        patient_id=patient_id,
        email="pat@example.org",
    )


def test_a_link_is_stored_as_its_digest_and_used_only_once(database: Engine) -> None:
    token = uuid.uuid4().hex
    with user_transaction(database) as tx:
        tx.tokens.add(_invitation("p-" + token[:8], token))
    with Session(database) as session:
        ids = set(session.scalars(select(AccountTokenRow.id)))
    assert token not in ids
    assert token_digest(token) in ids
    with user_transaction(database) as tx:
        stored = tx.tokens.get(token_digest(token), "invitation")
        assert stored is not None
        assert stored.usable(AT)
        assert tx.tokens.get(token_digest(token), "password-reset") is None
        assert tx.tokens.use(stored.id, AT + timedelta(minutes=1))
    with user_transaction(database) as tx:
        assert not tx.tokens.use(token_digest(token), AT + timedelta(minutes=2))
        again = tx.tokens.get(token_digest(token), "invitation")
        assert again is not None
        assert not again.usable(AT + timedelta(minutes=2))


def test_an_expired_link_cannot_be_used(database: Engine) -> None:
    token = uuid.uuid4().hex
    with user_transaction(database) as tx:
        tx.tokens.add(_invitation("p-" + token[:8], token, hours=1))
    with user_transaction(database) as tx:
        assert not tx.tokens.use(token_digest(token), AT + timedelta(hours=1))


def test_a_new_link_withdraws_the_older_ones_of_the_patient(database: Engine) -> None:
    patient = "p-" + uuid.uuid4().hex[:8]
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    with user_transaction(database) as tx:
        tx.tokens.add(_invitation(patient, first))
        assert tx.tokens.withdraw("invitation", AT, patient_id=patient) == 1
        tx.tokens.add(_invitation(patient, second))
    with user_transaction(database) as tx:
        assert not tx.tokens.use(token_digest(first), AT)
        assert tx.tokens.use(token_digest(second), AT)


def test_users_are_locked_unlocked_found_by_email_and_given_a_new_factor(
    database: Engine,
) -> None:
    name = f"kim-{uuid.uuid4().hex[:8]}"
    email = f"{name}@Clinic.example.org"
    user = StoredUser.new(name, "nurse", "$argon2id$x", created_at=AT, email=email)
    with user_transaction(database) as tx:
        tx.users.add(user)
        assert tx.users.set_active(user.id, False)
        tx.users.set_totp_secret(user.id, "JBSWY3DPEHPK3PXP")
    with user_transaction(database) as tx:
        stored = tx.users.by_id(user.id)
        assert stored is not None
        assert (stored.active, stored.totp_secret, stored.email) == (
            False, "JBSWY3DPEHPK3PXP", email,
        )  # fmt: skip
        assert [u.id for u in tx.users.by_email(email.upper())] == [user.id]
        assert tx.users.set_active(user.id, True)
        assert not tx.users.set_active(str(uuid.uuid4()), True)
    with user_transaction(database) as tx:
        stored = tx.users.by_id(user.id)
        assert stored is not None
        assert stored.active
