"""The EHR token verifier: a token passes only when a configured issuer's key signed it
with RS384 or ES384 for this service, now, and for the first time."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.cds.jwks import JWKS_RETRY_SECONDS, JwksLoader
from isotrack.cds.security import (
    MAX_TOKEN_LIFETIME_SECONDS,
    EhrCaller,
    EhrTokenVerifier,
    authenticate_cds_request,
)
from isotrack.errors import CdsAuthError, InvalidInputError
from isotrack.settings import Settings, get_settings
from tests.cds.ehr_keys import AUDIENCE, ISSUER, NOW, Ehr, ec_key, public_jwk, rsa_key

LEEWAY = 30
RSA_KEY = rsa_key()
OTHER_RSA_KEY = rsa_key()
EC_KEY = ec_key()


class Clock:
    """Seconds since 1970 that a test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingFetcher:
    """A JWKS source that serves ``documents[location]`` (or raises it) and counts reads."""

    def __init__(self, documents: Mapping[str, Any]) -> None:
        self.documents = dict(documents)
        self.reads = 0

    def __call__(self, location: str) -> Mapping[str, Any]:
        self.reads += 1
        document = self.documents[location]
        if isinstance(document, Exception):
            raise document
        return document  # type: ignore[no-any-return]


@pytest.fixture
def ehr() -> Ehr:
    return Ehr(RSA_KEY)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def verifier_for(
    *ehrs: Ehr, clock: Callable[[], float] = lambda: NOW, **options: Any
) -> EhrTokenVerifier:
    keys: dict[str, list[dict[str, Any]]] = {}
    for each in ehrs:
        keys.setdefault(each.issuer, []).extend(each.jwks["keys"])
    fetcher = CountingFetcher({f"jwks:{issuer}": {"keys": k} for issuer, k in keys.items()})
    return EhrTokenVerifier(
        {issuer: f"jwks:{issuer}" for issuer in keys},
        jwks_fetcher=fetcher,
        clock=clock,
        leeway_seconds=LEEWAY,
        **options,
    )


def refusal(verifier: EhrTokenVerifier, token: str, audience: str = AUDIENCE) -> str:
    with pytest.raises(CdsAuthError) as caught:
        verifier.verify(token, audiences=[audience])
    return caught.value.message


# --- tokens that pass --------------------------------------------------------


def test_an_rs384_token_of_a_configured_issuer_passes_and_names_the_caller(ehr: Ehr) -> None:
    token = ehr.token(jti="call-1")
    caller = verifier_for(ehr).verify(token, audiences=[AUDIENCE, "https://other/x"])
    assert caller == EhrCaller(issuer=ISSUER, subject="ehr-client-7", jti="call-1", unsigned=False)


def test_an_es384_token_with_a_p384_key_passes() -> None:
    ehr = Ehr(EC_KEY, kid="ec-1", algorithm="ES384")
    assert verifier_for(ehr).verify(ehr.token(), audiences=[AUDIENCE]).issuer == ISSUER


def test_an_aud_list_passes_when_it_holds_the_service_url(ehr: Ehr) -> None:
    token = ehr.token(aud=["https://elsewhere/x", AUDIENCE])
    assert not verifier_for(ehr).verify(token, audiences=[AUDIENCE]).unsigned


def test_clock_skew_within_the_leeway_is_tolerated(ehr: Ehr) -> None:
    verifier = verifier_for(ehr)
    verifier.verify(ehr.token(iat=int(NOW) + LEEWAY, exp=int(NOW) + 60), audiences=[AUDIENCE])
    verifier.verify(ehr.token(iat=int(NOW) - 300, exp=int(NOW) - LEEWAY + 1), audiences=[AUDIENCE])


# --- tokens that are refused, each with its reason ---------------------------


def test_a_token_of_an_unknown_issuer_is_refused(ehr: Ehr) -> None:
    stranger = Ehr(OTHER_RSA_KEY, issuer="https://stranger.example.org")
    assert "'https://stranger.example.org' is not trusted" in refusal(
        verifier_for(ehr), stranger.token()
    )


def test_a_token_signed_by_another_key_under_the_same_kid_is_refused(ehr: Ehr) -> None:
    forger = Ehr(OTHER_RSA_KEY, kid=ehr.kid)
    assert refusal(verifier_for(ehr), forger.token()).startswith("bad signature")


def test_a_token_whose_payload_was_replaced_is_refused(ehr: Ehr) -> None:
    header, _, signature = ehr.token().split(".")
    _, payload, _ = ehr.token(sub="someone-else").split(".")
    assert refusal(verifier_for(ehr), f"{header}.{payload}.{signature}").startswith("bad signature")


def test_an_unsigned_token_alg_none_is_refused(ehr: Ehr) -> None:
    token = jwt.encode(ehr.claims(), None, algorithm="none", headers={"kid": ehr.kid})
    assert "alg none" in refusal(verifier_for(ehr), token)


def test_a_shared_secret_hs384_token_is_refused(ehr: Ehr) -> None:
    token = jwt.encode(ehr.claims(), "s" * 48, algorithm="HS384", headers={"kid": ehr.kid})
    assert "'HS384' uses a shared secret" in refusal(verifier_for(ehr), token)


def test_an_rs256_token_is_refused_even_with_the_right_key(ehr: Ehr) -> None:
    token = Ehr(RSA_KEY, algorithm="RS256").token()
    message = refusal(verifier_for(ehr), token)
    assert "'RS256' is not accepted" in message
    assert "RS384 or ES384" in message


def test_an_es384_token_for_an_rsa_key_is_refused() -> None:
    rsa_ehr = Ehr(RSA_KEY, kid="shared-kid")
    ec_ehr = Ehr(EC_KEY, kid="shared-kid", algorithm="ES384")
    assert "signs with RS384, not ES384" in refusal(verifier_for(rsa_ehr), ec_ehr.token())


def test_an_expired_token_is_refused(ehr: Ehr) -> None:
    token = ehr.token(iat=int(NOW) - 600, exp=int(NOW) - LEEWAY)
    assert refusal(verifier_for(ehr), token) == "the token has expired (exp is past)"


def test_a_token_issued_in_the_future_is_refused(ehr: Ehr) -> None:
    token = ehr.token(iat=int(NOW) + LEEWAY + 5, exp=int(NOW) + 200)
    assert "issued in the future" in refusal(verifier_for(ehr), token)


def test_a_token_not_valid_yet_nbf_is_refused(ehr: Ehr) -> None:
    assert "nbf" in refusal(verifier_for(ehr), ehr.token(nbf=int(NOW) + LEEWAY + 5))


def test_a_token_living_longer_than_the_limit_is_refused(ehr: Ehr) -> None:
    token = ehr.token(exp=int(NOW) + MAX_TOKEN_LIFETIME_SECONDS + LEEWAY + 1)
    assert "lives too long" in refusal(verifier_for(ehr), token)


def test_a_token_for_another_audience_is_refused(ehr: Ehr) -> None:
    token = ehr.token(aud="https://cds.example.org/cds-services/isotretinoin-patient-view")
    assert refusal(verifier_for(ehr), token).startswith("wrong audience")


@pytest.mark.parametrize("claim", ["aud", "exp", "iat", "jti"])
def test_a_token_missing_a_required_claim_is_refused(ehr: Ehr, claim: str) -> None:
    assert (
        refusal(verifier_for(ehr), ehr.token(**{claim: None})) == f"the token has no {claim} claim"
    )


def test_a_token_with_only_the_required_claims_of_the_2_0_1_table_passes(ehr: Ehr) -> None:
    token = ehr.token(sub=None, jti="only-required")
    assert set(jwt.decode(token, options={"verify_signature": False})) == {
        "iss", "aud", "exp", "iat", "jti"}  # fmt: skip
    caller = verifier_for(ehr).verify(token, audiences=[AUDIENCE])
    assert caller == EhrCaller(issuer=ISSUER, subject=None, jti="only-required", unsigned=False)


def test_a_tenant_claim_is_accepted_and_kept(ehr: Ehr) -> None:
    token = ehr.token(sub=None, tenant="2ddd6c3a-8e9a-44c6-a305-52111ad302a2")
    caller = verifier_for(ehr).verify(token, audiences=[AUDIENCE])
    assert caller.tenant == "2ddd6c3a-8e9a-44c6-a305-52111ad302a2"
    assert caller.subject is None


@pytest.mark.parametrize("claim", ["sub", "tenant"])
@pytest.mark.parametrize("value", ["", 7, ["a"]], ids=["empty", "number", "list"])
def test_an_optional_claim_that_is_given_must_be_text(ehr: Ehr, claim: str, value: Any) -> None:
    assert f"{claim} claim, when given, must be a non-empty string" in refusal(
        verifier_for(ehr), ehr.token(**{claim: value})
    )


