"""A patient's sex and gender elements besides ``Patient.gender``.

rules.md ("Patient who can get pregnant") asks the engine to weigh every sex and
gender element the record carries. ``Patient.gender`` becomes
``PatientSnapshot.sex`` as before; this module reads the others into
``PatientSnapshot.sex_elements``:

- sex assigned at birth: the US Core Birth Sex extension (``valueCode`` F/M), an
  Observation coded LOINC 76689-9, or a Recorded Sex or Gender extension of that type;
- sex: the US Core 9 Individual Sex extension (``valueCoding``, SNOMED CT), the
  deprecated US Core Sex extension (a bare SNOMED CT ``valueCode`` or a
  ``valueCoding``), an Observation coded LOINC 46098-0;
- sex parameter for clinical use: ``female-typical`` / ``male-typical`` (its
  ``period`` end is kept: a value is not used after it);
- gender identity: only a transgender identity says something of the body (the
  sex assigned at birth it names); other identities are kept for the record.

Which URLs, codes and code systems mean what is knowledge data
(``fhir-vocabulary.toml``). Only the Patient's few extensions are decoded, and
Observations are tested against a small set of codes before anything else, so
the cost per record is negligible.
"""

from __future__ import annotations

from collections.abc import Iterable

from isotrack.clinical.snapshot import RecordedSex, Sex, SexElement
from isotrack.fhir.datatypes import Extension
from isotrack.fhir.resources import Observation, Patient
from isotrack.fhir.values import concept, fhir_date
from isotrack.fhir.vocabulary import Read, Vocabulary, vocabulary
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.codelists import FhirVocabulary

_ELEMENTS = {element.value: element for element in SexElement}
_SEXES = {"female": Sex.FEMALE, "male": Sex.MALE}
_NOT_RECORDS = frozenset({"entered-in-error", "cancelled"})


def sex_elements(
    patient: Patient | None, observations: Iterable[Observation], kb: KnowledgeBase
) -> tuple[RecordedSex, ...]:
    """The sex and gender elements of the patient's extensions and observations."""
    words = vocabulary(kb)
    found: list[RecordedSex] = []
    if patient is not None and patient.extension:
        label = f"Patient/{patient.id}"
        for extension in patient.extension:
            entry = words.word("patient-extension", extension.url)
            if entry is not None:
                found.extend(_from_extension(entry, extension, words, label))
    codes = words.codes_of("sex-observation")
    for observation in observations:
        # Most observations carry a quantity: the coded-value test is the cheapest filter.
        if observation.value_codeable_concept is None or observation.code is None:
            continue
        for coding in observation.code.coding:
            if coding.code in codes:
                recorded = _from_observation(observation, words)
                if recorded is not None:
                    found.append(recorded)
                break
    return tuple(found)


def _from_extension(
    entry: FhirVocabulary, extension: Extension, words: Vocabulary, label: str
) -> list[RecordedSex]:
    parts = {part.url: part for part in extension.extension if part.url}
    value = parts.get("value", extension)
    period = parts["period"].value_period if "period" in parts else None
    until = fhir_date(period.end, f"{label} {entry.meaning} period.end") if period else None
    meaning = entry.meaning
    if "type" in parts:  # a recorded sex or gender says which element it is
        kind = words.concept("sex-observation", parts["type"].value_codeable_concept).entry
        if kind is None:
            return []
        meaning = kind.meaning
    element = _ELEMENTS.get(meaning)
    if element is None:
        return []
    vocabulary_name = "gender-identity" if element is SexElement.GENDER_IDENTITY else "sex"
    read = _value(value, vocabulary_name, entry.code_system, words)
    if not read.written:
        return []
    indicates = _SEXES.get(read.entry.meaning) if read.entry is not None else None
    return [RecordedSex(element, read.written, indicates, until, f"{label} {meaning}")]


def _value(extension: Extension, name: str, code_system: str, words: Vocabulary) -> Read:
    if extension.value_code is not None:
        return Read(words.in_system(name, code_system, extension.value_code), extension.value_code)
    coding = extension.value_coding
    if coding is not None:
        return Read(words.coding(name, coding), coding.display or coding.code or "")
    if extension.value_codeable_concept is not None:
        read = words.concept(name, extension.value_codeable_concept)
        return Read(None, read.written) if read.by_word else read
    return Read(None, "")


def _from_observation(observation: Observation, words: Vocabulary) -> RecordedSex | None:
    if observation.status in _NOT_RECORDS:
        return None
    kind = words.concept("sex-observation", observation.code).entry
    element = _ELEMENTS.get(kind.meaning) if kind is not None else None
    value = observation.value_codeable_concept
    if element is None or value is None:
        return None
    read = words.concept("sex", value)
    entry = None if read.by_word else read.entry
    written = read.written or concept(value).label
    indicates = _SEXES.get(entry.meaning) if entry is not None else None
    return RecordedSex(element, written, indicates, source=f"Observation/{observation.id}")
