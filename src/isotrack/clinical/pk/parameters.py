"""The numbers of the PK model, read from the knowledge base (``pk.toml``).

Every value here comes from a ``pk_parameter`` entry; this module only turns
half-lives into rate constants and groups the entries by formulation and meal.

>>> from isotrack.knowledge import default_knowledge
>>> model = pk_model(default_knowledge())
>>> model.absorption("conventional", fed=True).f
1.0
>>> round(model.absorption("absorica-ld", fed=True).f * 32, 1)  # ≡ Absorica 40 mg fed
40.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase

FORMULATIONS = ("conventional", "absorica", "absorica-ld")
"""PK formulations: the substitution groups of the oral products."""


@dataclass(frozen=True, slots=True)
class Absorption:
    """How one formulation is absorbed in one meal state (typical subject)."""

    formulation: str
    fed: bool
    ka: float
    """First-order absorption rate constant (1/h)."""
    tlag: float
    """Lag between taking the dose and the start of absorption (h)."""
    f: float
    """Bioavailability relative to conventional capsules taken with food."""


@dataclass(frozen=True, slots=True)
class Variability:
    """SDs of the log-normal between-subject factors (0 = none)."""

    cl: float
    v: float
    ka_fed: float
    ka_fasted: float
    f_fed: float
    f_fasted: float
    oxo: float


@dataclass(frozen=True, slots=True)
class PkModel:
    """Typical-subject parameters: two-compartment isotretinoin with lagged
    first-order absorption, and 4-oxo-isotretinoin formed from its clearance.
    Clearances (L/h) and volumes (L) are apparent, relative to conventional
    capsules taken with food."""

    cl: float
    v1: float
    q: float
    v2: float
    oxo_volume: float
    """Vm / fm: the 4-oxo volume per fraction of parent clearance forming it (L)."""
    oxo_half_life: float
    absorptions: tuple[Absorption, ...]
    variability: Variability

    @property
    def oxo_k(self) -> float:
        """Elimination rate constant of 4-oxo-isotretinoin (1/h)."""
        return math.log(2) / self.oxo_half_life

    def absorption(self, formulation: str, *, fed: bool) -> Absorption:
        for item in self.absorptions:
            if item.formulation == formulation and item.fed == fed:
                return item
        raise InvalidInputError(
            "product", f"no PK data for {formulation!r}; use one of {', '.join(FORMULATIONS)}"
        )

    def terminal_rate(self) -> float:
        """The slowest disposition eigenvalue of isotretinoin (1/h), analytically."""
        k10, k12, k21 = self.cl / self.v1, self.q / self.v1, self.q / self.v2
        total = k10 + k12 + k21
        return (total - math.sqrt(total * total - 4 * k10 * k21)) / 2


def formulation_of(kb: KnowledgeBase, product_id: str) -> str:
    """The PK formulation of a product: its substitution group (EU capsules are
    conventional capsules). Refuses products that are not oral capsules."""
    product = kb.product(product_id)
    group = product.substitution_group
    if not product.available or group not in FORMULATIONS:
        raise InvalidInputError(
            "product",
            f"{product_id!r} has no oral PK model; use conventional, absorica or absorica-ld",
        )
    return group


def pk_model(kb: KnowledgeBase) -> PkModel:
    """The typical-subject model of the knowledge base (cached per knowledge base)."""
    return kb.derived("pk.model", _build)


def _build(kb: KnowledgeBase) -> PkModel:
    def value(name: str) -> float:
        return kb.pk_parameter(f"pk.{name}").value

    absorptions = tuple(
        Absorption(
            formulation=form,
            fed=fed,
            ka=value(f"ka.{form}.{meal}"),
            tlag=value(f"tlag.{form}.{meal}"),
            f=value(f"f.{form}.{meal}"),
        )
        for form in FORMULATIONS
        for fed, meal in ((True, "fed"), (False, "fasted"))
    )
    return PkModel(
        cl=value("cl"),
        v1=value("v1"),
        q=value("q"),
        v2=value("v2"),
        oxo_volume=value("oxo.volume_per_fraction"),
        oxo_half_life=value("label.oxo_half_life"),
        absorptions=absorptions,
        variability=Variability(
            cl=value("omega.cl"),
            v=value("omega.v"),
            ka_fed=value("omega.ka.fed"),
            ka_fasted=value("omega.ka.fasted"),
            f_fed=value("omega.f.fed"),
            f_fasted=value("omega.f.fasted"),
            oxo=value("omega.oxo"),
        ),
    )