@pytest.mark.parametrize("typ", ["at+jwt", "dpop+jwt", "JOSE"])
def test_a_token_typed_as_something_other_than_a_jwt_is_refused(ehr: Ehr, typ: str) -> None:
    assert "not a CDS Hooks client token" in refusal(
        verifier_for(ehr), ehr.token(headers={"typ": typ})
    )


def test_a_token_without_typ_or_with_typ_jwt_in_any_case_passes(ehr: Ehr) -> None:
    verifier = verifier_for(ehr)
    untyped = jwt.encode(ehr.claims(), RSA_KEY, algorithm="RS384", headers={"kid": ehr.kid})
    header = json.loads(_unb64(untyped.split(".")[0]))
    del header["typ"]
    signing_input = f"{_b64(json.dumps(header).encode())}.{untyped.split('.')[1]}"
    signature = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA384).sign(
        signing_input.encode(), RSA_KEY
    )
    assert verifier.verify(f"{signing_input}.{_b64(signature)}", audiences=[AUDIENCE])
    assert verifier.verify(ehr.token(headers={"typ": "jwt"}), audiences=[AUDIENCE])


def test_a_token_without_iss_is_refused(ehr: Ehr) -> None:
    assert "no iss claim" in refusal(verifier_for(ehr), ehr.token(iss=None))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": "tomorrow"}, "exp claim must be a number"),
        ({"iat": True}, "iat claim must be a number"),
        ({"jti": "j" * 300}, "jti must be a string of 1 to 256"),
    ],
)
def test_a_claim_of_the_wrong_type_is_refused(
    ehr: Ehr, changes: dict[str, Any], reason: str
) -> None:
    assert reason in refusal(verifier_for(ehr), ehr.token(**changes))


def test_a_token_without_kid_is_refused(ehr: Ehr) -> None:
    token = jwt.encode(ehr.claims(), RSA_KEY, algorithm="RS384")
    assert "no kid" in refusal(verifier_for(ehr), token)


def test_a_token_naming_an_unknown_kid_is_refused(ehr: Ehr) -> None:
    assert "has no signing key 'ehr-key-9'" in refusal(
        verifier_for(ehr), ehr.token(headers={"kid": "ehr-key-9"})
    )


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "e30.e30.", "x" * 20_000])
def test_garbage_is_refused_as_not_a_jwt(ehr: Ehr, token: str) -> None:
    message = refusal(verifier_for(ehr), token)
    assert any(
        reason in message for reason in ("not a well-formed JWT", "longer than", "names no alg")
    )


def test_a_key_named_by_the_token_jku_is_never_fetched(ehr: Ehr) -> None:
    forger = Ehr(OTHER_RSA_KEY, extra_headers={"jku": "https://evil.example/jwks.json"})
    fetched: list[str] = []

    def fetcher(location: str) -> Mapping[str, Any]:
        fetched.append(location)
        return ehr.jwks

    verifier = EhrTokenVerifier({ISSUER: "/etc/ehr.json"}, jwks_fetcher=fetcher, clock=Clock())
    assert refusal(verifier, forger.token()).startswith("bad signature")
    assert fetched == ["/etc/ehr.json"]


# --- replay ------------------------------------------------------------------


def test_a_replayed_token_is_refused(ehr: Ehr) -> None:
    verifier = verifier_for(ehr)
    token = ehr.token(jti="once")
    verifier.verify(token, audiences=[AUDIENCE])
    assert refusal(verifier, token) == "token id (jti) 'once' was already used: replayed"


def test_the_same_jti_from_two_issuers_is_not_a_replay(ehr: Ehr) -> None:
    other = Ehr(OTHER_RSA_KEY, issuer="https://ehr2.example.org", kid="k2")
    verifier = verifier_for(ehr, other)
    verifier.verify(ehr.token(jti="shared"), audiences=[AUDIENCE])
    assert verifier.verify(other.token(jti="shared"), audiences=[AUDIENCE]).jti == "shared"


def test_a_refused_token_does_not_use_up_its_jti(ehr: Ehr) -> None:
    verifier = verifier_for(ehr)
    refusal(verifier, ehr.token(jti="j-1", aud="https://wrong/x"))
    assert verifier.verify(ehr.token(jti="j-1"), audiences=[AUDIENCE]).jti == "j-1"


