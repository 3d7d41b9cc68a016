"""What EHRs export: the real failing cases (tests/fixtures/ehr, expected results in EXPECTED.md
there), lab Observations, RxNorm codes, statuses, Bulk Data exports and CSV for spreadsheets."""

import csv
import io
import json
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, rlscheck, rlscheck_process

sys.path.insert(0, str(Path(__file__).parent))
import fhirgen  # noqa: E402

EHR = FIXTURES / "ehr"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NOTHING_FOUND = "Nothing you entered is a known secondary cause"


def fhir_json(path, *extra):
    result = rlscheck("assess", "--fhir", path, "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    jsonschema.validate(document, SCHEMA)
    return document


SCHEMA = json.loads((Path(__file__).parent.parent / "rlscheck" / "schemas" / "assess.schema.json").read_text())


def ids(document):
    return {finding["id"] for finding in document["findings"]}


def write_bundle(tmp_path, *resources, name="bundle.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"resource": resource} for resource in resources]}))
    return path


def request(rid, concept, status="active", **more):
    return {"resourceType": "MedicationRequest", "id": rid, "status": status, "intent": "order",
            "medicationCodeableConcept": concept, **more}


# -- the shared cases, each against EXPECTED.md -------------------------------------------


def test_03_codes_without_display_are_named_from_text_and_reference_display():
    document = fhir_json(EHR / "03-epic-medication-code-without-display.json")
    assert ids(document) == {"drug.antidepressant", "drug.dopamine-blocking-antiemetic"}
    assert not document["unrecognized"]
    inputs = {m["input"] for f in document["findings"] for m in f["matched"]}
    assert "100899" not in inputs and "311666" not in inputs


def test_08_ndjson_bulk_export_is_read_one_resource_a_line():
    path = EHR / "08-ndjson-bulk-export.ndjson"
    document = fhir_json(path)
    assert ids(document) == {"drug.sedating-antihistamine", "condition.kidney-failure"}
    result = rlscheck("batch", path)
    assert result.exit_code == 0, result.stderr
    (line,) = [json.loads(text) for text in result.stdout.splitlines()]
    assert line["id"] == "example-patient-1"
    assert ids(line) == {"drug.sedating-antihistamine", "condition.kidney-failure"}


def test_09_outcome_only_search_is_never_nothing_found():
    path = EHR / "09-outcome-only-searchset.json"
    document = fhir_json(path)
    assert NOTHING_FOUND not in document["summary"]
    texts = " ".join(note["text"] for note in document["notes"])
    assert "User not authorized for request." in texts
    table = rlscheck("assess", "--fhir", path)
    assert table.exit_code == 0 and NOTHING_FOUND not in table.stdout
    assert "not authorized" in table.stdout
    strict = rlscheck("assess", "--fhir", path, "--strict")
    assert strict.exit_code == 2
    assert "not authorized" in strict.stderr


def test_empty_search_and_empty_ndjson_are_not_nothing_found(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"resourceType": "Bundle", "type": "searchset", "total": 0}))
    document = fhir_json(empty)
    assert NOTHING_FOUND not in document["summary"] and "nothing to assess" in document["summary"]
    assert rlscheck("assess", "--fhir", empty, "--strict").exit_code == 2
    patients_only = tmp_path / "patients.ndjson"
    patients_only.write_text('{"resourceType":"Patient","id":"a"}\n{"resourceType":"Encounter","id":"e"}\n')
    document = fhir_json(patients_only)
    assert NOTHING_FOUND not in document["summary"]
    assert any("1 Encounter" in note["text"] for note in document["notes"])


def test_10_ten_thousand_stopped_requests_are_one_grouped_note_and_fast():
    path = EHR / "10-many-stopped-requests.json"
    started = time.perf_counter()
    document = fhir_json(path)
    assert time.perf_counter() - started < 10  # about a second here; generous for a busy machine
    (note,) = [n for n in document["notes"] if n.get("relation") == "skipped"]
    assert note["input"] == "sertraline 50 MG Oral Tablet"
    assert note["text"].startswith("10000 stopped orders")
    assert "and 9997 more" in note["source"]
    table = rlscheck("assess", "--fhir", path)
    assert len(table.stdout.splitlines()) < 80


