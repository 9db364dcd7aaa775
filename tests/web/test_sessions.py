"""Properties of the session helpers: redirects stay on this site, flash cookies
round-trip and never crash on hostile input, CSRF tokens are bound to their cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from isotrack.web.routes.account import safe_next
from isotrack.web.sessions import (
    Flash,
    csrf_token_for_login,
    csrf_token_for_session,
    read_flashes,
    session_id,
    sign_flashes,
    tokens_match,
)

KEY = b"a-test-key-of-at-least-32-bytes!!"
kinds = st.sampled_from(["success", "info", "warning", "error"])


@given(st.text())
def test_safe_next_never_leaves_this_site(candidate: str) -> None:
    chosen = safe_next(candidate)
    if chosen is not None:
        parts = urlsplit(chosen)
        assert chosen.startswith("/")
        assert not chosen.startswith("//")
        assert parts.scheme == ""
        assert parts.netloc == ""


@given(st.lists(st.tuples(kinds, st.text()), max_size=3))
def test_flashes_round_trip(messages: list[tuple[str, str]]) -> None:
    flashes = [Flash(kind, text) for kind, text in messages]
    assert read_flashes(KEY, sign_flashes(KEY, flashes)) == flashes


@given(st.text())
def test_a_hostile_flash_cookie_is_ignored_not_a_crash(cookie: str) -> None:
    assert read_flashes(KEY, cookie) == []


@given(st.lists(st.tuples(kinds, st.text()), min_size=1, max_size=3))
def test_an_altered_flash_cookie_shows_nothing(messages: list[tuple[str, str]]) -> None:
    signed = sign_flashes(KEY, [Flash(kind, text) for kind, text in messages])
    payload, mac = signed.rsplit(".", 1)
    assert read_flashes(KEY, payload + "x." + mac) == []


@given(st.text(min_size=1), st.text(min_size=1))
def test_a_csrf_token_matches_only_its_own_cookie(first: str, second: str) -> None:
    token = csrf_token_for_session(KEY, first)
    assert tokens_match(token, csrf_token_for_session(KEY, first))
    assert tokens_match(token, csrf_token_for_session(KEY, second)) == (first == second)
    assert not tokens_match(token, csrf_token_for_login(KEY, first))


def test_missing_tokens_never_match() -> None:
    assert not tokens_match(None, "x")
    assert not tokens_match("", "")
    assert not tokens_match("x", None)


def test_the_stored_session_id_is_not_the_token() -> None:
    assert session_id("token") != "token"
    assert len(session_id("token")) == 64
