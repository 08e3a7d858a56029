"""ICH E2B(R3) output (R3.6): every kind of ADR report validates against the ICH schema
package in ../shared/standards/ich-e2b-r3/ (unzipped into a temporary folder, never copied)."""

from __future__ import annotations

import zipfile
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from qloop.cases.actions import ContactData, Registration, register_case
from qloop.cases.models import Case
from qloop.pharmacy.e2b import e2b_document
from tests.pharmacy.conftest import adr_detail
from tests.standards import STANDARDS, skip_without_standards

skip_without_standards()

pytestmark = pytest.mark.django_db

ICH = STANDARDS / "ich-e2b-r3"  # as ../shared/standards/README.md describes
V3 = "{urn:hl7-org:v3}"


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> etree.XMLSchema:
    folder = tmp_path_factory.mktemp("ich")
    with zipfile.ZipFile(ICH / "4_ICH_ICSR_Schema_Files.zip") as archive:
        archive.extractall(folder)
    root = next(folder.rglob("multicacheschemas/MCCI_IN200100UV01.xsd"))
    return etree.XMLSchema(etree.parse(str(root)))


def test_the_schema_accepts_ichs_own_example(schema: etree.XMLSchema) -> None:
    """The validator itself is right: FDA's example passes."""
    example = etree.parse(str(ICH / "examples" / "FAERS2022Scenario1.xml"))
    assert schema.validate(example), schema.error_log


def adr(pharmacy: dict[str, Any], **overrides: Any) -> Case:
    return register_case(
        Registration(
            kind="adr",
            channel="visit",
            contact=ContactData(name=""),
            symptom="",
            detail=adr_detail(pharmacy, **overrides),
        ),
        actor=pharmacy["pharm"],
    )


KINDS_OF_REPORT: dict[str, dict[str, Any]] = {
    "general": {},
    "serious": {
        "seriousness": "serious",
        "weight_kg": "62.5",
        "birth_date": "1959-03-02",
        "underlying_disease": "高血压",
    },
    "new_serious": {"seriousness": "new_serious", "outcome": "sequelae", "sequelae": "听力下降"},
    "death": {
        "seriousness": "serious",
        "outcome": "death",
        "death_cause": "过敏性休克",
        "sex": "F",
        "unit_type": "hospital",
    },
    "minimal": {
        "patient_name": "",
        "age_years": None,
        "sex": "U",
        "reporter_phone": "",
        "reporter_email": "z@h.cn",
        "causality_reporter": "",
        "causality_unit": "",
        "drugs": [{"role": "suspect", "generic_name": "某中药注射液"}],
    },
}


@pytest.mark.parametrize("name", sorted(KINDS_OF_REPORT))
def test_each_kind_of_report_is_a_valid_icsr(
    name: str, pharmacy: dict[str, Any], schema: etree.XMLSchema
) -> None:
    case = adr(pharmacy, **KINDS_OF_REPORT[name])
    doc = etree.fromstring(e2b_document([case]))
    assert schema.validate(doc), schema.error_log
    # The data is where E2B puts it.
    event = doc.find(f".//{V3}investigationEvent")
    assert event is not None
    ids = [i.get("extension") for i in event.findall(f"{V3}id")]
    assert all(case.number in (x or "") for x in ids)
    reaction = doc.find(f".//{V3}observation/{V3}value/{V3}originalText")
    assert reaction is not None and reaction.text == case.adr.reaction
    lots = [e.text for e in doc.iter(f"{V3}lotNumberText")]
    assert lots == [d.batch_number for d in case.adr.drugs.all() if d.batch_number]


def test_a_follow_up_and_a_batch_of_many_are_valid(
    pharmacy: dict[str, Any], schema: etree.XMLSchema
) -> None:
    first = adr(pharmacy)
    follow = adr(pharmacy, report_type="follow_up", follow_up_of=first.number)
    doc = etree.fromstring(e2b_document([first, follow]))
    assert schema.validate(doc), schema.error_log
    assert len(doc.findall(f"{V3}PORR_IN049016UV")) == 2


def test_every_report_in_the_demo_is_a_valid_icsr(db: Any, schema: etree.XMLSchema) -> None:
    """The demo's reports (every seriousness, a death, follow-ups, a group's members) as one
    batch and one by one."""
    from django.core.management import call_command

    call_command("demo", cases=20, stdout=__import__("io").StringIO())
    reports = list(Case.objects.filter(kind="adr").order_by("pk"))
    kinds = {(c.adr.report_type, c.adr.category) for c in reports}
    assert {("first", "general"), ("first", "death"), ("first", "new_serious")} <= kinds
    assert Case.objects.filter(kind="adr_group").exists()
    assert Case.objects.filter(kind="counterfeit", state="closed").exists()
    # The whole batch in a fixed number of queries, however many reports (issue 10: 10,000
    # reports): the organisation, the reports and their drugs.
    with CaptureQueriesContext(connection) as queries:
        doc = etree.fromstring(e2b_document(reports))
    assert len(queries) <= 3, [q["sql"] for q in queries]
    assert schema.validate(doc), schema.error_log
    for case in reports:
        assert schema.validate(etree.fromstring(e2b_document([case]))), (
            case.number,
            schema.error_log,
        )