def test_the_replay_cache_is_bounded_and_forgets_a_jti_once_its_token_expired(
    ehr: Ehr, clock: Clock
) -> None:
    verifier = verifier_for(ehr, clock=clock, replay_cache_size=2)
    for jti in ("a", "b"):
        verifier.verify(ehr.token(clock.now, jti=jti), audiences=[AUDIENCE])
    assert "too many recent tokens" in refusal(verifier, ehr.token(clock.now, jti="c"))
    clock.now += 120 + LEEWAY + 1  # a and b have expired
    assert verifier.verify(ehr.token(clock.now, jti="c"), audiences=[AUDIENCE]).jti == "c"
    assert verifier.verify(ehr.token(clock.now, jti="a"), audiences=[AUDIENCE]).jti == "a"


def test_concurrent_requests_with_one_token_let_exactly_one_through(ehr: Ehr) -> None:
    verifier = verifier_for(ehr)
    token = ehr.token()
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def call() -> None:
        start.wait()
        try:
            verifier.verify(token, audiences=[AUDIENCE])
            outcomes.append("passed")
        except CdsAuthError:
            outcomes.append("refused")

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["passed"] + ["refused"] * 7


@settings(max_examples=60, deadline=None)
@given(
    uses=st.lists(
        st.tuples(st.sampled_from(["j1", "j2", "j3"]), st.integers(min_value=0, max_value=200)),
        min_size=1,
        max_size=12,
    )
)
def test_a_jti_passes_again_only_after_its_token_expired(uses: list[tuple[str, int]]) -> None:
    clock = Clock()
    ehr = Ehr(RSA_KEY)
    verifier = verifier_for(ehr, clock=clock)
    remembered_until: dict[str, float] = {}
    for jti, wait in uses:
        clock.now += wait
        token = ehr.token(clock.now, jti=jti)  # lives 120 s
        expected_to_pass = remembered_until.get(jti, float("-inf")) < clock.now
        try:
            verifier.verify(token, audiences=[AUDIENCE])
            passed = True
        except CdsAuthError:
            passed = False
        assert passed == expected_to_pass
        if passed:
            remembered_until[jti] = int(clock.now) + 120 + LEEWAY


# --- any change to a valid token is refused ----------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), algorithm=st.sampled_from(["RS384", "ES384"]))
def test_any_change_to_the_bytes_of_a_valid_token_is_refused(
    data: st.DataObject, algorithm: str
) -> None:
    ehr = Ehr(RSA_KEY if algorithm == "RS384" else EC_KEY, algorithm=algorithm)
    parts = [_unb64(part) for part in ehr.token().split(".")]
    segment = data.draw(st.integers(min_value=0, max_value=2), label="segment")
    position = data.draw(st.integers(min_value=0, max_value=len(parts[segment]) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255), label="xor")
    changed = bytearray(parts[segment])
    changed[position] ^= flip
    parts[segment] = bytes(changed)
    with pytest.raises(CdsAuthError):
        verifier_for(ehr).verify(".".join(_b64(part) for part in parts), audiences=[AUDIENCE])


# --- the issuer's keys (JWKS) ------------------------------------------------


def test_an_unreadable_jwks_refuses_the_token_and_logs_why_without_the_token(
    ehr: Ehr, caplog: pytest.LogCaptureFixture
) -> None:
    fetcher = CountingFetcher({"/missing.json": FileNotFoundError("/missing.json")})
    verifier = EhrTokenVerifier({ISSUER: "/missing.json"}, jwks_fetcher=fetcher, clock=Clock())
    token = ehr.token()
    with caplog.at_level(logging.INFO, logger="isotrack.cds.security"):
        message = refusal(verifier, token)
    assert "cannot be read now" in message
    assert "FileNotFoundError" in caplog.text
    assert token not in caplog.text
    assert token.split(".")[2] not in caplog.text


def test_a_failing_jwks_is_read_again_at_most_once_a_minute(ehr: Ehr, clock: Clock) -> None:
    fetcher = CountingFetcher({"jwks": OSError("connection refused")})
    verifier = EhrTokenVerifier({ISSUER: "jwks"}, jwks_fetcher=fetcher, clock=clock)
    for _ in range(5):
        refusal(verifier, ehr.token(clock.now))
    assert fetcher.reads == 1
    fetcher.documents["jwks"] = ehr.jwks
    clock.now += JWKS_RETRY_SECONDS
    assert verifier.verify(ehr.token(clock.now), audiences=[AUDIENCE]).issuer == ISSUER
    assert fetcher.reads == 2


