"""The one exception family of isotrack.

    IsotrackError                 code, message a user can act on, exit_code
    ├── KnowledgeError            a knowledge or clinic policy file is wrong (file, entry, field)
    ├── InvalidInputError         a value is impossible or malformed (names the field)
    │   ├── ConfigurationError    a setting (ISOTRACK_*) is missing or unusable: the CLI names
    │   │                         it; HTTP clients get a generic 503, the server log the name
    │   ├── FhirDecodeError       a FHIR resource or bundle cannot be read
    │   └── CommandRejected       a command the course record refuses (says what is unmet)
    │       └── ProgrammeRefusal  the pregnancy prevention programme refuses a step (names
    │                             each unmet requirement and what would satisfy it)
    ├── NotFoundError             an id (product, rule, patient) that does not exist
    ├── ConflictError             someone else changed the record first (optimistic locking)
    ├── CdsAuthError              a CDS Hooks request whose EHR token is missing or untrusted (401)
    └── StorageError              the database cannot be reached or is not at the right version

Each surface has one translator: the CLI prints ``str(error)`` on one line and
exits with ``error.exit_code``; the API (later) renders problem+json with
``error.code``.
"""

from __future__ import annotations


class IsotrackError(Exception):
    """Base of every error isotrack raises on purpose."""

    code = "isotrack-error"
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class KnowledgeError(IsotrackError):
    """A knowledge data file or a clinic policy file is invalid."""

    code = "knowledge-invalid"

    def __init__(
        self, message: str, *, file: str, entry: str | None = None, field: str | None = None
    ) -> None:
        where = file
        if entry is not None:
            where += f", entry {entry!r}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")
        self.file = file
        self.entry = entry
        self.field = field


class InvalidInputError(IsotrackError):
    """A value given to isotrack is impossible or malformed; nothing was changed."""

    code = "invalid-input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class ConfigurationError(InvalidInputError):
    """A setting of the server (an ``ISOTRACK_*`` variable) is missing or unusable.

    Its field is the variable's name; the message says how to fix it. It is the
    administrator's to fix, never a client's: the API and the web pages answer 503
    without naming the setting (the server log does)."""

    code = "configuration"


class FhirDecodeError(InvalidInputError):
    """A FHIR resource or bundle cannot be read."""

    code = "fhir-invalid"


class CommandRejected(InvalidInputError):  # noqa: N818  # a refusal, not a crash: the name says what happened
    """A command the course record refuses; the message says what is unmet and
    what would satisfy it. Nothing was changed."""

    code = "command-rejected"


class ProgrammeRefusal(CommandRejected):
    """The pregnancy prevention programme refuses a step (prescribing, authorising or
    dispensing): the message names each unmet requirement and the date or data that
    would satisfy it; ``unmet`` holds the requirement keys. Nothing was changed."""

    code = "programme-refusal"

    def __init__(self, field: str, message: str, *, unmet: tuple[str, ...] = ()) -> None:
        super().__init__(field, message)
        self.unmet = unmet


class NotFoundError(IsotrackError):
    """Something named by id does not exist."""

    code = "not-found"


class ConflictError(IsotrackError):
    """The record changed since it was read: reload and try again. Nothing was changed."""

    code = "conflict"


class StorageError(IsotrackError):
    """The database cannot be reached, or its schema is not at the expected version."""

    code = "storage"


class CdsAuthError(IsotrackError):
    """A CDS Hooks request that does not prove which trusted EHR sent it (HTTP 401).

    The message says why (no token, expired, wrong audience, unknown issuer …) and
    never holds the token itself. ``token_given`` is False when no token came at all."""

    code = "cds-unauthorized"

    def __init__(self, message: str, *, token_given: bool = True) -> None:
        super().__init__(message)
        self.token_given = token_given

    @property
    def www_authenticate(self) -> str:
        """The ``WWW-Authenticate`` header of the 401 (RFC 6750 §3)."""
        if not self.token_given:
            return 'Bearer realm="cds-services"'
        return 'Bearer realm="cds-services", error="invalid_token"'
