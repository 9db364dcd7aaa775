"""isotrack: decision support for isotretinoin therapy.

Decision support for clinicians, not a substitute for clinical judgment.
"""

__version__ = "0.1.0"

SAFETY_LINE = (
    "isotrack is decision support, not a substitute for clinical judgment: "
    "check every finding against the patient in front of you."
)