def test_a_rotated_key_is_found_by_reading_the_jwks_again(ehr: Ehr, clock: Clock) -> None:
    fetcher = CountingFetcher({"jwks": ehr.jwks})
    verifier = EhrTokenVerifier({ISSUER: "jwks"}, jwks_fetcher=fetcher, clock=clock)
    verifier.verify(ehr.token(clock.now), audiences=[AUDIENCE])
    rotated = Ehr(OTHER_RSA_KEY, kid="ehr-key-2")
    fetcher.documents["jwks"] = {"keys": ehr.jwks["keys"] + rotated.jwks["keys"]}
    clock.now += 10  # too soon: the cached JWKS is kept
    assert "no signing key 'ehr-key-2'" in refusal(verifier, rotated.token(clock.now))
    clock.now += JWKS_RETRY_SECONDS
    assert verifier.verify(rotated.token(clock.now), audiences=[AUDIENCE]).issuer == ISSUER
    assert fetcher.reads == 2


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ({**public_jwk(rsa_key(1024), "k"), "kid": "ehr-key-1"}, "1024-bit RSA key"),
        ({**public_jwk(RSA_KEY, "ehr-key-1"), "alg": "RS256"}, "not an RS384 or ES384 key"),
        ({**public_jwk(RSA_KEY, "ehr-key-1"), "use": "enc"}, "not sig"),
        ({**public_jwk(RSA_KEY, "ehr-key-1"), "d": "AQAB"}, "private key"),
        ({"kty": "oct", "k": "c2VjcmV0", "kid": "ehr-key-1"}, "not an RS384 or ES384 key"),
    ],
)
def test_unusable_jwks_entries_are_skipped_with_a_warning(
    ehr: Ehr, entry: dict[str, Any], why: str, caplog: pytest.LogCaptureFixture
) -> None:
    verifier = EhrTokenVerifier(
        {ISSUER: "jwks"}, jwks_fetcher=lambda _: {"keys": [entry]}, clock=Clock()
    )
    with caplog.at_level(logging.WARNING, logger="isotrack.cds.security"):
        assert "no signing key" in refusal(verifier, ehr.token())
    assert why in caplog.text


def test_the_jwks_is_read_from_a_local_file(ehr: Ehr, tmp_path: Path) -> None:
    path = tmp_path / "ehr-jwks.json"
    path.write_text(json.dumps(ehr.jwks))
    verifier = EhrTokenVerifier({ISSUER: str(path)}, clock=Clock())
    assert verifier.verify(ehr.token(), audiences=[AUDIENCE]).issuer == ISSUER


@pytest.mark.parametrize("content", ["not json", "[]", '{"keys": 3}'])
def test_a_jwks_file_that_is_not_a_jwks_refuses_the_token(
    ehr: Ehr, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "ehr-jwks.json"
    path.write_text(content)
    verifier = EhrTokenVerifier({ISSUER: str(path)}, clock=Clock())
    assert "cannot be read now" in refusal(verifier, ehr.token())


def test_the_jwks_is_fetched_over_https_with_httpx(ehr: Ehr) -> None:
    requested: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(200, json=ehr.jwks)

    loader = JwksLoader(client=httpx.Client(transport=httpx.MockTransport(serve)))
    url = "https://ehr.example.org/.well-known/jwks.json"
    verifier = EhrTokenVerifier({ISSUER: url}, jwks_fetcher=loader, clock=Clock())
    assert verifier.verify(ehr.token(), audiences=[AUDIENCE]).issuer == ISSUER
    assert requested == [url]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, text="down"),
        httpx.Response(302, headers={"Location": "https://evil.example/jwks.json"}),
        httpx.Response(200, content=b"{" + b" " * (1024 * 1024 + 10) + b"}"),
    ],
    ids=["server-error", "redirect", "too-large"],
)
def test_a_jwks_server_that_fails_refuses_the_token(ehr: Ehr, response: httpx.Response) -> None:
    loader = JwksLoader(client=httpx.Client(transport=httpx.MockTransport(lambda _: response)))
    verifier = EhrTokenVerifier(
        {ISSUER: "https://ehr.example.org/jwks.json"}, jwks_fetcher=loader, clock=Clock()
    )
    assert "cannot be read now" in refusal(verifier, ehr.token())


