"""What EHRs export, kind by kind: unusable lab results, NDJSON lines that are not resources,
Bundles one a line keyed by their patient, RxCUI-only codings, repeated keys in batch records,
and the shapes FHIR written by others takes (fixtures in tests/fixtures/ehr and fhir)."""

import json

import jsonschema

from conftest import FIXTURES, rlscheck
from test_ehr import SCHEMA, fhir_json, ids, request, write_bundle, RXNORM

EHR = FIXTURES / "ehr"


def notes_about(document, name):
    return [note for note in document["notes"] if note["input"] == name]


def batch_lines(*args, input=None):
    result = rlscheck("batch", *args, input=input)
    return result, [json.loads(line) for line in result.stdout.splitlines()]


# -- A1: a lab result that cannot be used says why, and is never counted as "older" ----------


def test_unusable_lab_results_say_what_is_wrong_and_are_not_called_older():
    document = fhir_json(EHR / "lab-results-unusable.json")
    assert ids(document) == {"lab.iron-deficiency"}
    (ferritin,) = [m for f in document["findings"] for m in f["matched"] if m["input"].startswith("Ferritin")]
    assert ferritin["input"] == "Ferritin 14 ug/L on 2024-10-01" and ferritin["source"] == "Observation/fer-used"
    by_source = {note.get("source"): note["text"] for note in document["notes"]}
    assert "'2025-02-30T08:00:00Z' is not a valid date" in by_source["Observation/fer-bad-date"]
    assert "1e400" in by_source["Observation/fer-huge"] and "must be between" in by_source["Observation/fer-huge"]
    assert "unknown unit 'bananas'" in by_source["Observation/hb-old-unit"]
    texts = " ".join(note["text"] for note in document["notes"])
    assert "2025-02-30" not in " ".join(m["input"] for f in document["findings"] for m in f["matched"])
    # only the usable older haemoglobin (13.9 g/dL) is "older"; ferritin has no usable older result
    (older,) = [note for note in document["notes"] if note["relation"] == "older-result"]
    assert older["input"] == "Haemoglobin" and older["text"].startswith("1 older result not used")
    assert "older" not in " ".join(note["text"] for note in notes_about(document, "Ferritin"))
    assert texts.count("Result not used") == 3


def test_an_invalid_date_is_never_shown_as_the_date_of_the_result_used(tmp_path):
    path = write_bundle(tmp_path, {"resourceType": "Observation", "id": "o1", "status": "final",
                                   "code": {"coding": [{"system": "http://loinc.org", "code": "2276-4"}]},
                                   "effectiveDateTime": "2024-13-45", "valueQuantity": {"value": 9, "unit": "ng/mL"}})
    document = fhir_json(path)
    assert not document["findings"]
    (note,) = notes_about(document, "Ferritin")
    assert note["text"] == "Result not used: effectiveDateTime '2024-13-45' is not a valid date."


# -- A2: an NDJSON line that is not a resource is named by file and line ---------------------


def test_ndjson_line_that_is_not_a_resource_names_file_and_line():
    path = EHR / "ndjson-line-not-a-resource.ndjson"
    result = rlscheck("assess", "--fhir", path)
    assert result.exit_code == 2
    assert f"'{path}', line 3: not a FHIR resource" in result.stderr
    result, lines = batch_lines(path)
    assert result.exit_code == 4
    assert lines[0]["error"] == f"'{path}' line 3: not a FHIR resource"
    assert lines[1]["id"] == "nd-1" and "drug.sedating-antihistamine" in ids(lines[1])


def test_a_json_list_item_that_is_not_a_resource_is_named(tmp_path):
    path = tmp_path / "list.json"
    path.write_text(json.dumps([{"resourceType": "Patient", "id": "p"}, {"code": "x"}]))
    result = rlscheck("assess", "--fhir", path)
    assert result.exit_code == 2 and "item 2 of its list is not a FHIR resource" in result.stderr


# -- A3: a Bundle a line is keyed by its patient ----------------------------------------------


