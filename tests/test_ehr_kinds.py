"""What EHRs export, kind by kind: unusable lab results, NDJSON lines that are not resources,
Bundles one a line keyed by their patient, RxCUI-only codings, repeated keys in batch records,
and the shapes FHIR written by others takes (fixtures in tests/fixtures/ehr and fhir)."""

import json

import pytest

import rlscheck as rlscheck_api

from conftest import FIXTURES, assess_json, rlscheck
from test_ehr import fhir_json, ids, request, write_bundle, RXNORM

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
    # never the primary-RLS reassurance when a lab result given was not read
    assert document["summary"] == ("No known secondary cause among the inputs that were read. The check is "
                                   "incomplete: no Ferritin result could be used (see the notes).")
    with_finding = fhir_json(path, "--med", "Zoloft")
    assert with_finding["findings"] and with_finding["summary"].endswith("no Ferritin result could be used (see the notes).")


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


# -- B: FHIR written by others ---------------------------------------------------------------


def matched_by_source(document):
    return {m["source"]: (finding["id"], m["input"]) for finding in document["findings"] for m in finding["matched"]}


def test_r5_medication_as_codeable_reference_is_read():
    document = fhir_json(EHR / "r5-medication-codeablereference.json")
    assert ids(document) == {"drug.lithium", "drug.antidepressant", "drug.neuroleptic",
                             "drug.dopamine-blocking-antiemetic", "drug.sedating-antihistamine"}
    sources = {m["source"] for f in document["findings"] for m in f["matched"]}
    assert {"MedicationStatement/ms-concept", "MedicationStatement/ms-contained", "MedicationRequest/mr-concept",
            "MedicationAdministration/ma (given 2025-03-01)"} <= sources
    (skipped,) = [n for n in document["notes"] if n.get("source") == "MedicationStatement/ms-error"]
    assert "entered-in-error" in skipped["text"]
    assert not [n for n in document["notes"] if "no medication name" in n["text"]]


def test_stu3_statement_taken_n_is_skipped_with_why():
    document = fhir_json(EHR / "stu3-statement-taken.json")
    assert ids(document) == {"drug.antidepressant", "condition.kidney-failure"}
    (note,) = [n for n in document["notes"] if n.get("source") == "MedicationStatement/not-taken"]
    assert note["input"] == "Metoclopramide 10mg" and "not-taken" in note["text"]


def test_lab_panels_sibling_codes_long_names_and_coded_values():
    document = fhir_json(EHR / "labs-panels-long-names-coded-values.json")
    used = {m["source"]: m["input"] for f in document["findings"] for m in f["matched"]}
    assert used["Observation/iron-panel component 1"].startswith("Transferrin saturation 12 %")
    assert used["Observation/ferritin-immunoassay"].startswith("Ferritin 22")  # LOINC 20567-4
    assert used["Observation/b12-local"].startswith("Vitamin B12 110 pmol/L")  # a local code, a LOINC long name
    assert {"lab.iron-deficiency", "lab.b12-deficiency"} <= ids(document)
    by_source = {n.get("source"): n for n in document["notes"]}
    assert by_source["Observation/hb-moles"]["input"].startswith("Haemoglobin 6.5 mmol/L")  # LOINC 59260-0
    assert "coded ('see comment')" in by_source["Observation/egfr-coded"]["text"]
    assert "no value (Not Performed)" in by_source["Observation/mg-absent"]["text"]
    (unused,) = [n for n in document["notes"] if n["relation"] == "not-covered" and n["kind"] == "lab"]
    # red cell folate is another specimen; serum iron has no rule: both counted, neither read as a lab
    assert "Folate [Mass/volume] in Red Blood Cells" in unused["text"] and "Iron [Mass/volume]" in unused["text"]


def test_nicotine_as_ehr_orders_reach_the_substance_rules():
    document = fhir_json(EHR / "epic-nicotine-orders.json")
    assert ids(document) == {"substance.nicotine"}
    (finding,) = document["findings"]
    assert len(finding["matched"]) == 6
    assert not document["unrecognized"] and not document["not_linked"]


