"""Contraception and procedures as EHRs write them: an implant, IUD or injection
by MedicationRequest, MedicationStatement, MedicationAdministration, Procedure or
Device, in RxNorm, HCPCS, NDC, SNOMED CT, CPT or ICD-10-PCS, counted for its
labelled duration; hysterectomy and oophorectomy in every procedure code system."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.screening.pregnancy import pregnancy_capability
from isotrack.knowledge import default_knowledge
from tests.fhir.builders_medications import (
    CPT,
    HCPCS,
    ICD10PCS,
    MEDICATION_SHAPES,
    NDC,
    RXNORM,
    SNOMED,
    administration,
    codeable,
    coding,
    device,
    device_use,
    named,
    procedure_coded,
    request,
    screened,
    snapshot_of,
    statement,
    status_on,
)

KB = default_knowledge()
INSERTED = "2025-03-01"
IMPLANT_CODES = {
    "rxnorm": codeable(coding(RXNORM, "389221", "Etonogestrel 68 MG Drug Implant")),
    "hcpcs": codeable(coding(HCPCS, "J7307")),
    "ndc-11": codeable(coding(NDC, "78206014501")),
    "ndc-hyphens": codeable(coding(NDC, "78206-145-01")),
    "ndc-product": codeable(coding(NDC, "78206-145")),
}
CONDOMS = statement("active", "2025-01-01", "condoms")
CONDOMS["medicationCodeableConcept"] = codeable(text="Male condoms")


def implant(
    representation: str, code: str, shape: str, on: str = INSERTED
) -> list[dict[str, object]]:
    """An etonogestrel implant given on ``on``, written one way."""
    product = IMPLANT_CODES[code]
    if representation == "procedure":
        insertion = codeable(coding(SNOMED, "169553002", "Insertion of subcutaneous contraceptive"))
        return [procedure_coded(insertion, on, "ins")]
    if representation == "device":
        return [device(product, "dev"), device_use("dev", on, "use")]
    if representation == "procedure-device":
        insertion = codeable(coding(CPT, "11981"))  # says no drug: the Device does
        focal = {"focalDevice": [{"manipulated": {"reference": "Device/dev"}}]}
        return [device(product, "dev"), procedure_coded(insertion, on, "ins", **focal)]
    status, record = representation.split(":")
    resource = {
        "request": request(status, on, "impl"),
        "statement": statement(status, on, "impl"),
        "administration": administration(status, on, "impl"),
        "administration-r5": administration(status, on, "impl", r5=True),
    }[record]
    return named(resource, product, shape, "impl")


REPRESENTATIONS = (
    "procedure",
    "device",
    "procedure-device",
    "active:request",
    "completed:request",
    "completed:statement",
    "completed:administration",
    "in-progress:administration",
    "completed:administration-r5",
)


@settings(max_examples=40, deadline=None)
@given(
    representation=st.sampled_from(REPRESENTATIONS),
    code=st.sampled_from(sorted(IMPLANT_CODES)),
    shape=st.sampled_from(MEDICATION_SHAPES[:5]),
)
def test_an_implant_inserted_plus_condoms_meets_the_us_programme_however_it_is_written(
    representation: str, code: str, shape: str
) -> None:
    resources = [*implant(representation, code, shape), CONDOMS]
    during = status_on(KB, resources, date(2025, 6, 1))
    assert during.met
    assert during.uses("implant-etonogestrel")
    assert "CONTRACEPTION-REQUIRED" not in screened(KB, resources, date(2025, 6, 1))
    after = status_on(KB, resources, date(2028, 6, 1))  # past the label's 3 years
    assert not after.uses("implant-etonogestrel")
    assert not after.met


@settings(max_examples=30, deadline=None)
@given(
    record=st.sampled_from(
        ["active:request", "completed:request", "completed:administration", "completed:statement"]
    ),
    shape=st.sampled_from(MEDICATION_SHAPES[:5]),
    product=st.sampled_from(
        [
            codeable(coding(RXNORM, "1000126")),
            codeable(coding(NDC, "70121-1480-01")),
            codeable(coding(HCPCS, "J1050")),
        ]
    ),
)
def test_an_injection_protects_for_its_labelled_weeks_whatever_the_record_says(
    record: str, shape: str, product: dict[str, object]
) -> None:
    status, kind = record.split(":")
    resource = {
        "request": request(status, "2025-03-01", "dmpa"),
        "administration": administration(status, "2025-03-01", "dmpa"),
        "statement": statement(status, "2025-03-01", "dmpa"),
    }[kind]
    resources = named(resource, product, shape, "dmpa")
    assert status_on(KB, resources, date(2025, 5, 1)).uses("injection-medroxyprogesterone")
    later = status_on(KB, resources, date(2025, 7, 15))  # more than 13 weeks later
    assert not later.uses("injection-medroxyprogesterone")


# --- statuses ------------------------------------------------------------------------------
def test_a_completed_order_of_an_implant_given_in_clinic_is_a_method_not_a_stop() -> None:
    given_in_clinic = named(
        request("completed", INSERTED, "i"), IMPLANT_CODES["rxnorm"], "codeable", "i"
    )
    assert status_on(KB, [*given_in_clinic, CONDOMS], date(2025, 6, 1)).met


def test_an_administration_stopped_or_not_done_gives_no_protection() -> None:
    for status in ("stopped", "not-done", "entered-in-error", "on-hold"):
        resources = named(
            administration(status, INSERTED, "a"), IMPLANT_CODES["rxnorm"], "codeable", "a"
        )
        assert not status_on(KB, resources, date(2025, 6, 1)).uses("implant-etonogestrel")


def test_a_statement_of_use_is_taken_at_its_word() -> None:
    ongoing = named(
        statement("active", "2020-01-01", "s"), IMPLANT_CODES["rxnorm"], "codeable", "s"
    )
    assert status_on(KB, ongoing, date(2025, 6, 1)).uses("implant-etonogestrel")
    ended = named(
        statement("completed", "2020-01-01", "s", end="2020-06-01"),
        IMPLANT_CODES["rxnorm"],
        "codeable",
        "s",
    )
    assert not status_on(KB, ended, date(2021, 1, 1)).uses("implant-etonogestrel")


# --- durations by product --------------------------------------------------------------------
def test_each_iud_counts_for_its_own_label() -> None:
    on = date(2022, 1, 1)  # 6 years after insertion
    mirena = codeable(coding(RXNORM, "807283", "Mirena 52 MG Intrauterine System"))
    kyleena = codeable(coding(HCPCS, "J7296"))
    assert status_on(
        KB, named(request("completed", "2016-01-01", "m"), mirena, "codeable", "m"), on
    ).uses("iud-levonorgestrel")
    assert not status_on(
        KB, named(request("completed", "2016-01-01", "k"), kyleena, "codeable", "k"), on
    ).uses("iud-levonorgestrel")


def test_an_iud_insertion_of_unknown_type_counts_for_the_shortest_iud_label() -> None:
    inserted = [procedure_coded(codeable(coding(CPT, "58300")), "2016-01-01", "p")]
    assert status_on(KB, inserted, date(2018, 12, 1)).uses("iud-unspecified")
    assert not status_on(KB, inserted, date(2019, 1, 2)).uses("iud-unspecified")


def test_a_copper_iud_billed_in_hcpcs_counts_for_ten_years() -> None:
    paragard = named(
        request("completed", "2016-01-01", "c"), codeable(coding(HCPCS, "J7300")), "codeable", "c"
    )
    assert status_on(KB, paragard, date(2025, 12, 1)).uses("iud-copper")
    assert not status_on(KB, paragard, date(2026, 1, 2)).uses("iud-copper")


def test_an_iud_removal_in_cpt_ends_the_iud() -> None:
    mirena = named(
        request("completed", "2020-01-01", "m"), codeable(coding(HCPCS, "J7298")), "codeable", "m"
    )
    removal = procedure_coded(codeable(coding(CPT, "58301")), "2021-01-01", "r")
    assert not status_on(KB, [*mirena, removal], date(2021, 6, 1)).uses("iud-levonorgestrel")


# --- devices ---------------------------------------------------------------------------------
def test_a_device_without_an_insertion_date_is_in_use_but_proves_nothing() -> None:
    snapshot = snapshot_of(KB, [device(IMPLANT_CODES["hcpcs"], "d")], date(2025, 6, 1))
    (use,) = snapshot.contraception
    assert (use.method, use.start) == ("implant-etonogestrel", None)
    assert any("no insertion date" in note for note in snapshot.notes)
    assert not status_on(KB, [device(IMPLANT_CODES["hcpcs"], "d"), CONDOMS], date(2025, 6, 1)).met


def test_an_inactive_device_or_a_finished_device_use_is_no_method() -> None:
    inactive = [device(IMPLANT_CODES["rxnorm"], "d", status="inactive")]
    assert not status_on(KB, inactive, date(2025, 6, 1)).uses("implant-etonogestrel")
    finished = [
        device(IMPLANT_CODES["rxnorm"], "d"),
        device_use(
            "d",
            "2024-01-01",
            "u",
            status="completed",
            timingPeriod={"start": "2024-01-01", "end": "2024-06-01"},
        ),
    ]
    assert not status_on(KB, finished, date(2025, 6, 1)).uses("implant-etonogestrel")


# --- procedures that decide whether the patient can get pregnant -------------------------------
HYSTERECTOMIES = [
    codeable(coding(CPT, "58150")),
    codeable(coding(CPT, "58571")),
    codeable(coding(ICD10PCS, "0UT90ZZ")),
    codeable(coding(ICD10PCS, "0UT2FZZ")),  # both ovaries
    codeable(coding(SNOMED, "609275002")),  # laparoscopic bilateral oophorectomy
]


@settings(max_examples=10, deadline=None)
@given(code=st.sampled_from(HYSTERECTOMIES))
def test_a_hysterectomy_or_bilateral_oophorectomy_in_any_code_system_ends_pregnancy_capability(
    code: dict[str, object],
) -> None:
    on = date(2026, 3, 2)
    snapshot = snapshot_of(KB, [procedure_coded(code, "2020-05-05", "h")], on)
    assert not pregnancy_capability(snapshot, on, KB).can_get_pregnant
    found = screened(KB, [procedure_coded(code, "2020-05-05", "h")], on)
    assert not {"PREG-TEST-REQUIRED", "CONTRACEPTION-REQUIRED", "PPP-START-TESTS"} & set(found)


def test_a_unilateral_oophorectomy_or_a_tubal_ligation_leaves_the_category_alone() -> None:
    on = date(2026, 3, 2)
    for code in (
        codeable(coding(SNOMED, "302377002", "Left oophorectomy")),
        codeable(coding(CPT, "58600")),
    ):
        snapshot = snapshot_of(KB, [procedure_coded(code, "2020-05-05", "p")], on)
        assert pregnancy_capability(snapshot, on, KB).can_get_pregnant


def test_a_tubal_ligation_coded_in_cpt_or_icd10pcs_is_a_method() -> None:
    for code in (codeable(coding(CPT, "58600")), codeable(coding(ICD10PCS, "0UT74ZZ"))):
        tubal = [procedure_coded(code, "2020-05-05", "t")]
        assert status_on(KB, tubal, date(2026, 3, 2)).uses("tubal-sterilisation")