def test_11_valid_icd10_code_without_link_is_not_linked_and_strict_passes():
    path = EHR / "11-icd10-coded-unlinked-is-unrecognized.json"
    document = fhir_json(path, "--strict")
    assert not document["unrecognized"]
    (item,) = document["not_linked"]
    assert item["resolved"] == "T20.21"
    assert "Burn of second degree of ear" in item["text"]


def test_12_dispense_administration_and_observation_are_assessed():
    document = fhir_json(EHR / "12-dispense-administration-observation-ignored.json")
    assert ids(document) == {"drug.dopamine-blocking-antiemetic", "drug.sedating-antihistamine",
                             "lab.iron-deficiency"}
    sources = {m["source"].split(" ")[0] for f in document["findings"] for m in f["matched"]}
    assert sources == {"MedicationDispense/md-1", "MedicationAdministration/ma-1", "Observation/obs-1"}
    (iron,) = [f for f in document["findings"] if f["id"] == "lab.iron-deficiency"]
    assert iron["matched"][0]["input"].startswith("Ferritin <10 ng/mL")


def test_15_draft_order_is_assessed_as_proposed_without_a_withdrawal_hint():
    document = fhir_json(EHR / "15-draft-order-skipped.json")
    assert ids(document) == {"drug.dopamine-blocking-antiemetic"}
    assert "draft" in document["findings"][0]["matched"][0]["source"]
    text = json.dumps(document)
    assert "draft order" in text and "--withdrawal" not in text


def test_every_shared_case_file_is_tested():
    tested = {"03", "08", "09", "10", "11", "12", "15"} | {"01", "02", "04", "14"}  # these in test_reading.py
    assert {p.name[:2] for p in EHR.iterdir() if p.name[:2].isdigit()} == tested


# -- lab Observations ----------------------------------------------------------------------