def test_a_jwks_request_that_times_out_refuses_the_token(ehr: Ehr) -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    loader = JwksLoader(client=httpx.Client(transport=httpx.MockTransport(hang)))
    verifier = EhrTokenVerifier(
        {ISSUER: "https://ehr.example.org/jwks.json"}, jwks_fetcher=loader, clock=Clock()
    )
    assert "cannot be read now" in refusal(verifier, ehr.token())


# --- the Authorization header and unsigned development mode ------------------

TEST_SETTINGS = Settings(env="test")
UNSIGNED_SETTINGS = Settings(env="development", cds_allow_unsigned=True)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_token_is_refused_unless_unsigned_requests_are_allowed(
    ehr: Ehr, header: str | None
) -> None:
    verifier = verifier_for(ehr)
    with pytest.raises(CdsAuthError) as caught:
        authenticate_cds_request(
            header, audiences=[AUDIENCE], verifier=verifier, settings=TEST_SETTINGS
        )
    assert "no Authorization header" in caught.value.message
    assert caught.value.www_authenticate == 'Bearer realm="cds-services"'
    caller = authenticate_cds_request(
        header, audiences=[AUDIENCE], verifier=verifier, settings=UNSIGNED_SETTINGS
    )
    assert caller == EhrCaller(issuer=None, subject=None, jti=None, unsigned=True)


def test_a_token_is_verified_even_when_unsigned_requests_are_allowed(ehr: Ehr) -> None:
    forged = Ehr(OTHER_RSA_KEY).token()
    with pytest.raises(CdsAuthError, match="bad signature") as caught:
        authenticate_cds_request(
            f"Bearer {forged}",
            audiences=[AUDIENCE],
            verifier=verifier_for(ehr),
            settings=UNSIGNED_SETTINGS,
        )
    assert 'error="invalid_token"' in caught.value.www_authenticate


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_a_bearer_header_carries_the_token_whatever_the_case_of_bearer(
    ehr: Ehr, scheme: str
) -> None:
    caller = authenticate_cds_request(
        f"{scheme} {ehr.token()}",
        audiences=[AUDIENCE],
        verifier=verifier_for(ehr),
        settings=TEST_SETTINGS,
    )
    assert caller.issuer == ISSUER


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token"])
def test_an_authorization_header_that_is_not_bearer_jwt_is_refused(ehr: Ehr, header: str) -> None:
    with pytest.raises(CdsAuthError, match="must be 'Bearer <JWT>'"):
        authenticate_cds_request(
            header, audiences=[AUDIENCE], verifier=verifier_for(ehr), settings=UNSIGNED_SETTINGS
        )


def test_unsigned_mode_copied_into_production_settings_still_refuses(ehr: Ehr) -> None:
    smuggled = UNSIGNED_SETTINGS.model_copy(update={"env": "production"})
    with pytest.raises(CdsAuthError, match="no Authorization header"):
        authenticate_cds_request(
            None, audiences=[AUDIENCE], verifier=verifier_for(ehr), settings=smuggled
        )


# --- settings: ISOTRACK_CDS_ISSUERS and ISOTRACK_CDS_ALLOW_UNSIGNED ----------


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "ISOTRACK_ENV",
        "ISOTRACK_CDS_ISSUERS",
        "ISOTRACK_CDS_ALLOW_UNSIGNED",
        "ISOTRACK_CDS_PUBLIC_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_cds_issuers_are_read_from_a_json_object(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ISOTRACK_CDS_PUBLIC_URL", "https://isotrack.example.org/")
    environment.setenv(
        "ISOTRACK_CDS_ISSUERS",
        json.dumps({ISSUER: "/etc/isotrack/ehr.json", "https://b.example": "https://b/jwks"}),
    )
    assert get_settings().cds_issuers == {
        ISSUER: "/etc/isotrack/ehr.json",
        "https://b.example": "https://b/jwks",
    }


