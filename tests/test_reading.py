"""Reading what people type: lists and files of medicines, lab values as labs print them,
lay and clinical condition wording, honest headlines, and `show` agreeing with `assess`."""

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, assess_json, finding_ids, rlscheck

EHR = FIXTURES / "ehr"


def schema():
    return json.loads(resources.files("rlscheck").joinpath("schemas/assess.schema.json").read_text())


def batch_lines(path):
    result = rlscheck("batch", path)
    assert result.exit_code == 0, result.stderr
    return {line["id"]: line for line in map(json.loads, result.stdout.splitlines())}


# -- the shared real-world cases, through `rlscheck batch` ---------------------------------

def test_case_01_sig_text_does_not_hide_the_drug():
    lines = batch_lines(EHR / "01-sig-text-hides-drug.jsonl")
    expected = {"sig-1": "drug.ppi", "sig-2": "drug.antidepressant", "sig-3": "drug.sedating-antihistamine",
                "sig-4": "drug.dopamine-blocking-antiemetic", "sig-5": "drug.calcium-channel-blocker"}
    for record_id, finding in expected.items():
        assert finding_ids(lines[record_id]) == {finding}
        assert lines[record_id]["unrecognized"] == []


def test_case_02_night_words_give_no_antihistamine():
    lines = batch_lines(EHR / "02-night-word-false-antihistamine.jsonl")
    assert lines["night-1"]["findings"] == [] and lines["night-2"]["findings"] == []
    assert {item["resolved"] for item in lines["night-1"]["not_linked"]} == {"atorvastatin"}
    assert {item["resolved"] for item in lines["night-2"]["not_linked"]} == {"metformin"}


def test_case_04_lab_comparators_in_a_batch_record():
    lines = batch_lines(EHR / "04-lab-comparator.jsonl")
    record = lines["lab-1"]
    assert "error" not in record
    assert finding_ids(record) == {"drug.antidepressant", "lab.iron-deficiency"}
    (iron,) = [f for f in record["findings"] if f["id"] == "lab.iron-deficiency"]
    assert iron["matched"][0]["comparator"] == "<"
    assert not any(f["id"].startswith("lab.kidney") for f in record["findings"])


def test_case_14_rxnorm_dose_forms():
    lines = batch_lines(EHR / "14-rxnorm-dose-form-gaps.jsonl")
    assert finding_ids(lines["form-1"]) == {"drug.dopamine-blocking-antiemetic", "drug.sedating-antihistamine"}
    assert "drug.dopamine-blocking-antiemetic" in finding_ids(lines["form-2"])
    assert lines["form-3"]["findings"] == [] and lines["form-3"]["not_linked"][0]["resolved"] == "albuterol"


# -- labs ------------------------------------------------------------------------------------

def lab_outcome(*labs):
    document = assess_json(*[a for lab in labs for a in ("--lab", lab)])
    jsonschema.validate(document, schema())
    return document


@pytest.mark.parametrize("lab,finding", [
    ("egfr=>60", None), ("egfr >= 90", None), ("egfr=<15", "lab.kidney-failure"),
    ("ferritin=<10", "lab.iron-deficiency"), ("ferritin=>300", None), ("ferritin 40", "lab.iron-deficiency"),
    ("ferritin: 40 ug/l", "lab.iron-deficiency"), ("ferritin=8,5", "lab.iron-deficiency"),
    ("ferritin=1,200", None), ("tsat=0.35", None), ("tsat=0.15", "lab.iron-deficiency"),
    ("tsat 15%", "lab.iron-deficiency"),
])
def test_lab_values_as_labs_print_them(lab, finding):
    document = lab_outcome(lab)
    labs = {f["id"] for f in document["findings"] if f["kind"] == "lab"}
    assert labs == ({finding} if finding else set())


def test_a_decimal_comma_a_fraction_and_an_inferred_unit_are_each_noted():
    for lab, words in (("ferritin=8,5", "decimal comma"), ("tsat=0.35", "fraction"), ("haemoglobin=112", "g/l")):
        notes = [n for n in lab_outcome(lab)["notes"] if n.get("relation") == "read-as"]
        assert notes and words in notes[0]["text"], lab


def test_tsat_fraction_is_read_as_a_percentage_not_as_established_low_iron():
    document = lab_outcome("tsat=0.35")
    assert document["findings"] == []
    assert document["not_linked"][0]["resolved"] == "Transferrin saturation 35 % (given as 0.35)"


def test_haemoglobin_in_g_per_litre_without_unit():
    document = lab_outcome("haemoglobin=112")
    assert any("11.2 g/dL" in n["resolved"] for n in document["notes"])