def test_bulk_export_gzip_manifest_uuid_and_absolute_references():
    folder = EHR / "bulk-gzip-manifest"
    for source in ([folder], [folder / "manifest.json"],
                   [folder / "Patient.ndjson.gz", folder / "MedicationRequest.ndjson.gz", folder / "mixed-1.ndjson"]):
        result, lines = batch_lines(*source)
        assert result.exit_code == 0, result.stderr
        assert [line["id"] for line in lines] == ["bk0", "bk1", "bk2"]
        assert ids(lines[0]) == {"condition.iron-deficiency", "drug.neuroleptic"}
        assert ids(lines[1]) == {"drug.antidepressant"}  # subject urn:uuid:bk1
        assert ids(lines[2]) == {"lab.iron-deficiency", "drug.dopamine-blocking-antiemetic"}  # absolute URL
    for given in (folder, folder / "manifest.json"):  # the folder, or its manifest given directly
        result, _ = batch_lines(given)
        assert "not read: notes.txt" in result.stderr  # a file the manifest does not list is named


def test_manifest_listing_a_missing_file_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"transactionTime": "2025-01-01T00:00:00Z", "output": [
        {"type": "Patient", "url": "https://x.example/Patient.ndjson"}]}))
    result = rlscheck("batch", tmp_path / "manifest.json")
    assert result.exit_code == 2 and "https://x.example/Patient.ndjson" in result.stderr


def test_gzip_ndjson_of_one_person_with_a_uuid_subject_is_assessed(tmp_path):
    import gzip

    lines = [{"resourceType": "Patient", "id": "p-77"},
             {"resourceType": "MedicationRequest", "id": "m", "status": "active", "intent": "order",
              "subject": {"reference": "urn:uuid:p-77"}, "medicationCodeableConcept": {"text": "sertraline"}}]
    path = tmp_path / "person.ndjson.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode()))
    document = fhir_json(path)  # one patient, named two ways: not refused as two people
    assert ids(document) == {"drug.antidepressant"}
    broken = tmp_path / "broken.ndjson.gz"
    broken.write_bytes(path.read_bytes()[:20])
    result = rlscheck("assess", "--fhir", broken)
    assert result.exit_code == 2 and "not a readable gzip file" in result.stderr


def test_export_errors_and_outcomes_in_an_export_are_said(tmp_path):
    import shutil

    folder = tmp_path / "export"
    shutil.copytree(EHR / "bulk-gzip-manifest", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["error"] = [{"type": "OperationOutcome", "url": "https://files.example.org/exports/errors.ndjson"}]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "errors.ndjson").write_text(json.dumps({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "exception", "diagnostics": "Observation export timed out"}]}) + "\n")
    with open(folder / "mixed-1.ndjson", "a") as handle:
        handle.write(json.dumps({"resourceType": "OperationOutcome", "issue": [
            {"severity": "warning", "code": "too-costly", "details": {"text": "Encounters omitted"}}]}) + "\n")
    result, lines = batch_lines(folder)
    assert result.exit_code == 0 and [line["id"] for line in lines] == ["bk0", "bk1", "bk2"]
    assert "the export reports errors (errors.ndjson): error: Observation export timed out" in result.stderr
    assert "line 4: the server reported warning: Encounters omitted" in result.stderr
    assert "errors.ndjson, " not in result.stderr and "not read: notes.txt" in result.stderr