def observation(rid, loinc, status="final", date=None, **value):
    resource = {"resourceType": "Observation", "id": rid, "status": status,
                "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]}, **value}
    if date:
        resource["effectiveDateTime"] = date
    return resource


def test_most_recent_final_lab_wins_and_its_date_is_shown(tmp_path):
    path = write_bundle(
        tmp_path,
        observation("old", "2276-4", date="2020-01-01", valueQuantity={"value": 20, "unit": "ng/mL"}),
        observation("new", "2276-4", date="2024-05-02", valueQuantity={"value": 150, "unit": "ug/L",
                                                                      "system": "http://unitsofmeasure.org",
                                                                      "code": "ug/L"}),
        observation("prelim", "2276-4", status="preliminary", date="2025-01-01", valueQuantity={"value": 5}),
        observation("egfr", "62238-1", date="2024-05-02", valueString=">60"),
        observation("egfr-low", "33914-3", date="2023-01-01",
                    valueQuantity={"value": 10, "unit": "mL/min/{1.73_m2}"}),
    )
    document = fhir_json(path)
    assert "lab.iron-deficiency" not in ids(document)  # 150 is the latest; 20 was in 2020
    assert not {"lab.kidney-failure", "lab.kidney-severe"} & ids(document)  # '>60' from 2024 wins over 10
    texts = [note["text"] for note in document["notes"]]
    assert any("older result not used" in t and "2024-05-02" in t for t in texts)
    assert any("preliminary" in t for t in texts)


def test_observation_comparator_and_string_values(tmp_path):
    path = write_bundle(
        tmp_path,
        observation("f", "2276-4", valueString="<10 ng/mL", date="2024-01-01"),
        observation("t", "2502-3", valueQuantity={"value": 12, "unit": "%"}),
        observation("g", "98979-8", valueQuantity={"comparator": "<", "value": 15,
                                                   "system": "http://unitsofmeasure.org", "code": "mL/min/{1.73_m2}"}),
    )
    document = fhir_json(path)
    assert {"lab.iron-deficiency", "lab.kidney-failure"} <= ids(document)
    matched = [m for f in document["findings"] for m in f["matched"] if m.get("source") == "Observation/f"]
    assert matched and matched[0]["input"] == "Ferritin <10 ng/mL on 2024-01-01"


def test_observation_of_a_test_without_rule_is_counted_not_dropped(tmp_path):
    glucose = {"resourceType": "Observation", "id": "glu", "status": "final",
               "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
               "valueQuantity": {"value": 90, "unit": "mg/dL"}}
    document = fhir_json(write_bundle(tmp_path, glucose, request("m", {"text": "metformin"})))
    assert any("Glucose" in note["text"] and note["relation"] == "not-covered" for note in document["notes"])


def test_every_loinc_code_belongs_to_one_lab(kb):
    codes = [code for lab_id in kb.entries if kb.get(lab_id)["kind"] == "lab"
             for code in kb.get(lab_id).get("loinc", [])]
    assert len(codes) == len(set(codes))
    assert {"2276-4", "2502-3", "718-7", "2132-9", "2284-8", "19123-9", "2601-3", "33914-3", "62238-1",
            "98979-8"} <= set(codes)


# -- names and RxNorm codes ----------------------------------------------------------------


def test_bare_rxcui_of_a_knowledge_base_drug_is_recognised(tmp_path):
    path = write_bundle(tmp_path, request("r", {"coding": [{"system": RXNORM, "code": "36437"}]}))
    document = fhir_json(path)
    assert ids(document) == {"drug.antidepressant"}
    matched = document["findings"][0]["matched"][0]
    assert (matched["input"], matched["resolved"]) == ("RxNorm 36437", "sertraline")  # the record's code, mapped


def test_unmappable_rxcui_is_reported_as_such_not_as_a_misspelling(tmp_path):
    path = write_bundle(tmp_path, request("r", {"coding": [{"system": RXNORM, "code": "312938"}]}))
    (item,) = fhir_json(path)["unrecognized"]
    assert item["input"] == "RxNorm 312938"
    assert item["reason"] == "RxNorm 312938: not in rlscheck's tables"
    assert item["suggestions"] == []


def test_vocab_load_rxnorm_maps_clinical_and_branded_drugs_to_ingredients(tmp_path):
    coded = [request(f"r{code}", {"coding": [{"system": RXNORM, "code": code}]})
             for code in ("9000041", "9000022", "9000023")]
    path = write_bundle(tmp_path, *coded)
    before = fhir_json(path)
    assert not before["findings"] and len(before["unrecognized"]) == 3
    result = rlscheck("vocab", "load-rxnorm", FIXTURES / "rxnorm")
    assert result.exit_code == 0, result.stderr
    assert "drugs mapped" in result.stderr
    after = fhir_json(path)
    by_source = {m["source"]: f["id"] for f in after["findings"] for m in f["matched"]}
    assert by_source == {"MedicationRequest/r9000041": "drug.dopamine-blocking-antiemetic",
                         "MedicationRequest/r9000022": "drug.sedating-antihistamine"}
    # acetaminophen alone shares a component with the combination, but not its diphenhydramine
    assert any(i["source"] == "MedicationRequest/r9000023" for i in after["not_linked"])


def test_vocab_load_rxnorm_refuses_a_folder_without_rrf(tmp_path):
    result = rlscheck("vocab", "load-rxnorm", tmp_path)
    assert result.exit_code == 2 and "RXNCONSO.RRF" in result.stderr


def write_release(directory, concepts, relations):
    """An RxNorm release in RRF: concepts (RxCUI, TTY, name) in RXNCONSO.RRF (18 fields a line),
    relations (RxCUI1, RELA, RxCUI2) in RXNREL.RRF (16)."""
    directory.mkdir(exist_ok=True)
    (directory / "RXNCONSO.RRF").write_text("".join(
        f"{rxcui}|ENG||||||A{n}|A{n}|{rxcui}||RXNORM|{tty}|{rxcui}|{name}||N|4096|\n"
        for n, (rxcui, tty, name) in enumerate(concepts)))
    (directory / "RXNREL.RRF").write_text("".join(
        f"{first}||CUI|RO|{second}||CUI|{relation}|R{n}||RXNORM||||N||\n"
        for n, (first, relation, second) in enumerate(relations)))
    return directory


# The clinical drugs (SCD), branded drug (SBD) and ingredients (IN) carry their RxNorm codes;
# the components (SCDC) and the brand name (BN) between them are stand-ins (98xxxxx).
RELEASE = ([("6809", "IN", "metformin"), ("36437", "IN", "sertraline"), ("9800001", "SCDC", "metformin 500 MG"),
            ("9800002", "SCDC", "sertraline 50 MG"), ("860975", "SCD", "metformin 500 MG Oral Tablet"),
            ("312941", "SCD", "sertraline 50 MG Oral Tablet"), ("9800003", "BN", "Zoloft"),
            ("208161", "SBD", "Zoloft 50 MG Oral Tablet"), ("9800004", "IN", "zzquatrimab"),
            ("9800005", "SCDC", "zzquatrimab 10 MG"), ("9800006", "SCD", "zzquatrimab 10 MG Injection")],
           [("9800001", "has_ingredient", "6809"), ("860975", "consists_of", "9800001"),
            ("9800002", "has_ingredient", "36437"), ("312941", "consists_of", "9800002"),
            ("208161", "tradename_of", "312941"), ("208161", "has_tradename", "9800003"),
            ("9800003", "tradename_of", "36437"), ("9800005", "has_ingredient", "9800004"),
            ("9800006", "consists_of", "9800005")])


def test_clinical_drug_outside_the_knowledge_base_is_not_covered_never_unrecognized(tmp_path):
    assert rlscheck("vocab", "load-rxnorm", write_release(tmp_path / "rrf", *RELEASE)).exit_code == 0
    coded = [request(f"r{code}", {"coding": [{"system": RXNORM, "code": code}]})
             for code in ("860975", "312941", "208161", "9800006")]
    document = fhir_json(write_bundle(tmp_path, *coded))
    assert not document["unrecognized"]
    assert "incomplete" not in document["summary"]
    by_source = {m["source"]: (m["input"], m["resolved"]) for f in document["findings"] for m in f["matched"]}
    assert by_source == {"MedicationRequest/r312941": ("RxNorm 312941", "sertraline"),
                         "MedicationRequest/r208161": ("RxNorm 208161", "sertraline")}
    assert ids(document) == {"drug.antidepressant"}
    outside = {item["source"]: item for item in document["not_linked"]}
    metformin = outside["MedicationRequest/r860975"]
    assert (metformin["input"], metformin["resolved"], metformin["covered"]) == ("RxNorm 860975", "metformin", False)
    assert metformin["text"] == "metformin: not in rlscheck's knowledge base, so its link to RLS was not checked."
    # an ingredient no vocabulary of rlscheck's knows is still a drug the release names
    other = outside["MedicationRequest/r9800006"]
    assert (other["resolved"], other["covered"]) == ("zzquatrimab", False)
    assert rlscheck("assess", "--fhir", write_bundle(tmp_path, *coded), "--strict").exit_code == 0


def test_clinical_drug_outside_the_knowledge_base_reads_as_its_name_would(tmp_path):
    rlscheck("vocab", "load-rxnorm", write_release(tmp_path / "rrf", *RELEASE))
    coded = fhir_json(write_bundle(tmp_path, request("r", {"coding": [{"system": RXNORM, "code": "860975"}]})))
    named = rlscheck("assess", "-m", "metformin", "--format", "json").json()
    assert coded["summary"] == named["summary"]
    assert [(i["resolved"], i["text"], i["covered"]) for i in coded["not_linked"]] == \
        [(i["resolved"], i["text"], i["covered"]) for i in named["not_linked"]]


def test_combination_from_a_release_names_each_ingredient_outside_the_knowledge_base(tmp_path):
    concepts, relations = RELEASE
    concepts = concepts + [("4815", "IN", "glyburide"), ("9800007", "SCDC", "glyburide 5 MG"),
                           ("861743", "SCD", "glyburide 5 MG / metformin 500 MG Oral Tablet"),
                           ("9800008", "SCD", "metformin 500 MG / sertraline 50 MG Oral Tablet")]
    relations = relations + [("9800007", "has_ingredient", "4815"), ("861743", "consists_of", "9800007"),
                             ("861743", "consists_of", "9800001"), ("9800008", "consists_of", "9800001"),
                             ("9800008", "consists_of", "9800002")]
    rlscheck("vocab", "load-rxnorm", write_release(tmp_path / "rrf", concepts, relations))
    coded = [request(f"r{code}", {"coding": [{"system": RXNORM, "code": code}]}) for code in ("861743", "9800008")]
    document = fhir_json(write_bundle(tmp_path, *coded))
    assert not document["unrecognized"] and ids(document) == {"drug.antidepressant"}
    outside = sorted((i["source"], i["resolved"]) for i in document["not_linked"] if i["covered"] is False)
    assert outside == [("MedicationRequest/r861743", "glyburide"), ("MedicationRequest/r861743", "metformin"),
                       ("MedicationRequest/r9800008", "metformin")]


@pytest.mark.parametrize("damage", ["empty files", "empty RXNREL.RRF", "empty RXNCONSO.RRF", "a column added",
                                    "relations shifted"])
def test_vocab_load_rxnorm_refuses_a_release_that_maps_nothing_and_keeps_the_one_loaded(tmp_path, damage):
    assert rlscheck("vocab", "load-rxnorm", write_release(tmp_path / "good", *RELEASE)).exit_code == 0
    bad = write_release(tmp_path / "bad", *RELEASE)
    conso, rel = bad / "RXNCONSO.RRF", bad / "RXNREL.RRF"
    if damage == "empty files":
        conso.write_text(""), rel.write_text("")
    elif damage == "empty RXNREL.RRF":
        rel.write_text("")
    elif damage == "empty RXNCONSO.RRF":
        conso.write_text("")
    elif damage == "a column added":  # every field one place to the right
        conso.write_text("".join("X|" + line + "\n" for line in conso.read_text().splitlines()))
    else:
        rel.write_text("".join("|" + line + "\n" for line in rel.read_text().splitlines()))
    result = rlscheck("vocab", "load-rxnorm", bad)
    assert result.exit_code == 2
    assert "nothing was loaded" in result.stderr and "RXNCONSO.RRF has" in result.stderr
    assert "should hold 18 '|'-separated fields" in result.stderr and "mapped" not in result.stderr
    # the release loaded before still maps its codes
    coded = fhir_json(write_bundle(tmp_path, request("r", {"coding": [{"system": RXNORM, "code": "312941"}]})))
    assert ids(coded) == {"drug.antidepressant"} and not coded["unrecognized"]


def test_vocab_load_rxnorm_says_what_the_release_held(tmp_path):
    bad = write_release(tmp_path / "rrf", *RELEASE)
    (bad / "RXNREL.RRF").write_text("")
    message = rlscheck("vocab", "load-rxnorm", bad).stderr
    assert "RXNCONSO.RRF has 11 lines naming 11 RxNorm concepts" in message
    assert "RXNREL.RRF has 0 lines, with 0 links" in message


def test_nicotine_replacement_reaches_the_substance_rules(tmp_path):
    path = write_bundle(tmp_path, request("p", {"text": "nicotine 21 MG/24HR Transdermal Patch"}),
                        request("g", {"text": "Nicorette gum"}))
    document = fhir_json(path)
    assert ids(document) == {"substance.nicotine"}
    assert len(document["findings"][0]["matched"]) == 2


# -- statuses ------------------------------------------------------------------------------


def condition(cid, text, clinical="active", verification=None):
    resource = {"resourceType": "Condition", "id": cid, "code": {"text": text}, "clinicalStatus": clinical}
    if not isinstance(clinical, str):
        resource["clinicalStatus"] = clinical
    if verification:
        resource["verificationStatus"] = {"coding": [{"code": verification}]}
    return resource


def test_statuses_stu3_strings_verification_and_ips_no_information(tmp_path):
    path = write_bundle(
        tmp_path,
        condition("stu3", "End stage renal disease", clinical="active"),  # STU3: a plain string
        condition("prov", "Iron deficiency anemia", clinical={"coding": [{"code": "active"}]},
                  verification="provisional"),
        condition("refuted", "Pregnancy", clinical={"coding": [{"code": "active"}]}, verification="refuted"),
        condition("gone", "Peripheral neuropathy", clinical="resolved"),
        {"resourceType": "MedicationStatement", "id": "none", "status": "active",
         "medicationCodeableConcept": {"coding": [{
             "system": "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips",
             "code": "no-medication-info", "display": "No information about medications"}]}},
    )
    document = fhir_json(path, "--strict")
    assert "condition.kidney-failure" in ids(document)
    assert "condition.pregnancy" not in ids(document)
    assert "condition.peripheral-neuropathy" not in ids(document)
    sources = [m["source"] for f in document["findings"] for m in f["matched"]]
    assert any("provisional diagnosis" in s for s in sources)
    notes = {note.get("source"): note for note in document["notes"]}
    assert "not confirmed" in notes["Condition/prov"]["text"]
    assert "refuted" in notes["Condition/refuted"]["text"]
    assert notes["MedicationStatement/none"]["input"] == "No information about medications"
    assert not document["unrecognized"]


def test_unread_resource_types_are_counted(tmp_path):
    path = write_bundle(tmp_path, request("m", {"text": "sertraline"}),
                        {"resourceType": "Encounter", "id": "e1"}, {"resourceType": "Encounter", "id": "e2"},
                        {"resourceType": "AllergyIntolerance", "id": "a"})
    (note,) = [n for n in fhir_json(path)["notes"] if n["relation"] == "not-read"]
    assert "2 Encounter, 1 AllergyIntolerance" in note["text"]


def test_files_naming_different_patients_are_refused(tmp_path):
    one = write_bundle(tmp_path, request("a", {"text": "sertraline"}, subject={"reference": "Patient/1"}),
                       name="one.json")
    two = write_bundle(tmp_path, request("b", {"text": "metformin"}, subject={"reference": "Patient/2"}),
                       name="two.json")
    result = rlscheck("assess", "--fhir", one, "--fhir", two)
    assert result.exit_code == 2
    assert "Patient/1" in result.stderr and "Patient/2" in result.stderr
    same = write_bundle(tmp_path, condition("c", "ESRD"), name="same.json")
    assert rlscheck("assess", "--fhir", one, "--fhir", same).exit_code == 0


@pytest.mark.slow
def test_forty_thousand_resource_bundle_is_linear(tmp_path):
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    fhirgen.bundle(small, 4000)
    fhirgen.bundle(large, 40000)

    def seconds(path):
        started = time.perf_counter()
        result = rlscheck("assess", "--fhir", path, "--format", "json")
        assert result.exit_code == 0
        return time.perf_counter() - started, result.json()

    small_time, _ = seconds(small)
    large_time, document = seconds(large)
    assert large_time < 10 * small_time + 2  # linear: ten times the input, about ten times the time
    assert len(json.dumps(document)) < 200_000  # grouped: no line per record


# -- batch: exports, bundles, CSV ----------------------------------------------------------


def test_bulk_export_folder_gives_one_result_per_patient(tmp_path):
    export = tmp_path / "export"
    fhirgen.bulk_export(export, 30)
    (export / "Organization.ndjson").write_text('{"resourceType":"Organization","id":"o"}\n')
    result = rlscheck("batch", export)
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(text) for text in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == [f"p{n}" for n in range(30)]
    assert "1 Organization" in result.stderr
    files = sorted(str(p) for p in export.glob("*.ndjson"))
    listed = rlscheck("batch", *files)
    assert listed.stdout == result.stdout


def test_bulk_export_spills_to_disk_with_the_same_result(tmp_path):
    from rlscheck.inputs import bulk

    export = tmp_path / "export"
    fhirgen.bulk_export(export, 40)
    paths = bulk.export_files(export)

    def grouped(limit):
        sources = ((p, open(p, "rb")) for p in paths)
        return [(r.record_id, len(r.data[bulk.NDJSON])) for r in bulk.patient_records(sources, lambda _: None, limit)]

    assert grouped(1 << 30) == grouped(1000)  # in memory, and spilled to SQLite


def test_bundles_one_a_line(tmp_path):
    source = tmp_path / "bundles.jsonl"
    bundle = json.loads((EHR / "12-dispense-administration-observation-ignored.json").read_text())
    source.write_text(json.dumps(dict(bundle, id="b1")) + "\n" + json.dumps({"id": "p2", "meds": ["Zoloft"]}) + "\n")
    lines = [json.loads(text) for text in rlscheck("batch", source).stdout.splitlines()]
    # the id of the Patient the Bundle names (as a Bulk Data export gives it), not the Bundle's
    assert lines[0]["id"] == "example-patient-1" and "lab.iron-deficiency" in ids(lines[0])
    assert lines[1]["id"] == "p2" and ids(lines[1]) == {"drug.antidepressant"}


@pytest.mark.parametrize("text", [
    "ID;Meds;Conditions;Ward\nx1;Zoloft;ESRD;4\nx2\n",
    "Id\tMEDS\tconditions\tWard\nx1\tZoloft\tESRD\t4\nx2\n",
])
def test_csv_as_people_export_it(tmp_path, text):
    source = tmp_path / "people.csv"
    source.write_text(text)
    result = rlscheck("batch", source)
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["x1", "x2"]  # the short row keeps its id
    assert ids(lines[0]) == {"drug.antidepressant", "condition.kidney-failure"}
    assert result.stderr.count("ignored: ward") == 1


def test_batch_stdin_recognises_csv():
    result = rlscheck_process("batch", "-", input=b"id,meds\na,Benadryl\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["findings"][0]["id"] == "drug.sedating-antihistamine"


def test_csv_output_one_row_per_patient_and_finding_with_formula_guard(tmp_path):
    source = tmp_path / "people.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in [
        {"id": "=HYPERLINK(\"x\")", "meds": ["Zoloft", "Benadryl"]},
        {"id": "clean", "meds": ["metformin"]},
        {"id": "bad", "meds": 5},
    ]) + "\n")
    result = rlscheck("batch", source, "--output-format", "csv")
    assert result.exit_code == 4
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["id"] for row in rows] == ["'=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")", "clean", "bad"]
    assert {rows[0]["finding_id"], rows[1]["finding_id"]} == {"drug.antidepressant", "drug.sedating-antihistamine"}
    assert rows[2]["finding_id"] == "" and rows[2]["summary"]
    assert rows[3]["error"]
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values())