def _bundle(patient, reference, *more):
    entries = [{"fullUrl": f"urn:uuid:{patient}", "resource": {"resourceType": "Patient", "id": patient}}] \
        if patient else []
    entries.append({"resource": {"resourceType": "MedicationRequest", "id": "m", "status": "active",
                                 "intent": "order", "subject": {"reference": reference},
                                 "medicationCodeableConcept": {"text": "metoclopramide"}}})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries + list(more)}


def test_bundle_lines_take_their_patients_id(tmp_path):
    source = tmp_path / "bundles.jsonl"
    rows = [_bundle("pa", "Patient/pa"),
            dict(_bundle("pb", "urn:uuid:pb"), id="bundle-77"),  # the Bundle's own id names no person
            _bundle(None, "https://ehr.example.org/fhir/Patient/pc/_history/2"),
            dict(_bundle(None, "Group/g1"), id="bundle-no-patient"),
            _bundle("px", "Patient/py")]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result, lines = batch_lines(source)
    assert [line["id"] for line in lines] == ["pa", "pb", "pc", "bundle-no-patient", None]
    assert all(ids(line) == {"drug.dopamine-blocking-antiemetic"} for line in lines[:4])
    assert "names 2 different patients (px, py)" in lines[4]["error"] and result.exit_code == 4


# -- A4: an RxCUI-only coding is shown as the record gave it, read as what it names ------------


def test_brand_rxcui_only_is_shown_as_the_code_and_read_as_the_ingredient(tmp_path):
    path = write_bundle(tmp_path, request("r1", {"coding": [{"system": RXNORM, "code": "218986"}]}),  # OxyContin
                        request("r2", {"coding": [{"system": RXNORM, "code": "904871"}]}))  # BuTrans
    document = fhir_json(path)
    by_source = {note.get("source"): note for note in document["notes"]}
    assert by_source["MedicationRequest/r1"]["input"] == "RxNorm 218986"
    assert by_source["MedicationRequest/r1"]["resolved"] == "oxycodone"
    assert by_source["MedicationRequest/r2"]["input"] == "RxNorm 904871"
    assert by_source["MedicationRequest/r2"]["resolved"] == "buprenorphine"
    assert not document["unrecognized"]


def test_contained_medication_coded_by_rxcui_only_keeps_the_code_as_input(tmp_path):
    medication = {"resourceType": "Medication", "id": "med", "code": {"coding": [{"system": RXNORM,
                                                                                   "code": "3498"}]}}
    path = write_bundle(tmp_path, {"resourceType": "MedicationStatement", "id": "s1", "status": "active",
                                   "contained": [medication], "medicationReference": {"reference": "#med"}})
    document = fhir_json(path)
    (finding,) = document["findings"]
    (matched,) = finding["matched"]
    assert (matched["input"], matched["resolved"]) == ("RxNorm 3498", "diphenhydramine")
    assert matched["via"][0] == "RxNorm code of diphenhydramine"


# -- A5: a key given twice in a batch record --------------------------------------------------


def test_a_key_given_twice_refuses_the_record_never_keeps_only_the_last(tmp_path):
    source = tmp_path / "people.jsonl"
    source.write_text('{"id": "p1", "meds": ["Zoloft"], "meds": ["metformin"]}\n'
                      '{"id": "p2", "labs": {"ferritin": 10, "ferritin": 200}}\n'
                      '{"id": "p3", "meds": ["say \\"meds\\": twice"], "conditions": ["ESRD"]}\n')
    result, lines = batch_lines(source)
    assert result.exit_code == 4
    assert lines[0]["id"] == "p1" and "key 'meds' given more than once" in lines[0]["error"]
    assert lines[1]["id"] == "p2" and "key 'ferritin' given more than once" in lines[1]["error"]
    assert "error" not in lines[2] and "condition.kidney-failure" in ids(lines[2])


def test_a_csv_column_given_twice_is_refused(tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("id,meds,Meds\np1,Zoloft,Reglan\n")
    result = rlscheck("batch", source)
    assert result.exit_code == 2 and "'meds' appear more than once" in result.stderr