def test_converted_values_have_no_spurious_precision():
    document = lab_outcome("magnesium=0.6 mmol/L")
    (finding,) = document["findings"]
    assert finding["matched"][0]["resolved"] == "Magnesium 0.6 mmol/L (1.46 mg/dL)"


def test_a_bad_lab_value_is_still_a_usage_error():
    assert rlscheck("assess", "--lab", "ferritin=abc").exit_code == 2
    assert rlscheck("assess", "--lab", "ferritin").exit_code == 2


# -- conditions --------------------------------------------------------------------------------

@pytest.mark.parametrize("text,finding", [
    ("low iron", "condition.iron-deficiency"), ("iron deficient", "condition.iron-deficiency"),
    ("on dialysis", "condition.kidney-failure"), ("numb feet from diabetes", "condition.peripheral-neuropathy"),
    ("Iron deficiency anemia due to chronic blood loss (disorder)", "condition.iron-deficiency"),
    ("Pregnancy (finding)", "condition.pregnancy"),
    ("Product containing quetiapine (medicinal product)", "drug.neuroleptic"),
])
def test_lay_and_clinical_condition_wording(text, finding):
    assert finding in finding_ids(assess_json("-c", text))


@pytest.mark.parametrize("text,trimester", [("32 weeks pregnant", 3), ("pregnant at 12 wks", 1),
                                            ("20 weeks gestation", 2), ("36/40 pregnant", 3)])
def test_weeks_of_pregnancy_give_the_trimester(text, trimester):
    (finding,) = assess_json("-c", text)["findings"]
    assert finding["id"] == "condition.pregnancy" and finding["matched"][0]["trimester"] == trimester


@pytest.mark.parametrize("text", ["not pregnant", "no diabetes", "denies alcohol", "non-smoker", "diabetes: negative"])
def test_negation_is_never_matched_as_the_condition(text):
    option = "-s" if any(word in text for word in ("alcohol", "smoker")) else "-c"
    document = assess_json(option, text)
    assert document["findings"] == [] and document["unrecognized"] == []
    assert "absent" in document["not_linked"][0]["text"]


@pytest.mark.parametrize("text, kind, present", [
    ("Pregnant: No", "-c", None), ("pregnant (no)", "-c", None), ("Pregnant? N", "-c", None),
    ("kidney failure - never", "-c", None), ("Tobacco use: Never", "-s", None), ("Smoker? no", "-s", None),
    ("Pregnant: Yes", "-c", "condition.pregnancy"), ("pregnant (y)", "-c", "condition.pregnancy"),
    ("ESRD? yes", "-c", "condition.kidney-failure"), ("Current smoker: yes", "-s", "substance.nicotine"),
])
def test_a_forms_answered_question_is_read_by_its_answer(text, kind, present):
    """Intake forms and EHR questionnaires write the answer after the question: a 'no' is never
    the condition (it once read 'pregnant (no)' as pregnancy), a 'yes' is."""
    document = assess_json(kind, text)
    assert document["unrecognized"] == []
    if present is None:
        assert document["findings"] == [] and "absent" in document["not_linked"][0]["text"]
    else:
        assert finding_ids(document) == {present}


def test_underactive_thyroid_is_hypothyroidism_never_suggested_as_overactive():
    document = assess_json("-c", "underactive thyroid")
    assert document["findings"] == [] and document["not_linked"][0]["resolved"] == "E03.9"
    misspelled = assess_json("-c", "underactiv thyroid")
    for item in misspelled["unrecognized"]:
        assert not any("overactive" in s for s in item["suggestions"])


def test_unstated_anaemia_is_a_low_certainty_finding_that_asks_for_iron_studies():
    document = assess_json("-c", "anaemia")
    (finding,) = document["findings"]
    assert finding["id"] == "condition.anemia" and finding["certainty"] == "weak"
    assert "Primary (idiopathic)" not in document["summary"]
    assert any("ferritin" in check["text"].lower() for check in document["check_next"])


# -- brands --------------------------------------------------------------------------------------

@pytest.mark.parametrize("brand,drug", [("Cipramil", "citalopram"), ("Cipralex", "escitalopram"),
                                         ("Lustral", "sertraline"), ("Seroxat", "paroxetine"),
                                         ("Stemetil", "prochlorperazine"), ("Maxolon", "metoclopramide")])
def test_international_brands_are_their_drugs(brand, drug):
    document = assess_json("-m", brand)
    assert document["unrecognized"] == []
    assert any(m["resolved"] == drug for f in document["findings"] for m in f["matched"])


