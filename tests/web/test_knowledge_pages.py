"""The public knowledge pages: every rule with its severity, basis and cited
sources; one page per rule; the claims table; the bibliography."""

from __future__ import annotations

import html

import pytest

from isotrack import SAFETY_LINE
from isotrack.http.authz import Role
from isotrack.knowledge import KnowledgeBase
from tests.web.conftest import SignIn, TestClient

PAGES = ["/knowledge", "/knowledge/rules", "/knowledge/claims", "/knowledge/sources"]


def text_of(response_text: str) -> str:
    return html.unescape(response_text)


@pytest.mark.parametrize("path", PAGES)
def test_knowledge_pages_are_public_and_carry_the_safety_line(
    anonymous: TestClient, path: str
) -> None:
    response = anonymous.get(path)
    assert response.status_code == 200
    assert SAFETY_LINE in text_of(response.text)
    assert '<main id="main"' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "form-action 'self'" in policy


def test_the_rules_page_lists_every_rule_with_severity_basis_and_sources(
    anonymous: TestClient, kb: KnowledgeBase
) -> None:
    page = text_of(anonymous.get("/knowledge/rules").text)
    for rule in kb.rules:
        assert f'href="/knowledge/rules/{rule.id}"' in page
        assert rule.title in page
        assert rule.fires_when in page
        for source in rule.sources:
            assert f'href="/knowledge/sources#{source}"' in page
    assert "label / guideline" in page or "label" in page
    assert 'class="badge badge--critical"' in page


def test_a_rule_page_cites_its_sources_in_full(anonymous: TestClient, kb: KnowledgeBase) -> None:
    rule = kb.rule("PREG-TEST-REQUIRED")
    page = text_of(anonymous.get(f"/knowledge/rules/{rule.id}").text)
    assert rule.action in page
    for source_id in rule.sources:
        source = kb.source(source_id)
        assert source.citation in page
        if source.url:
            assert source.url in page


def test_every_rule_has_its_own_page(anonymous: TestClient, kb: KnowledgeBase) -> None:
    for rule in kb.rules:
        assert anonymous.get(f"/knowledge/rules/{rule.id}").status_code == 200


def test_an_unknown_rule_is_the_404_page(anonymous: TestClient) -> None:
    response = anonymous.get("/knowledge/rules/NO-SUCH-RULE")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "NO-SUCH-RULE" in text_of(response.text)
    assert SAFETY_LINE in text_of(response.text)


def test_the_claims_page_shows_every_claim_with_its_verdict(
    anonymous: TestClient, kb: KnowledgeBase
) -> None:
    page = text_of(anonymous.get("/knowledge/claims").text)
    for claim in kb.claims:
        assert claim.claim in page
        assert claim.rating in page
        assert claim.reason in page


def test_the_sources_page_anchors_every_source(anonymous: TestClient, kb: KnowledgeBase) -> None:
    page = text_of(anonymous.get("/knowledge/sources").text)
    for source in kb.sources:
        assert f'id="{source.id}"' in page
        assert source.citation in page


def test_signed_in_the_knowledge_pages_show_the_role_navigation(sign_in: SignIn) -> None:
    page = sign_in(Role.PHARMACIST).get("/knowledge").text
    assert 'href="/pharmacy"' in page
    assert 'action="/logout"' in page
    assert 'aria-current="page"' in page


def test_anonymous_the_knowledge_pages_offer_sign_in(anonymous: TestClient) -> None:
    page = anonymous.get("/knowledge").text
    assert 'href="/login"' in page
    assert 'action="/logout"' not in page
