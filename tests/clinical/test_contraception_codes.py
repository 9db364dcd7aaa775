"""Every contraceptive code of the sample data, with the method and programme classes
it must get (issue 4, acceptance: "contraception classification is right for every
contraceptive in ../shared/data/").

``SAMPLE_DATA`` lists each contraceptive code found in ``shared/data/synthea-r4`` and
``shared/data/bulk-ndjson-10`` (MedicationRequest, Procedure and Condition resources),
with the knowledge-base method it stands for, its iPLEDGE class and its EU class; a
second test reads the data at test time and fails when a code with a
contraceptive-looking name, or any code the knowledge base classifies, is not listed.
``SYNTHEA_MODULES`` lists the other codes Synthea's contraceptives modules use, and
``RECORDED`` the methods a prescriber records in isotrack itself (no code).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from isotrack.clinical.codes import SYSTEMS, Coding, Concept, system_alias
from isotrack.clinical.record.aggregate import apply, to_snapshot
from isotrack.clinical.screening.contraception import contraception_status, method_for, removal_for
from isotrack.clinical.state.commands import StartContraception
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_record import day, enrol_woman

# iPLEDGE classes, then EU 2018 classes, as the knowledge base spells them.
PRIMARY, SECONDARY, NOT_ACCEPTABLE = "primary", "secondary", "not-acceptable"
EU_HE, EU_UD = "highly-effective-user-independent", "user-dependent"


@dataclass(frozen=True, slots=True)
class Code:
    """One code of the data and what isotrack must make of it."""

    system: str
    """Short system name: rxnorm, snomed."""
    code: str
    display: str
    method: str | None
    """Knowledge-base method id; None for a removal or a look-alike."""
    us_class: str = ""
    eu_class: str = ""
    ends: tuple[str, ...] = ()
    """For a removal procedure: the methods it ends."""

    @property
    def concept(self) -> Concept:
        return Concept((Coding(SYSTEMS[self.system], self.code, self.display),))

    def __str__(self) -> str:
        return f"{self.system}|{self.code} {self.display}"


def rx(code: str, display: str, method: str, us: str, eu: str) -> Code:
    return Code("rxnorm", code, display, method, us, eu)


def sct(code: str, display: str, method: str, us: str, eu: str) -> Code:
    return Code("snomed", code, display, method, us, eu)


# Knowledge-base method ids.
IMPLANT, LNG_IUD, IUD = "implant-etonogestrel", "iud-levonorgestrel", "iud-unspecified"
DMPA, RING, PATCH = "injection-medroxyprogesterone", "vaginal-ring", "patch"
COC, MINIPILL, TUBAL = "combined-oral", "progestin-only-pill", "tubal-sterilisation"
IUDS = (LNG_IUD, "iud-copper", IUD)

SAMPLE_DATA: tuple[Code, ...] = (
    # --- MedicationRequest (RxNorm) ---------------------------------------------------------
    rx("389221", "Etonogestrel 68 MG Drug Implant", IMPLANT, PRIMARY, EU_HE),
    rx("807283", "Mirena 52 MG Intrauterine System", LNG_IUD, PRIMARY, EU_HE),
    rx("1856546", "Kyleena 19.5 MG Intrauterine System", LNG_IUD, PRIMARY, EU_HE),
    rx("1000126", "1 ML medroxyprogesterone acetate 150 MG/ML Injection", DMPA, PRIMARY, EU_UD),
    rx("1367439", "NuvaRing 0.12/0.015 MG per 24HR 21 Day Vaginal Ring", RING, PRIMARY, EU_UD),
    rx("751905", "Trinessa 28 Day Pack", COC, PRIMARY, EU_UD),
    rx("748856", "Yaz 28 Day Pack", COC, PRIMARY, EU_UD),
    rx("749762", "Seasonique 91 Day Pack", COC, PRIMARY, EU_UD),
    rx("749882", "Norinyl 1+50 28 Day Pack", COC, PRIMARY, EU_UD),
    rx("978950", "Natazia 28 Day Pack", COC, PRIMARY, EU_UD),
    rx("235389", "Mestranol / Norethynodrel [Enovid]", COC, PRIMARY, EU_UD),
    # Progestin-only minipills (norethindrone 0.35 mg): never a primary method.
    rx("748962", "Camila 28 Day Pack", MINIPILL, NOT_ACCEPTABLE, EU_UD),
    rx("831533", "Errin 28 Day Pack", MINIPILL, NOT_ACCEPTABLE, EU_UD),
    rx("757594", "Jolivette 28 Day Pack", MINIPILL, NOT_ACCEPTABLE, EU_UD),
    # --- Procedure (SNOMED CT) ----------------------------------------------------------------
    sct("169553002", "Insertion of subcutaneous contraceptive", IMPLANT, PRIMARY, EU_HE),
    sct("755621000000101", "Replacement of subcutaneous contraceptive", IMPLANT, PRIMARY, EU_HE),
    sct("65200003", "Insertion of intrauterine contraceptive device", IUD, PRIMARY, EU_HE),
    sct("46706006", "Replacement of contraceptive intrauterine device", IUD, PRIMARY, EU_HE),
    Code("snomed", "301807007", "Removal of subcutaneous contraceptive", None, ends=(IMPLANT,)),
    Code("snomed", "68254000", "Removal of intrauterine device", None, ends=IUDS),
    # --- Condition (SNOMED CT) ----------------------------------------------------------------
    sct("267020005", "History of tubal ligation (situation)", TUBAL, PRIMARY, EU_HE),
    # --- Look-alikes: contraceptive-looking names that are no contraception ------------------
    Code("rxnorm", "198031", "24hr nicotine transdermal patch", None),
    Code("snomed", "79586000", "Tubal pregnancy", None),
)

XULANE = "168 HR Ethinyl Estradiol 0.00146 MG/HR / norelgestromin 0.00625 MG/HR Transdermal System"
SYNTHEA_MODULES: tuple[Code, ...] = (
    # Codes Synthea's contraceptives modules use that this sample does not hold.
    rx("1534809", XULANE, PATCH, PRIMARY, EU_UD),
    rx("1605257", "Liletta 52 MG Intrauterine System", LNG_IUD, PRIMARY, EU_HE),
    rx("748879", "Levora 0.15/30 28 Day Pack", COC, PRIMARY, EU_UD),
    rx("749785", "Ortho Tri-Cyclen 28 Day Pack", COC, PRIMARY, EU_UD),
    rx("1359133", "Estrostep Fe 28 Day Pack", COC, PRIMARY, EU_UD),
    sct("287664005", "Ligation of bilateral fallopian tubes (procedure)", TUBAL, PRIMARY, EU_HE),
    # A wish, not a method; a man's own vasectomy is no method of his; a fentanyl patch.
    Code("snomed", "183996000", "Sterilization requested (situation)", None),
    Code("snomed", "22523008", "Vasectomy (procedure)", None),
    Code("rxnorm", "245134", "72 HR Fentanyl 0.025 MG/HR Transdermal System", None),
)

RECORDED: tuple[tuple[str, str, str], ...] = (
    # Methods a prescriber records in isotrack (StartContraception), not coded in EHR data.
    ("male-condom", SECONDARY, EU_UD),
    ("female-condom", NOT_ACCEPTABLE, EU_UD),
    ("diaphragm", SECONDARY, EU_UD),
    ("cervical-cap", SECONDARY, EU_UD),
    ("abstinence", PRIMARY, NOT_ACCEPTABLE),
    ("tubal-sterilisation", PRIMARY, EU_HE),
    ("partner-vasectomy", PRIMARY, EU_HE),
)

LISTED = {(c.system, c.code): c for c in (*SAMPLE_DATA, *SYNTHEA_MODULES)}

CONTRACEPTIVE_LOOKING = re.compile(
    r"contracep|intrauterine|\biud\b|implant|\bpill|\bring\b|vaginal|patch|transdermal"
    r"|day pack|levonorgestrel|norethindrone|norethynodrel|etonogestrel|medroxyprogesterone"
    r"|ethinyl|estradiol|mestranol|drospirenone|norgestimate|desogestrel|norgestrel"
    r"|norelgestromin|dienogest|tubal|steril|ligation|salping|vasectom|condom|diaphragm"
    r"|cervical cap|spermicid|abstinen",
    re.IGNORECASE,
)
"""Words that make a code worth a look; the look-alikes in the tables are what it also catches."""

CODED_RESOURCES = {
    "MedicationRequest": "medicationCodeableConcept",
    "MedicationStatement": "medicationCodeableConcept",
    "MedicationAdministration": "medicationCodeableConcept",
    "Procedure": "code",
    "Condition": "code",
    "Device": "type",
}


def _ids(code: object) -> str:
    return f"{code.system}-{code.code}" if isinstance(code, Code) else str(code)


# --- The table: each code, its method and its classes --------------------------------------
def _check_classification(code: Code, concept: Concept, kb: KnowledgeBase) -> None:
    if code.ends:
        assert method_for(concept, kb) is None, f"{code} is a removal, never a method"
        assert set(removal_for(concept, kb)) == set(code.ends), str(code)
        return
    if code.method is None:
        assert method_for(concept, kb) is None, f"{code} is not contraception"
        assert removal_for(concept, kb) == (), f"{code} ends no method"
        return
    assert method_for(concept, kb) == (code.method, False), f"{code}: matched by its code"
    method = kb.contraception_method(code.method)
    assert (method.us_class, method.eu_class) == (code.us_class, code.eu_class), str(code)


@pytest.mark.parametrize("code", [c for c in SAMPLE_DATA if c.method], ids=_ids)
def test_each_contraceptive_code_of_the_sample_data_names_its_method_and_classes(
    kb: KnowledgeBase, code: Code
) -> None:
    _check_classification(code, code.concept, kb)


@pytest.mark.parametrize("code", [c for c in SAMPLE_DATA if c.ends], ids=_ids)
def test_removal_procedures_of_the_sample_data_end_their_devices(
    kb: KnowledgeBase, code: Code
) -> None:
    _check_classification(code, code.concept, kb)


@pytest.mark.parametrize(
    "code",
    [c for c in (*SAMPLE_DATA, *SYNTHEA_MODULES) if c.method is None and not c.ends],
    ids=_ids,
)
def test_contraceptive_looking_names_that_are_no_method_are_not_counted(
    kb: KnowledgeBase, code: Code
) -> None:
    _check_classification(code, code.concept, kb)


@pytest.mark.parametrize("code", [c for c in SYNTHEA_MODULES if c.method], ids=_ids)
def test_other_codes_of_synthea_contraceptive_modules_are_classified(
    kb: KnowledgeBase, code: Code
) -> None:
    _check_classification(code, code.concept, kb)


def test_the_minipills_are_never_primary(kb: KnowledgeBase) -> None:
    minipills = [c for c in SAMPLE_DATA if c.method == "progestin-only-pill"]
    assert {c.display.split()[0] for c in minipills} == {"Camila", "Errin", "Jolivette"}
    by_name = method_for(Concept(text="norethindrone 0.35 MG Oral Tablet"), kb)
    assert by_name == ("progestin-only-pill", True)
    assert kb.contraception_method("progestin-only-pill").us_class != PRIMARY


def test_every_method_of_the_knowledge_base_is_classified_for_both_programmes(
    kb: KnowledgeBase,
) -> None:
    coded = {c.method for c in LISTED.values() if c.method}
    recorded = {method for method, _, _ in RECORDED}
    by_text_only = {"iud-copper", "cervical-cap"}
    assert {m.id for m in kb.contraception_methods} == coded | recorded | by_text_only


# --- Methods recorded in isotrack itself --------------------------------------------------
@pytest.mark.parametrize(("method_id", "us_class", "eu_class"), RECORDED)
def test_a_recorded_method_has_its_programme_classes(
    kb: KnowledgeBase, method_id: str, us_class: str, eu_class: str
) -> None:
    method = kb.contraception_method(method_id)
    assert (method.us_class, method.eu_class) == (us_class, eu_class)
    assert method.sources


@pytest.mark.parametrize(("method_id", "us_class", "eu_class"), RECORDED)
def test_a_method_recorded_by_the_prescriber_is_in_use_with_its_class(
    kb: KnowledgeBase, method_id: str, us_class: str, eu_class: str
) -> None:
    record = apply(None, enrol_woman(), today=day(-7), kb=kb)
    record = apply(record, StartContraception(on=day(-7), method=method_id), today=day(-7), kb=kb)
    on = day(0)
    snapshot = to_snapshot(record, on=on, kb=kb)
    us = contraception_status(snapshot, on, kb, "us-ipledge-2024")
    eu = contraception_status(snapshot, on, kb, "eu-ppp-2018")
    assert [m.method.id for m in us.methods] == [method_id]
    assert [m.programme_class for m in us.methods] == [us_class]
    assert [m.programme_class for m in eu.methods] == [eu_class]


def test_a_recorded_method_needs_the_whole_month_before_it_counts(kb: KnowledgeBase) -> None:
    window = timedelta(days=kb.number("ppp.contraception_before_days"))
    on = day(0)
    for started, counts in ((on - window, True), (on - window + timedelta(days=1), False)):
        record = apply(None, enrol_woman(on=started), today=started, kb=kb)
        command = StartContraception(on=started, method="tubal-sterilisation")
        record = apply(record, command, today=started, kb=kb)
        status = contraception_status(to_snapshot(record, on=on, kb=kb), on, kb, "eu-ppp-2018")
        assert status.met is counts, started


# --- The sample data, read at test time ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class DataCode:
    resource_type: str
    concept: Concept
    where: str


def _resources(synthea_dir: Path, bulk_dir: Path) -> Iterator[tuple[dict[str, object], str]]:
    for path in sorted(synthea_dir.glob("*.json.gz")):
        bundle = json.loads(gzip.decompress(path.read_bytes()))
        for entry in bundle.get("entry", []):
            yield entry["resource"], path.name
    for path in sorted(bulk_dir.glob("*.ndjson.gz")):
        for line in gzip.decompress(path.read_bytes()).splitlines():
            if line.strip():
                yield json.loads(line), path.name


def _coded(resource: dict[str, object], where: str) -> Iterator[DataCode]:
    resource_type = str(resource.get("resourceType"))
    element = resource.get(CODED_RESOURCES.get(resource_type, ""))
    if not isinstance(element, dict):
        return
    for coding in element.get("coding", []):
        concept = Concept(
            (Coding(coding.get("system", ""), str(coding.get("code")), coding.get("display")),),
            element.get("text"),
        )
        yield DataCode(resource_type, concept, where)


@pytest.fixture(scope="module")
def data_codes(synthea_dir: Path, bulk_dir: Path) -> list[DataCode]:
    found: dict[tuple[str, str, str, str | None], DataCode] = {}
    for resource, where in _resources(synthea_dir, bulk_dir):
        for item in _coded(resource, where):
            coding = item.concept.codings[0]
            key = (item.resource_type, coding.system, coding.code, coding.display)
            found.setdefault(key, item)
    return list(found.values())


def _key(item: DataCode) -> tuple[str, str]:
    coding = item.concept.codings[0]
    return system_alias(coding.system), coding.code


def test_every_contraceptive_looking_code_of_the_sample_data_is_in_the_table(
    kb: KnowledgeBase, data_codes: list[DataCode]
) -> None:
    missing = []
    for item in data_codes:
        looks = CONTRACEPTIVE_LOOKING.search(item.concept.words())
        classified = method_for(item.concept, kb) is not None or removal_for(item.concept, kb)
        if (looks or classified) and _key(item) not in LISTED:
            missing.append(f"{item.resource_type} {item.concept.label} {_key(item)} ({item.where})")
    assert not missing, "add these codes to SAMPLE_DATA with their expected class:\n" + "\n".join(
        missing
    )


def test_each_listed_code_is_classified_as_the_table_says_under_every_display_of_the_data(
    kb: KnowledgeBase, data_codes: list[DataCode]
) -> None:
    checked = set()
    for item in data_codes:
        listed = LISTED.get(_key(item))
        if listed is not None:
            _check_classification(listed, item.concept, kb)
            checked.add(_key(item))
    assert checked == {(c.system, c.code) for c in SAMPLE_DATA}, "a listed code left the data"


def test_the_sample_data_holds_every_kind_of_coded_method(data_codes: list[DataCode]) -> None:
    kinds = {LISTED[_key(i)].method for i in data_codes if _key(i) in LISTED}
    assert {
        "implant-etonogestrel",
        "iud-levonorgestrel",
        "iud-unspecified",
        "injection-medroxyprogesterone",
        "vaginal-ring",
        "combined-oral",
        "progestin-only-pill",
        "tubal-sterilisation",
    } <= kinds