def test_kalms_is_a_herbal_product_never_suggested_as_alprazolam():
    document = assess_json("-m", "Kalms")
    assert document["findings"] == [] and document["unrecognized"] == []
    assert "valerian" in document["not_linked"][0]["text"].lower()


def test_no_close_suggestion_is_said():
    (item,) = assess_json("-m", "qwxyzzq")["unrecognized"]
    assert item["suggestions"] == [] and item["reason"]


# -- the headline, --strict, input forms -----------------------------------------------------------

def test_an_unrecognized_input_makes_the_check_incomplete():
    document = assess_json("-m", "metformin", "-m", "flurbozine")
    assert "incomplete" in document["summary"] and "'flurbozine'" in document["summary"]
    assert "Nothing you entered is a known secondary cause" not in document["summary"]


def test_strict_fails_on_a_partly_unrecognized_input():
    result = rlscheck("assess", "-m", "sertraline 50 mg plus zorblax", "--strict")
    assert result.exit_code == 2 and "zorblax" in result.stderr


def test_assess_with_no_input_is_a_usage_error():
    result = rlscheck("assess")
    assert result.exit_code == 2 and "nothing to assess" in result.stderr


def test_med_option_takes_a_comma_or_semicolon_list():
    document = assess_json("-m", "Zoloft, metformin; Benadryl")
    inputs = [m["input"] for f in document["findings"] for m in f["matched"]] + [
        item["input"] for item in document["not_linked"]]
    assert {"Zoloft", "metformin", "Benadryl"} <= set(inputs)


def test_directions_after_a_comma_stay_with_their_medicine():
    document = assess_json("-m", "sertraline 50 mg, 1 tablet daily")
    assert finding_ids(document) == {"drug.antidepressant"} and document["unrecognized"] == []


def test_meds_file_reads_one_medication_a_line(tmp_path):
    path = Path(tmp_path) / "meds.txt"
    path.write_text("# from the pharmacy label\nZoloft 50 mg q.d.\n\nmetformin 500mg bd\nTylenol #3\n")
    result = rlscheck("assess", "--meds-file", path, "--format", "json")
    document = result.json()
    assert result.exit_code == 0
    assert finding_ids(document) == {"drug.antidepressant"}
    seen = [m["input"] for f in document["findings"] for m in f["matched"]] + [
        n["input"] for n in document["notes"] + document["not_linked"]]
    assert {"Zoloft 50 mg q.d.", "metformin 500mg bd", "Tylenol #3"} <= set(seen)


def test_meds_file_from_stdin():
    result = rlscheck("assess", "--meds-file", "-", "--format", "json", input="Benadryl 25 mg at bedtime\n")
    assert finding_ids(result.json()) == {"drug.sedating-antihistamine"}


def test_meds_file_missing_is_a_usage_error(tmp_path):
    assert rlscheck("assess", "--meds-file", Path(tmp_path) / "none.txt").exit_code == 2


# -- show uses the same resolver as assess -------------------------------------------------------

