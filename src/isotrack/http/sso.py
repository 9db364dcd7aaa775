"""Single sign-on for staff: the settings checked, groups mapped to a role, and the
account of an identity found, created or updated (the protocol: :mod:`isotrack.http.oidc`).

- :func:`sso_config` reads ``ISOTRACK_OIDC_*`` (:mod:`isotrack.sso_settings`): None
  when SSO is off; InvalidInputError naming the variable when it is unusable.
- :func:`role_for_groups`: the one role a person's groups map to, or SsoRefused
  (no mapped group, or groups that map to different roles).
- :func:`sign_in_identity`: the user linked to (issuer, subject), created and
  linked on the first sign-in; its role follows the groups at each sign-in.
  Audited: ``auth:sso-login``, ``auth:sso-account-created``,
  ``auth:sso-role-changed``; refusals ``auth:sso-refused`` (:func:`audit_refusal`).

>>> role_for_groups(["all-staff", "derm"], {"derm": "prescriber"})
'prescriber'
>>> role_for_groups(["marketing"], {"derm": "prescriber"})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
isotrack.http.oidc.SsoRefused: no group of the identity provider maps to a role: marketing
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from isotrack.errors import InvalidInputError
from isotrack.http.authz import Role
from isotrack.http.oidc import OidcConfig, SsoRefused
from isotrack.http.signin import USERNAME_STORED_LENGTH
from isotrack.settings import Settings
from isotrack.store.users import StoredUser, UserTransaction

SSO_ROLES = frozenset({Role.PRESCRIBER, Role.NURSE, Role.PHARMACIST, Role.ADMIN})
"""Staff roles: patients never sign in through the clinic's identity provider."""
NO_PASSWORD = "!sso"  # noqa: S105  # not a password: no Argon2 hash matches it
"""The password hash of an account made by SSO: no password signs it in."""
NO_ROLE = (
    "You signed in at the clinic's identity provider, but none of your groups gives "
    "access to isotrack. Ask the clinic's administrator to add you to the right group."
)
TWO_ROLES = (
    "Your groups at the clinic's identity provider give more than one isotrack role "
    "({roles}). Ask the clinic's administrator to keep you in one of them."
)
DISABLED = "Your isotrack account is disabled. Ask the clinic's administrator."
SSO_ACTOR = "anonymous"


@dataclass(frozen=True, slots=True)
class SsoConfig:
    """Single sign-on as configured: the client, and each group's role."""

    oidc: OidcConfig
    role_groups: Mapping[str, Role]
    groups_claim: str


def sso_config(settings: Settings) -> SsoConfig | None:
    """The SSO configuration, None without ``ISOTRACK_OIDC_ISSUER``."""
    issuer = settings.oidc_issuer
    if issuer is None:
        return None
    _require_url("ISOTRACK_OIDC_ISSUER", issuer, settings)
    if not settings.oidc_client_id:
        raise InvalidInputError("ISOTRACK_OIDC_CLIENT_ID", "is required with ISOTRACK_OIDC_ISSUER")
    if not settings.oidc_redirect_url:
        raise InvalidInputError(
            "ISOTRACK_OIDC_REDIRECT_URL",
            "is required with ISOTRACK_OIDC_ISSUER: the callback URL registered at the "
            "identity provider, e.g. https://isotrack.example.org/login/sso/callback",
        )
    _require_url("ISOTRACK_OIDC_REDIRECT_URL", settings.oidc_redirect_url, settings)
    if "openid" not in settings.oidc_scopes.split():
        raise InvalidInputError("ISOTRACK_OIDC_SCOPES", "must include openid")
    if not settings.oidc_role_groups:
        raise InvalidInputError(
            "ISOTRACK_OIDC_ROLE_GROUPS",
            'is required with ISOTRACK_OIDC_ISSUER, e.g. {"derm-prescribers": "prescriber"}',
        )
    roles = {}
    for group, name in settings.oidc_role_groups.items():
        role = next((role for role in SSO_ROLES if role.value == name), None)
        if role is None:
            raise InvalidInputError(
                "ISOTRACK_OIDC_ROLE_GROUPS",
                f"group {group!r} maps to {name!r}; a role is one of "
                + ", ".join(sorted(role.value for role in SSO_ROLES)),
            )
        roles[group] = role
    secret = settings.oidc_client_secret
    return SsoConfig(
        oidc=OidcConfig(
            issuer=issuer,
            client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret is not None else None,
            redirect_url=settings.oidc_redirect_url,
            scopes=settings.oidc_scopes,
        ),
        role_groups=roles,
        groups_claim=settings.oidc_groups_claim,
    )