# -- parsers, property-tested ------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["", "<", "<=", ">", ">="]), st.floats(0, 1e6, allow_nan=False), st.sampled_from(
    ["", "ng/mL", "mL/min/{1.73_m2}", "%"]), st.text(" \t", max_size=3))
def test_observation_value_strings_keep_comparator_number_and_unit(comparator, number, unit, space):
    from rlscheck.inputs.fhirlabs import _value

    written = f"{number:g}"
    found = _value({"valueString": f"{space}{comparator}{space}{written} {unit}"})
    assert found == (comparator, written, unit.replace("{1.73_m2}", "1.73m2"))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["id", "meds", "conditions", "labs", "Ward", "x y"]), min_size=1, max_size=6),
       st.sampled_from([",", ";", "\t"]))
def test_csv_delimiter_is_sniffed_from_the_header(names, delimiter):
    from rlscheck.inputs.batchfiles import sniff_delimiter

    header = delimiter.join(names)
    assert sniff_delimiter(header) == (delimiter if len(names) > 1 else ",")


def test_ips_2_no_information_snomed_code_is_a_note(tmp_path):
    path = write_bundle(tmp_path, {"resourceType": "Condition", "id": "none", "clinicalStatus": "active",
                                   "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1287211007",
                                                        "display": "No information available"}]}})
    document = fhir_json(path, "--strict")
    assert not document["unrecognized"] and not document["not_linked"]
    assert any(n["relation"] == "no-information" for n in document["notes"])


