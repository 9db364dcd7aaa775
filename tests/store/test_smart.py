"""SMART launches in the store, on both backends: a launch under way is taken once and
never after its time; a launched session's access token is not handed out after its
own expiry, and goes with the web session it belongs to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete

from isotrack.store.models import RefreshTokenRow
from isotrack.store.smart import PendingLaunch, SmartSession
from isotrack.store.users import StoredUser, user_transaction
from isotrack.web.sessions import session_id, start_session

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def pending(expires_at: datetime = AT + timedelta(minutes=10)) -> PendingLaunch:
    return PendingLaunch(
        state_digest=uuid.uuid4().hex * 2,
        browser_digest="b" * 64,
        iss="https://ehr.example.org/fhir",
        ehr_launch=True,
        nonce="a-nonce",
        code_verifier="a-code-verifier",
        scope="openid fhirUser launch patient/Observation.rs",
        expires_at=expires_at,
    )


def test_a_launch_under_way_is_taken_once_and_never_after_its_time(database: Engine) -> None:
    launch, old = pending(), pending(AT - timedelta(seconds=1))
    with user_transaction(database) as tx:
        tx.smart.add_launch(launch)
        tx.smart.add_launch(old)
    with user_transaction(database) as tx:
        assert tx.smart.take_launch(launch.state_digest, AT) == launch
        assert tx.smart.take_launch(launch.state_digest, AT) is None
        assert tx.smart.take_launch(old.state_digest, AT) is None


def test_a_launched_session_keeps_its_token_until_it_expires_and_goes_with_its_session(
    database: Engine,
) -> None:
    with user_transaction(database) as tx:
        user = StoredUser.new("dr.smart", "prescriber", "!sso", created_at=AT)
        tx.users.add(user)
        cookie = start_session(tx, user.id, AT)
        tx.smart.add_session(
            SmartSession(
                session_id=session_id(cookie),
                iss="https://ehr.example.org/fhir",
                patient="ehr-1",
                access_token="the-access-token",  # noqa: S106  # a test value
                scope="openid launch",
                app_context="{}",
                embedded=True,
                created_at=AT,
                token_expires_at=AT + timedelta(minutes=5),
                expires_at=AT + timedelta(hours=12),
            )
        )
    with user_transaction(database) as tx:
        smart = tx.smart.session(session_id(cookie), AT + timedelta(minutes=1))
        assert smart is not None
        assert smart.token(AT + timedelta(minutes=1)) == "the-access-token"
        assert smart.token(AT + timedelta(minutes=5)) is None
        assert "the-access-token" not in repr(smart)
        assert tx.smart.session(session_id(cookie), AT + timedelta(hours=12)) is None
    with database.begin() as connection:  # the web session removed: its EHR side goes too
        assert connection.execute(delete(RefreshTokenRow)).rowcount == 1
    with user_transaction(database) as tx:
        assert tx.smart.session(session_id(cookie), AT) is None