def _require_url(name: str, value: str, settings: Settings) -> None:
    allowed = ("https://", "http://") if settings.relaxed else ("https://",)
    if not value.startswith(allowed) or len(value) <= len("https://"):
        raise InvalidInputError(
            name, f"must be an {' or '.join(a[:-3] for a in allowed)} URL, not {value[:80]!r}"
        )


def groups_of(claims: Mapping[str, Any], claim: str) -> list[str]:
    """The groups an ID token lists (a list of strings, or one string)."""
    value = claims.get(claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def role_for_groups(groups: Iterable[str], role_groups: Mapping[str, Role]) -> Role:
    """The role the groups map to: SsoRefused (403) for none or several."""
    groups = list(groups)
    roles = sorted({role_groups[group] for group in groups if group in role_groups})
    if not roles:
        shown = ", ".join(sorted(groups)[:10]) or "none"
        raise SsoRefused(f"no group of the identity provider maps to a role: {shown}", NO_ROLE, 403)
    if len(roles) > 1:
        names = ", ".join(role.value for role in roles)
        message = TWO_ROLES.format(roles=names)
        raise SsoRefused(f"groups map to several roles: {names}", message, 403)
    return roles[0]


def sign_in_identity(
    tx: UserTransaction, config: SsoConfig, claims: Mapping[str, Any], now: datetime
) -> StoredUser:
    """The user of the ID token's (issuer, subject), created and linked on the first
    sign-in, with the role its groups give now; SsoRefused when it may not sign in."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    role = role_for_groups(groups_of(claims, config.groups_claim), config.role_groups)
    user_id = tx.sso.user_of(issuer, subject)
    user = tx.users.by_id(user_id) if user_id is not None else None
    identity = {"issuer": issuer, "subject": subject}
    if user is None:
        username = _free_username(tx, claims, issuer, subject)
        user = StoredUser.new(username, role, NO_PASSWORD, created_at=now)
        tx.users.add(user)
        tx.sso.link(issuer, subject, user.id, now)
        tx.audit.append(
            at=now,
            actor=user.id,
            action="auth:sso-account-created",
            detail={**identity, "username": user.username, "role": role.value},
        )
    elif not user.active:
        raise SsoRefused(f"account {user.username!r} is disabled", DISABLED, 403)
    elif user.role != role:
        if user.role not in {r.value for r in SSO_ROLES}:
            raise SsoRefused(f"account {user.username!r} is a {user.role} account", NO_ROLE, 403)
        tx.sso.set_role(user.id, role.value)
        tx.audit.append(
            at=now,
            actor=user.id,
            action="auth:sso-role-changed",
            detail={**identity, "from": user.role, "to": role.value},
        )
        user = tx.users.by_id(user.id) or user
    tx.audit.append(at=now, actor=user.id, action="auth:sso-login", detail=identity)
    return user


def audit_refusal(tx: UserTransaction, refusal: SsoRefused, address: str, now: datetime) -> None:
    """One ``auth:sso-refused`` row: the reason and the address, never a token."""
    tx.audit.append(
        at=now,
        actor=SSO_ACTOR,
        action="auth:sso-refused",
        detail={"reason": refusal.reason[:500], "address": address},
    )


def _free_username(
    tx: UserTransaction, claims: Mapping[str, Any], issuer: str, subject: str
) -> str:
    """The person's name at the provider (``preferred_username``, else ``email``, else
    the subject); a name a local account holds already gets a suffix: SSO never
    takes over a local account by its name."""
    wanted = next(
        (
            str(claims[name]).strip()
            for name in ("preferred_username", "email")
            if isinstance(claims.get(name), str) and str(claims[name]).strip()
        ),
        subject,
    )
    wanted = "".join(c for c in wanted if c.isprintable())[: USERNAME_STORED_LENGTH - 20] or "sso"
    if tx.users.by_username(wanted) is None:
        return wanted
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:10]
    return f"{wanted}#sso-{digest}"