def test_dispenses_long_before_the_latest_record_are_not_taken_now(tmp_path):
    def dispense(did, date, text):
        return {"resourceType": "MedicationDispense", "id": did, "status": "completed", "whenHandedOver": date,
                "medicationCodeableConcept": {"text": text}}

    path = write_bundle(tmp_path, dispense("old", "2015-03-01", "metoclopramide 10 MG Oral Tablet"),
                        dispense("new", "2024-02-01", "sertraline 50 MG Oral Tablet"),
                        observation("f", "2276-4", date="2024-03-01", valueQuantity={"value": 150, "unit": "ng/mL"}))
    document = fhir_json(path)
    assert ids(document) == {"drug.antidepressant"}
    assert document["findings"][0]["matched"][0]["source"] == "MedicationDispense/new (handed over 2024-02-01)"
    (note,) = [n for n in document["notes"] if n.get("relation") == "skipped"]
    assert note["input"] == "metoclopramide 10 MG Oral Tablet" and "2024-03-01" in note["text"]


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
                         ["code", "coding", "text", "display", "system", "status", "valueQuantity", "value",
                          "comparator", "unit", "valueString", "reference", "clinicalStatus", "issue", "entry",
                          "resource", "subject", "medicationReference", "medicationCodeableConcept",
                          "effectiveDateTime", "whenHandedOver", "contained", "id", "intent"]), inner, max_size=4),
                     max_leaves=20)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["MedicationRequest", "MedicationStatement", "MedicationDispense",
                                           "MedicationAdministration", "Condition", "Observation", "Medication",
                                           "OperationOutcome", "Patient", "Encounter", "Bundle"]),
                          st.dictionaries(st.sampled_from(["code", "status", "valueQuantity", "valueString",
                                                           "medicationCodeableConcept", "medicationReference",
                                                           "clinicalStatus", "verificationStatus", "subject",
                                                           "issue", "entry", "effectiveDateTime", "id"]),
                                          _JSON, max_size=5)), min_size=1, max_size=6))