@pytest.mark.parametrize("term", ["metformin", "Lipitor", "I50.9", "Cipramil", "Zoloft 50 mg q.d."])
def test_show_knows_what_assess_knows(term):
    result = rlscheck("show", term, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["matches"]


# -- the knowledge-base sections for brands and lay terms ------------------------------------------

def test_a_brand_and_a_lay_term_are_added_with_no_code_change(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("""
brand_names:
  - id: brand.examplbrand
    name: Examplbrand
    drug: drug.sertraline
    countries: [NZ]
    references: [REG-TGA]
lay_terms:
  - id: term.example-iron
    means: condition.iron-deficiency
    aliases: [rusty blood]
""")
    assert rlscheck("kb", "validate", extra).exit_code == 0
    document = rlscheck("assess", "--kb", extra, "-m", "Examplbrand 50mg od", "-c", "rusty blood", "-f", "json").json()
    assert finding_ids(document) == {"drug.antidepressant", "condition.iron-deficiency"}
    (medicine,) = [f for f in document["findings"] if f["id"] == "drug.antidepressant"]
    assert medicine["matched"][0]["via"][0] == "brand of sertraline (NZ)"


@pytest.mark.parametrize("entry,check", [
    ("  - id: brand.x\n    name: Xbrand\n    countries: [GB]\n    references: [REG-EMC]\n", "missing-field"),
    ("  - id: brand.x\n    name: Xbrand\n    drug: drug.sertraline\n    generic: x\n    countries: [GB]\n"
     "    references: [REG-EMC]\n", "rule"),
    ("  - id: brand.x\n    name: Xbrand\n    drug: drug.sertraline\n    countries: [UK1]\n    references: [REG-EMC]\n",
     "enum"),
    ("  - id: brand.x\n    name: Paxil\n    drug: drug.sertraline\n    countries: [GB]\n    references: [REG-EMC]\n",
     "name-collision"),
    ("  - id: brand.x\n    name: Xbrand\n    drug: drug.nosuchdrug\n    countries: [GB]\n    references: [REG-EMC]\n",
     "missing-reference"),
])
def test_a_bad_brand_is_reported_with_its_check(tmp_path, entry, check):
    extra = tmp_path / "extra.yaml"
    extra.write_text("brand_names:\n" + entry)
    result = rlscheck("kb", "validate", extra)
    assert result.exit_code == 3 and f"({check})" in result.stdout


def test_a_lay_term_needs_what_it_means(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("lay_terms:\n  - id: term.x\n    aliases: [something vague]\n")
    result = rlscheck("kb", "validate", extra)
    assert result.exit_code == 3 and "(missing-field)" in result.stdout


def test_every_shipped_brand_names_a_drug_that_exists(kb):
    brands = [entry for entry in kb.entries.values() if entry["kind"] == "brand"]
    assert len(brands) > 100
    for brand in brands:
        for drug in [brand.get("drug")] + brand.get("ingredients", []):
            assert drug is None or kb.get(drug)["kind"] == "drug"
        assert brand["references"] and brand["countries"]


@pytest.mark.parametrize("lab,finding", [
    ("Ferritin 12 ng/ml (L)", "lab.iron-deficiency"), ("ferritin: 12 L", "lab.iron-deficiency"),
    ("TSAT 12 % L", "lab.iron-deficiency"), ("ferritin 8 (ref 30-400)", "lab.iron-deficiency"),
    ("Ferritin (ng/mL): 40", "lab.iron-deficiency"), ("TSAT %: 15", "lab.iron-deficiency"),
    ("b12 400 pg/mL H", None),
])
def test_lab_report_flags_ranges_and_units_in_the_name(lab, finding):
    document = lab_outcome(lab)
    assert {f["id"] for f in document["findings"]} == ({finding} if finding else set())


def test_the_line_parser_loads_only_for_lines_that_need_it():
    import subprocess
    import sys
    import tempfile

    def modules(*args):
        completed = subprocess.run([sys.executable, "-X", "importtime", "-m", "rlscheck", *args],
                                   capture_output=True, text=True, cwd=tempfile.gettempdir())
        assert completed.returncode == 0
        return {line.rsplit("|", 1)[1].strip() for line in completed.stderr.splitlines() if "|" in line}

    modules("assess", "-m", "paroxetine", "-f", "json")  # warm the knowledge-base cache
    plain = modules("assess", "-m", "paroxetine", "-m", "Cipramil", "-c", "pregnant", "-f", "json")
    assert "rlscheck.resolve.medline" not in plain and "yaml" not in plain and "rich" not in plain
    line = modules("assess", "-m", "Zoloft 50 mg q.d.", "-f", "json")
    assert "rlscheck.resolve.medline" in line and "rich" not in line


def test_a_result_that_needs_follow_up_never_gets_the_primary_rls_reassurance():
    document = assess_json("--lab", "hb=10")
    assert document["findings"] == [] and "Primary (idiopathic)" not in document["summary"]
    assert "follow-up" in document["summary"]
    assert any(note.get("relation") == "check" for note in document["notes"])


@pytest.mark.parametrize("line", ["gabapentin 300 mg TID", "Compazine 10mg q6h prn", "sertraline 50 mg 1 po q am x 30 days",
                                  "quetiapine 25 mg q hs", "Neurontin 300mg caps"])
def test_directions_are_always_said_and_never_leave_the_check_incomplete(line):
    document = assess_json("-m", line)
    assert any(note.get("relation") == "read-as" and "set aside" in note["text"] for note in document["notes"]), line
    assert "incomplete" not in document["summary"] and not document["unrecognized"], line


def test_a_schedule_written_with_a_slash_is_a_schedule():
    document = assess_json("-c", "haemodialysis 3x/week")
    assert "incomplete" not in document["summary"] and document["findings"]


def test_every_drug_a_line_names_is_accounted_for():
    """Drugs named one by one on a line each appear; one product's unlinked ingredients do not."""
    listed = assess_json("-m", "Zoloft/acetaminophen")
    assert [item["resolved"] for item in listed["not_linked"]] == ["acetaminophen"]
    assert "could not be checked" in listed["summary"]
    product = assess_json("-m", "Tylenol PM")
    assert finding_ids(product) and not product["not_linked"]
