"""Fail fast: the server refuses to start on a configuration it cannot serve safely.

``create_app`` (and so ``isotrack serve``) calls :func:`require_usable_configuration`
after it has checked the database (reachable, at the newest schema). Outside
development and test it refuses, with a
:class:`~isotrack.errors.ConfigurationError` naming the variable and saying
how to fix it (the CLI prints it on one line and exits 1):

- ``ISOTRACK_SECRET_KEY`` missing, a placeholder (``changeme``), or shorter than
  32 bytes (:func:`isotrack.settings.signing_key`);
- ``ISOTRACK_CDS_ALLOW_UNSIGNED`` on (CDS Hooks requests without a token);
- ``ISOTRACK_CDS_PUBLIC_URL`` unset: the https address clients and EHRs call,
  which the ``aud`` of CDS Hooks tokens is checked against.

No client is ever told any of this: a request that meets a configuration
problem anyway gets a generic 503 (:mod:`isotrack.http.problems`).

>>> from isotrack.settings import Settings
>>> require_usable_configuration(Settings(env="development"))
>>> require_usable_configuration(Settings(env="production"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
isotrack.errors.ConfigurationError: ISOTRACK_SECRET_KEY: is not set (ISOTRACK_ENV=production); ...
"""

from __future__ import annotations

from isotrack.errors import ConfigurationError
from isotrack.settings import Settings, signing_key


def require_usable_configuration(settings: Settings) -> None:
    """Raise ConfigurationError for the first setting production cannot run with
    (nothing is checked in development and test)."""
    if settings.relaxed:
        return
    signing_key(settings)
    if settings.cds_allow_unsigned:
        raise ConfigurationError(
            "ISOTRACK_CDS_ALLOW_UNSIGNED",
            f"accepts CDS Hooks requests without a token; refused with "
            f"ISOTRACK_ENV={settings.env}: configure ISOTRACK_CDS_ISSUERS instead",
        )
    if settings.cds_public_url is None:
        raise ConfigurationError(
            "ISOTRACK_CDS_PUBLIC_URL",
            f"is not set (ISOTRACK_ENV={settings.env}): set it to the https address clients "
            "and EHRs call, e.g. https://isotrack.example.org (the aud of CDS Hooks tokens is "
            "checked against it, never against the request's Host)",
        )