def test_any_shape_of_fhir_is_read_or_refused_never_crashes(kb, resources):
    from rlscheck.inputs import fhir
    from rlscheck.rules.engine import assess
    from rlscheck.errors import UsageError

    document = [dict(body, resourceType=kind) for kind, body in resources]
    try:
        extract = fhir.extract(kb, [(document, "generated")])
    except UsageError:
        return
    result = assess(kb, extract.inputs, extract.labs)
    fhir.annotate(result, extract, False)
    jsonschema.validate(result, SCHEMA)


def test_observation_with_a_local_code_is_read_by_its_exact_lab_name(tmp_path):
    local = {"resourceType": "Observation", "id": "epic", "status": "final",
             "code": {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.2", "code": "1234"}],
                      "text": "Ferritin"},
             "valueQuantity": {"value": 30, "unit": "ng/mL"}}
    vague = dict(local, id="vague", code={"text": "Iron panel"})
    document = fhir_json(write_bundle(tmp_path, local, vague))
    assert ids(document) == {"lab.iron-deficiency"}
    assert any("Iron panel" in note["text"] for note in document["notes"])


def test_spilled_export_leaves_no_temporary_file_when_the_reader_stops_early(tmp_path, monkeypatch):
    import tempfile

    from rlscheck.inputs import bulk

    export, scratch = tmp_path / "export", tmp_path / "scratch"
    scratch.mkdir()
    fhirgen.bulk_export(export, 20)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    records = bulk.patient_records(((p, open(p, "rb")) for p in bulk.export_files(export)), lambda _: None, 1000)
    next(records)
    assert list(scratch.iterdir())  # spilled
    records.close()
    assert not list(scratch.iterdir())


def test_batch_of_one_indented_bundle_says_what_to_do_instead():
    result = rlscheck("batch", EHR / "03-epic-medication-code-without-display.json")
    assert result.exit_code == 2
    assert "assess --fhir" in result.stderr and result.stdout == ""


def test_medication_named_only_by_its_ingredient_references(tmp_path):
    medication = {"resourceType": "Medication", "id": "m1",
                  "code": {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.253", "code": "999"}]},
                  "ingredient": [{"itemReference": {"reference": "Substance/s1", "display": "promethazine"}}]}
    order = {"resourceType": "MedicationRequest", "id": "r1", "status": "active", "intent": "order",
             "medicationReference": {"reference": "Medication/m1"}}
    document = fhir_json(write_bundle(tmp_path, medication, order))
    assert "drug.sedating-antihistamine" in ids(document)
