"""Order screening: what a patient's snapshot says, read by every rule.

- :mod:`.context`: :class:`ScreeningContext` (everything a rule may read),
  the rule registry, :func:`screen_order` and :func:`assess_course`;
- :mod:`.rules`: the rules of the catalogue, one module per clinical topic,
  registered on first screening;
- :mod:`.pregnancy` and :mod:`.contraception` (with
  :mod:`.contraception_methods`): can the patient get pregnant, what the tests
  show, which methods are in use and whether they meet the programme;
- :mod:`.validation`: the input checks made before any rule runs;
- :func:`untakeable_dose` (:mod:`.rules.regimen`): an order's doses its capsules
  cannot make, with the nearest takeable regimens (DOSE-NOT-TAKEABLE);
- :mod:`.on_hand`: the isotretinoin supply left from the dispenses.

Built on the shared snapshot, codes and findings only; the programme and the
monitoring schedule ask it about pregnancy and contraception.
"""

from __future__ import annotations

from isotrack.clinical.screening.context import ScreeningContext, assess_course, screen_order
from isotrack.clinical.screening.contraception import (
    REMOVAL_SUFFIX,
    ContraceptionStatus,
    contraception_status,
    method_for,
    removal_for,
)
from isotrack.clinical.screening.on_hand import SupplyOnHand, supply_on_hand
from isotrack.clinical.screening.pregnancy import (
    CbpStatus,
    current_pregnancy,
    describe_pregnancy_test,
    pregnancy_capability,
    pregnancy_tests_newest_first,
    window_first_day,
)
from isotrack.clinical.screening.rules.regimen import UntakeableDose, untakeable_dose
from isotrack.clinical.screening.rules.supply import supply_on_hand_finding

__all__ = [
    "REMOVAL_SUFFIX",
    "CbpStatus",
    "ContraceptionStatus",
    "ScreeningContext",
    "SupplyOnHand",
    "UntakeableDose",
    "assess_course",
    "contraception_status",
    "current_pregnancy",
    "describe_pregnancy_test",
    "method_for",
    "pregnancy_capability",
    "pregnancy_tests_newest_first",
    "removal_for",
    "screen_order",
    "supply_on_hand",
    "supply_on_hand_finding",
    "untakeable_dose",
    "window_first_day",
]