def test_the_public_url_is_required_with_issuers_in_production(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("ISOTRACK_CDS_ISSUERS", json.dumps({ISSUER: "/etc/isotrack/ehr.json"}))
    with pytest.raises(InvalidInputError) as caught:
        get_settings()
    assert caught.value.field == "ISOTRACK_CDS_PUBLIC_URL"
    assert "never against the request's Host" in caught.value.message
    environment.setenv("ISOTRACK_CDS_PUBLIC_URL", "https://isotrack.example.org/")
    assert get_settings().cds_public_url == "https://isotrack.example.org"


@pytest.mark.parametrize(
    ("env", "url", "accepted"),
    [
        ("production", "http://isotrack.example.org", False),
        ("production", "isotrack.example.org", False),
        ("production", "https://", False),
        ("test", "http://testserver", True),
        ("development", "https://isotrack.example.org", True),
    ],
)
def test_the_public_url_is_an_https_base_url_outside_development_and_test(
    environment: pytest.MonkeyPatch, env: str, url: str, accepted: bool
) -> None:
    environment.setenv("ISOTRACK_ENV", env)
    environment.setenv("ISOTRACK_CDS_PUBLIC_URL", url)
    if accepted:
        assert get_settings().cds_public_url == url
        return
    with pytest.raises(InvalidInputError) as caught:
        get_settings()
    assert caught.value.field == "ISOTRACK_CDS_PUBLIC_URL"


def test_without_cds_issuers_no_issuer_is_trusted_and_unsigned_is_off(
    environment: pytest.MonkeyPatch,
) -> None:
    settings = get_settings()
    assert settings.cds_issuers == {}
    assert settings.cds_allow_unsigned is False


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("{not json", "is not valid JSON"),
        ('["https://ehr.example.org"]', "must be a JSON object"),
        ('{"https://ehr.example.org": 7}', "must be a string"),
        ('{"": "/etc/jwks.json"}', "empty issuer"),
        ('{"https://ehr.example.org": "http://ehr.example.org/jwks"}', "https:// URL"),
        ('{"https://ehr.example.org": "ftp://ehr.example.org/jwks"}', "https:// URL"),
    ],
)
def test_a_malformed_cds_issuers_variable_is_refused_by_name(
    environment: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    environment.setenv("ISOTRACK_CDS_ISSUERS", value)
    with pytest.raises(InvalidInputError) as caught:
        get_settings()
    assert caught.value.field == "ISOTRACK_CDS_ISSUERS"
    assert reason in caught.value.message
    assert "value error" not in caught.value.message.lower()


def test_unsigned_mode_is_refused_in_production(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ISOTRACK_CDS_ALLOW_UNSIGNED", "true")
    with pytest.raises(InvalidInputError) as caught:
        get_settings()
    assert caught.value.field == "ISOTRACK_CDS_ALLOW_UNSIGNED"
    assert "ISOTRACK_ENV=production" in caught.value.message


@pytest.mark.parametrize("env", ["development", "test"])
def test_unsigned_mode_is_allowed_in_development_and_test(
    environment: pytest.MonkeyPatch, env: str
) -> None:
    environment.setenv("ISOTRACK_ENV", env)
    environment.setenv("ISOTRACK_CDS_ALLOW_UNSIGNED", "true")
    assert get_settings().cds_allow_unsigned is True


def test_the_verifier_warns_at_start_up_when_unsigned_requests_are_accepted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="isotrack.cds.security"):
        EhrTokenVerifier.from_settings(UNSIGNED_SETTINGS)
    assert "ISOTRACK_CDS_ALLOW_UNSIGNED=true" in caplog.text


def test_the_verifier_warns_at_start_up_when_no_issuer_is_trusted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="isotrack.cds.security"):
        EhrTokenVerifier.from_settings(TEST_SETTINGS)
    assert "ISOTRACK_CDS_ISSUERS is empty" in caplog.text


def test_the_verifier_of_the_settings_trusts_their_issuers_with_their_leeway(
    ehr: Ehr, tmp_path: Path
) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(ehr.jwks))
    settings = Settings(env="test", cds_issuers={ISSUER: str(path)}, cds_jwt_leeway_seconds=0)
    verifier = EhrTokenVerifier.from_settings(settings)
    token = ehr.token(now=time.time())  # from_settings verifies against the real clock
    assert verifier.verify(token, audiences=[AUDIENCE]).issuer == ISSUER


def test_the_verifier_logs_at_start_up_a_jwks_file_that_is_not_there(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "nowhere.json"
    settings = Settings(env="test", cds_issuers={ISSUER: str(missing)})
    with caplog.at_level(logging.ERROR, logger="isotrack.cds.security"):
        EhrTokenVerifier.from_settings(settings)
    assert str(missing) in caplog.text
    assert "is not there" in caplog.text
