"""What the rate limits of the middleware and of the CDS routes share.

A request draws on one token bucket of the shared store
(:mod:`isotrack.store.limits`): a signed-in user's, a verified CDS Hooks
issuer's (:data:`ISSUER_BUCKET` + its ``iss``), else its address's. The CDS
route marks the request it verified (:data:`VERIFIED_CDS_ISSUER` in the request
state) so that the middleware leaves the address's bucket alone: an EHR gateway
sending a whole hospital's orders from one address draws only on its issuer's.

>>> too_many(0.2).headers
{'Retry-After': '1'}
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from isotrack.http.problems import ProblemError

VERIFIED_CDS_ISSUER = "verified_cds_issuer"
"""Key of the request state (``scope["state"]``): the issuer whose token the CDS route verified."""
ISSUER_BUCKET = "issuer:"
RATE_LIMITED = "rate-limited"


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket's refill (requests a second) and size (requests at once)."""

    per_second: float
    burst: float


def retry_after(wait: float) -> int:
    """Whole seconds to send in ``Retry-After`` for a wait of ``wait`` seconds."""
    return max(1, math.ceil(wait))


def too_many(wait: float) -> ProblemError:
    """The 429 problem of a bucket that is empty for ``wait`` more seconds."""
    seconds = retry_after(wait)
    return ProblemError(
        429,
        RATE_LIMITED,
        f"too many requests: try again in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )
