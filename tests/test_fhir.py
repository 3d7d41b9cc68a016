"""FHIR R4 input, tested on real bundles and resources written by others (tests/fixtures/fhir)."""

import json

import pytest

from conftest import FHIR, rlscheck

EXPECTED = {
    # Anaemia of unstated type is a low-certainty finding (most often iron deficiency).
    "synthea-fluoxetine-major-depression-anemia.json": {"drug.antidepressant", "risk.stress-psychiatric",
                                                        "condition.anemia"},
    "synthea-sertraline-metoprolol-chf-anemia.json": {"drug.antidepressant", "drug.beta-blocker", "risk.obesity",
                                                      "condition.anemia", "lab.kidney-severe"},  # latest eGFR: 26
    "synthea-diphenhydramine-diabetic-neuropathy-anemia.json": {"drug.sedating-antihistamine",
                                                               "condition.peripheral-neuropathy", "condition.anemia"},
    "synthea-ckd-stage1-diabetic-neuropathy-carbamazepine.json": {"condition.peripheral-neuropathy", "condition.anemia",
                                                                  "risk.obesity"},
    "synthea-active-pregnancy.json": {"condition.pregnancy"},
    "synthea-rheumatoid-arthritis-methotrexate.json": {"condition.rheumatoid-arthritis"},
    "synthea-negative-loratadine-sinusitis.json": set(),
    "hl7-r4-medicationstatement-example001-tylenol-pm-contained.json": {"drug.sedating-antihistamine"},
    "hl7-r4-medicationrequest-medrx0310-tylenol-pm-contained.json": {"drug.sedating-antihistamine"},
    "hl7-r4-medicationrequest-medrx0312-phenytoin.json": {"drug.anticonvulsant"},
}


def fhir_document(path):
    result = rlscheck("assess", "--fhir", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_gives_the_expected_findings(name):
    document = fhir_document(FHIR / name)
    assert {f["id"] for f in document["findings"]} == EXPECTED[name]
    for finding in document["findings"]:
        for matched in finding["matched"]:
            assert "/" in matched["source"]  # "MedicationRequest/abc", "Condition/xyz"


def test_all_fixture_files_are_covered():
    assert {p.name for p in FHIR.glob("*.json")} == set(EXPECTED)


def test_stopped_and_resolved_records_are_skipped_and_said_so():
    document = fhir_document(FHIR / "synthea-active-pregnancy.json")
    skipped = [n for n in document["notes"] if n.get("relation") == "skipped"]
    assert any("stopped" in n["text"] for n in skipped)
    assert any("resolved" in n["text"] for n in skipped)
    fluoxetine = fhir_document(FHIR / "synthea-fluoxetine-major-depression-anemia.json")
    sources = [m["source"] for f in fluoxetine["findings"] for m in f["matched"] if "luoxetine" in m["input"]]
    assert len(sources) == 1  # the active request only; the stopped one is a note


def test_reason_code_restless_legs_is_never_a_finding():
    document = fhir_document(FHIR / "hl7-r4-medicationstatement-example001-tylenol-pm-contained.json")
    inputs = [m["input"] for f in document["findings"] for m in f["matched"]]
    for section in ("notes", "not_linked", "unrecognized"):
        inputs += [item["input"] for item in document[section]]
    assert inputs and not any("restless" in i.lower() for i in inputs)
    assert "condition.rls" not in {f["id"] for f in document["findings"]}


def test_contained_medication_is_read_by_its_display():
    document = fhir_document(FHIR / "hl7-r4-medicationstatement-example001-tylenol-pm-contained.json")
    (finding,) = document["findings"]
    assert finding["matched"][0]["input"] == "Tylenol PM"
    assert finding["matched"][0]["resolved"] == "diphenhydramine"
    assert finding["matched"][0]["source"] == "MedicationStatement/example001"


def test_unknown_product_is_resolved_through_its_listed_ingredients(tmp_path):
    statement = json.loads((FHIR / "hl7-r4-medicationstatement-example001-tylenol-pm-contained.json").read_text())
    statement["contained"][0]["code"]["coding"][0]["display"] = "Acme Night Caps"
    path = tmp_path / "unknown-brand.json"  # hand-edited copy of the HL7 example
    path.write_text(json.dumps(statement))
    (finding,) = fhir_document(path)["findings"]
    matched = finding["matched"][0]
    assert matched["input"] == "Acme Night Caps" and matched["resolved"] == "diphenhydramine"
    assert matched["via"][0] == "listed ingredient: Diphenhydramine Hydrochloride 25 mg"


def test_anemia_without_iron_studies_asks_for_them():
    document = fhir_document(FHIR / "synthea-fluoxetine-major-depression-anemia.json")
    assert {"check.iron-studies", "check.anemia-condition"} <= {c["id"] for c in document["check_next"]}


def test_diabetes_with_documented_neuropathy_is_one_finding():
    document = fhir_document(FHIR / "synthea-diphenhydramine-diabetic-neuropathy-anemia.json")
    neuropathy = next(f for f in document["findings"] if f["id"] == "condition.peripheral-neuropathy")
    assert {m["input"] for m in neuropathy["matched"]} >= {"Diabetes"}


def test_fhir_from_stdin():
    text = (FHIR / "hl7-r4-medicationrequest-medrx0312-phenytoin.json").read_text()
    result = rlscheck("assess", "--fhir", "-", "-f", "json", input=text)
    assert result.exit_code == 0
    assert result.json()["findings"][0]["id"] == "drug.anticonvulsant"


@pytest.mark.parametrize("content,message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not a FHIR resource"),
    ('{"resourceType": "Patient", "id": "x"}', "not supported"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ('{"resourceType": "MedicationRequest", "medicationReference": {"reference": "Medication/none"}}', None),
])
def test_broken_fhir_is_a_clear_error_or_handled(tmp_path, content, message):
    path = tmp_path / "input.json"
    path.write_text(content)
    result = rlscheck("assess", "--fhir", path, "-f", "json")
    if message is None:
        assert result.exit_code == 0
        assert result.json()["unrecognized"] or result.json()["not_linked"] or result.json()["notes"]
    else:
        assert result.exit_code == 2
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_icd10_coded_conditions_in_fhir(tmp_path):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Condition", "id": "c1",
                      "clinicalStatus": {"coding": [{"code": "active"}]},
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "N18.6",
                                           "display": "End stage renal disease"}]}}},
        {"resource": {"resourceType": "Condition", "id": "c2",
                      "verificationStatus": {"coding": [{"code": "refuted"}]},
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "O99.35"}]}}},
    ]}
    path = tmp_path / "hand-written-icd10.json"  # hand-written: no public ICD-coded FHIR fixture exists
    path.write_text(json.dumps(bundle))
    document = fhir_document(path)
    assert [f["id"] for f in document["findings"]] == ["condition.kidney-failure"]
    assert document["findings"][0]["matched"][0]["source"] == "Condition/c1"
    assert any(n["input"] == "O99.35" and "refuted" in n["text"] for n in document["notes"])


def test_huge_fhir_file_is_refused(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(65 * 1024 * 1024)
    result = rlscheck("assess", "--fhir", path, "-f", "json")
    assert result.exit_code == 2 and "larger than" in result.stderr