def test_code_systems_given_by_oid_are_read_as_their_uri(tmp_path):
    path = write_bundle(tmp_path,
                        request("m", {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.88", "code": "36437"}]}),
                        {"resourceType": "Condition", "id": "c", "code": {"coding": [
                            {"system": "urn:oid:2.16.840.1.113883.6.90", "code": "T20.21"}]}})
    document = fhir_json(path, "--strict")
    assert ids(document) == {"drug.antidepressant"}
    (not_linked,) = document["not_linked"]
    assert not_linked["source"] == "Condition/c" and not document["unrecognized"]


@pytest.mark.parametrize("unit", ["mL/min/1.73m^2", "mL/min/1.73 sq.m", "mL/min/1,73 m2", "mL/min per 1.73 m2",
                                  "mL/min/{1.73_m2}", "mL/min/1.73m²"])
def test_egfr_units_as_labs_spell_them(tmp_path, unit):
    assert ids(assess_json("--lab", f"egfr=12 {unit}")) == {"lab.kidney-failure"}
    path = write_bundle(tmp_path, {"resourceType": "Observation", "id": "o", "status": "final",
                                   "code": {"coding": [{"system": "http://loinc.org", "code": "62238-1"}]},
                                   "valueQuantity": {"value": 12, "unit": unit}})
    assert ids(fhir_json(path)) == {"lab.kidney-failure"}


def test_do_not_perform_orders_and_abated_conditions_are_skipped_with_why(tmp_path):
    icd = "http://hl7.org/fhir/sid/icd-10-cm"
    path = write_bundle(tmp_path,
                        request("dnp", {"text": "haloperidol"}, doNotPerform=True),
                        {"resourceType": "Condition", "id": "abated", "abatementDateTime": "2019-05-01",
                         "code": {"coding": [{"system": icd, "code": "D50.9"}], "text": "Iron deficiency anemia"}},
                        {"resourceType": "Condition", "id": "covid", "code": {"coding": [{"system": icd,
                                                                                           "code": "U07.1"}]}})
    document = fhir_json(path, "--strict")  # U07.1 (COVID-19) is a valid ICD-10-CM code: not unrecognized
    assert not document["findings"]
    by_source = {n.get("source"): n["text"] for n in document["notes"]}
    assert "doNotPerform" in by_source["MedicationRequest/dnp"]
    assert "abated 2019-05-01" in by_source["Condition/abated"]
    (covid,) = document["not_linked"]
    assert covid["input"] == "U07.1" and "COVID-19" in covid["text"]


def test_an_empty_ndjson_file_holds_nothing_to_assess_never_invalid_json(tmp_path):
    path = tmp_path / "AllergyIntolerance.ndjson"
    path.write_text("")
    document = fhir_json(path)
    assert document["summary"].startswith("The FHIR input held nothing to assess")
    assert rlscheck("assess", "--fhir", path, "--strict").exit_code == 2


def test_an_export_named_jsonl_is_grouped_by_patient(tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_text((EHR / "08-ndjson-bulk-export.ndjson").read_text())
    result, lines = batch_lines(path)
    assert result.exit_code == 0 and len(lines) == 1 and lines[0]["id"] == "example-patient-1"
    assert ids(lines[0]) == {"drug.sedating-antihistamine", "condition.kidney-failure"}


def test_names_that_state_there_is_nothing_are_notes_not_unrecognized(tmp_path):
    path = write_bundle(tmp_path, *[{"resourceType": "MedicationStatement", "id": f"s{number}", "status": "active",
                                     "medicationCodeableConcept": {"text": text}}
                                    for number, text in enumerate(["No Known Medications", "no current medications.",
                                                                   "None", "MEDICATION NOT ON FILE"])],
                        {"resourceType": "Condition", "id": "c", "code": {"text": "No active problems"}})
    document = fhir_json(path)
    stated = {n["source"] for n in document["notes"] if n["relation"] == "no-information"}
    assert stated == {"MedicationStatement/s0", "MedicationStatement/s1", "MedicationStatement/s2", "Condition/c"}
    assert [u["input"] for u in document["unrecognized"]] == ["MEDICATION NOT ON FILE"]  # a drug, not named


def test_code_systems_written_loosely_are_read(tmp_path):
    def lab(rid, system, code, value, unit):
        return {"resourceType": "Observation", "id": rid, "status": "final",
                "code": {"coding": [{"system": system, "code": code}]}, "valueQuantity": {"value": value, "unit": unit}}
    path = write_bundle(tmp_path,
                        lab("o1", "http://loinc.org/", "2276-4", 9, "ng/mL"),
                        lab("o2", "LOINC", "33914-3", 9, "mL/min/1.73m2"),
                        lab("o3", "https://loinc.org", "2502-3", "11", "%"),  # a number written as a string
                        request("m", {"coding": [{"system": "RxNorm", "code": "36437"}]}),
                        {"resourceType": "Condition", "id": "c", "code": {"coding": [
                            {"system": "http://hl7.org/fhir/sid/icd-10-cm/", "code": "T20.21"}]}})
    document = fhir_json(path, "--strict")
    sources = {m["source"] for f in document["findings"] for m in f["matched"]}
    assert {"Observation/o1", "Observation/o2", "Observation/o3", "MedicationRequest/m"} <= sources
    assert [item["source"] for item in document["not_linked"]] == ["Condition/c"]


def test_a_reference_to_a_medication_not_in_the_input_says_so(tmp_path):
    path = write_bundle(tmp_path, {"resourceType": "MedicationRequest", "id": "m", "status": "active",
                                   "intent": "order", "medicationReference": {"reference": "Medication/abc123"}},
                        request("n", {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0093-7180-56"}]}))
    reasons = {item["input"]: item["reason"] for item in fhir_json(path)["unrecognized"]}
    assert "refers to Medication/abc123, which is not in the input" in reasons["Medication/abc123"]
    assert reasons["NDC 0093-7180-56"].startswith("NDC code 0093-7180-56 with no name in the record")


def test_bulk_medication_referenced_by_absolute_url_is_joined(tmp_path):
    (tmp_path / "Medication.ndjson").write_text(json.dumps(
        {"resourceType": "Medication", "id": "med-9", "code": {"text": "promethazine 25 mg tablet"}}) + "\n")
    (tmp_path / "MedicationRequest.ndjson").write_text(json.dumps(
        {"resourceType": "MedicationRequest", "id": "r", "status": "active", "intent": "order",
         "subject": {"reference": "Patient/q1"},
         "medicationReference": {"reference": "https://fhir.example.org/r4/Medication/med-9"}}) + "\n")
    result, (line,) = batch_lines(tmp_path)
    assert line["id"] == "q1" and "drug.sedating-antihistamine" in ids(line) and not line["unrecognized"]


def test_the_python_api_keys_a_bundle_by_its_patient_as_batch_does(tmp_path):
    screener = rlscheck_api.Screener()
    rows = [dict(_bundle("pb", "urn:uuid:pb"), id="bundle-77"), _bundle("px", "Patient/py")]
    documents = list(screener.assess_many(rows))
    source = tmp_path / "bundles.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    _, lines = batch_lines(source)
    assert [document["id"] for document in documents] == [line["id"] for line in lines] == ["pb", None]
    assert "names 2 different patients (px, py)" in documents[1]["error"]


def test_a_bulk_file_cut_short_is_named_and_refused_never_taken_for_ctrl_c(tmp_path):
    import gzip

    lines = "".join(json.dumps({"resourceType": "MedicationRequest", "id": f"m{i}", "status": "active",
                                "intent": "order", "subject": {"reference": f"Patient/p{i}"},
                                "medicationCodeableConcept": {"text": "Zoloft"}}) + "\n" for i in range(200))
    export = tmp_path / "export"
    export.mkdir()
    (export / "MedicationRequest.ndjson.gz").write_bytes(gzip.compress(lines.encode())[:300])  # a download cut short
    result = rlscheck("batch", export, "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 2 and "MedicationRequest.ndjson.gz' to its end" in result.stderr
    assert "Aborted" not in result.stderr and not (tmp_path / "out.jsonl").exists()


def test_an_ndjson_file_opening_with_a_byte_order_mark_is_read(tmp_path):
    source = tmp_path / "MedicationRequest.ndjson"
    source.write_bytes(b"\xef\xbb\xbf" + json.dumps({"resourceType": "MedicationRequest", "id": "m", "status": "active",
                                                     "intent": "order", "subject": {"reference": "Patient/p"},
                                                     "medicationCodeableConcept": {"text": "Reglan"}}).encode() + b"\r\n")
    result, lines = batch_lines(source)
    assert result.exit_code == 0 and lines[0]["id"] == "p"
    assert ids(lines[0]) == {"drug.dopamine-blocking-antiemetic"}


def test_a_bundle_line_giving_a_key_twice_is_refused_as_a_record_is(tmp_path):
    bundle = json.dumps(_bundle("pa", "Patient/pa")).replace('"status": "active"',
                                                              '"status": "stopped", "status": "active"')
    source = tmp_path / "bundles.jsonl"
    source.write_text(bundle + "\n")
    result, lines = batch_lines(source)
    assert result.exit_code == 4 and lines[0]["id"] == "pa" and "'status' given more than once" in lines[0]["error"]


def test_bundle_entries_with_no_resource_or_no_type_are_counted_as_not_read(tmp_path):
    path = tmp_path / "response.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "transaction-response", "entry": [
        {"response": {"status": "201 Created"}}, {"fullUrl": "urn:uuid:1"}, {"resource": {"id": "x"}},
        {"resource": {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                      "medicationCodeableConcept": {"text": "Zoloft"}}}]}))
    document = fhir_json(path)
    assert ids(document) == {"drug.antidepressant"}
    (note,) = [note for note in document["notes"] if note["relation"] == "not-read"]
    assert note["text"].startswith("Not read: 2 entries without a resource, 1 resource without resourceType")
