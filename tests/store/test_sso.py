"""Single sign-on in the store, on both backends: a sign-in under way is taken once,
never after its time; an identity links to one user and is kept by backups."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from isotrack.store import export_tables
from isotrack.store.sso import PendingSsoRequest
from isotrack.store.users import StoredUser, user_transaction

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def pending(expires_at: datetime = AT + timedelta(minutes=10)) -> PendingSsoRequest:
    return PendingSsoRequest(
        state_digest=uuid.uuid4().hex * 2,
        browser_digest="b" * 64,
        nonce="a-nonce",
        code_verifier="a-code-verifier",
        next_url="/clinic",
        expires_at=expires_at,
    )


def test_a_sign_in_under_way_is_taken_once(database: Engine) -> None:
    request = pending()
    with user_transaction(database) as tx:
        tx.sso.add_request(request)
    with user_transaction(database) as tx:
        assert tx.sso.take_request(request.state_digest, AT) == request
    with user_transaction(database) as tx:
        assert tx.sso.take_request(request.state_digest, AT) is None


def test_two_callbacks_at_once_take_it_once(database: Engine) -> None:
    request = pending()
    with user_transaction(database) as tx:
        tx.sso.add_request(request)
    results: list[PendingSsoRequest | None] = []

    def take() -> None:
        with user_transaction(database) as tx:
            results.append(tx.sso.take_request(request.state_digest, AT))

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(result is None for result in results) == [False, True]


def test_an_expired_sign_in_is_refused_and_purged(database: Engine) -> None:
    old, fresh = pending(AT - timedelta(seconds=1)), pending()
    with user_transaction(database) as tx:
        tx.sso.add_request(old)
        tx.sso.add_request(fresh)
    with user_transaction(database) as tx:
        assert tx.sso.purge_expired(AT) >= 1
        assert tx.sso.take_request(old.state_digest, AT) is None
        assert tx.sso.take_request(fresh.state_digest, AT + timedelta(minutes=11)) is None


def test_an_identity_links_to_its_user_and_is_kept_by_backups(database: Engine) -> None:
    user = StoredUser.new(f"dr-{uuid.uuid4().hex[:8]}", "prescriber", "!sso", created_at=AT)
    subject = uuid.uuid4().hex
    with user_transaction(database) as tx:
        tx.users.add(user)
        tx.sso.link("https://idp.example.org", subject, user.id, AT)
        tx.sso.set_role(user.id, "pharmacist")
    with user_transaction(database) as tx:
        assert tx.sso.user_of("https://idp.example.org", subject) == user.id
        assert tx.sso.user_of("https://other.example.org", subject) is None
        assert tx.users.by_id(user.id).role == "pharmacist"  # type: ignore[union-attr]
    rows = export_tables(database)["tables"]["sso_identities"]
    assert subject in str(rows)
