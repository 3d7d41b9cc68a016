"""Lab results as labs also write them: a value given as a bound ('<300', '>50'), a transferrin
saturation as a fraction, a test named with its specimen ('FERRITIN, SERUM'), and results
that cannot be used under --strict; each through --lab and through FHIR Observations."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import assess_json, rlscheck
from test_ehr import SCHEMA, fhir_json, ids, write_bundle

import jsonschema

PRIMARY = "Primary (idiopathic) RLS"
NOTHING = "Nothing to assess"


def observation(rid, text, value=None, loinc=None, status="final", **more):
    code = {"text": text}
    if loinc:
        code["coding"] = [{"system": "http://loinc.org", "code": loinc}]
    resource = {"resourceType": "Observation", "id": rid, "status": status, "code": code, **more}
    if value is not None:
        resource["valueQuantity"] = value
    return resource


def undecided(document):
    """The 'nothing concluded' notes of a document, after checking it says nothing is normal."""
    jsonschema.validate(document, SCHEMA)
    assert not [f for f in document["findings"] if f["kind"] == "lab"]
    assert not [item for item in document["not_linked"] if item["kind"] == "lab"], document["not_linked"]
    assert PRIMARY not in document["summary"] and NOTHING not in document["summary"]
    assert "check.lab-exact-value" in {check["id"] for check in document["check_next"]}
    return [n for n in document["notes"] if n["kind"] == "lab" and n.get("relation") == "check"
            and n["text"].startswith("Nothing concluded from this value: ") and "only known to be" in n["text"]]


# -- a bound that leaves the value on both sides of a threshold concludes nothing ------------


@pytest.mark.parametrize("lab,words", [
    ("ferritin=>50", "above 50 ng/mL, and the rule that applies is at or below 75"),
    ("ferritin=<300", "below 300 ng/mL"),
    ("ferritin=<80", "below 80 ng/mL"),  # low stores or only below the target: not known which
    ("ferritin=<=100", "at most 100 ng/mL"),
    ("ferritin >= 60", "at least 60 ng/mL"),
    ("egfr=<60", "below 60 mL/min/1.73m2, and the rule that applies is below 15"),
    ("egfr=>10", "above 10 mL/min/1.73m2"),
    ("egfr=>20", "above 20 mL/min/1.73m2, and the rule that applies is 15-29"),
    ("tsat=<40%", "below 40%, and the rule that applies is below 20%"),
    ("tsat=>10%", "above 10%"),
    ("b12=>200 pg/mL", "above 200 pg/mL, and the rule that applies is 180-350"),
    ("magnesium=<2", "below 2 mg/dL"),
    ("hb=<13", "below 13 g/dL"),
])
def test_a_bound_on_both_sides_of_a_threshold_is_never_graded_normal(lab, words):
    document = assess_json("--lab", lab)
    (note,) = undecided(document)
    assert words in note["text"]
    assert document["summary"].startswith("No known secondary cause was found, but a result you gave needs a "
                                          "follow-up")


@pytest.mark.parametrize("lab,expected", [
    ("ferritin=<10", "lab.iron-deficiency"),
    ("ferritin=<=75", "lab.iron-deficiency"),
    ("egfr=<15", "lab.kidney-failure"),
    ("tsat=<20%", "lab.iron-deficiency"),
    ("b12=<100", "lab.b12-deficiency"),
])
def test_a_bound_below_a_threshold_meets_the_rule(lab, expected):
    assert expected in ids(assess_json("--lab", lab))


@pytest.mark.parametrize("lab", ["ferritin=>300", "ferritin=>100", "egfr=>60", "egfr=>=30", "tsat=>=20%",
                                 "b12=>350", "magnesium=>2"])
def test_a_bound_above_every_threshold_is_not_linked(lab):
    document = assess_json("--lab", lab)
    assert not document["findings"]
    (item,) = [item for item in document["not_linked"] if item["kind"] == "lab"]
    assert item["text"] == "Within the range not linked to RLS." and item["covered"] is True
    assert not [n for n in document["notes"] if n.get("relation") == "check"]


def test_a_bound_decides_the_dialysis_rule_when_it_can():
    document = assess_json("--lab", "ferritin=>300", "--lab", "tsat=15%", "-c", "ESRD")
    assert "lab.iron-deficiency-dialysis" not in ids(document)
    assert any(item["input"] == "ferritin=>300" and item["text"].startswith("Nothing concluded")
               for item in document["not_linked"])
    document = assess_json("--lab", "ferritin=<150", "--lab", "tsat=15%", "-c", "ESRD")
    assert "lab.iron-deficiency-dialysis" in ids(document)
    assert undecided(assess_json("--lab", "ferritin=<300", "--lab", "tsat=15%", "-c", "ESRD"))


def test_the_other_lab_a_rule_needs_given_as_a_bound():
    notes = {note["input"]: note["text"] for note in undecided(assess_json("--lab", "ferritin=50",
                                                                           "--lab", "tsat=<50%"))}
    assert "transferrin saturation given is only known to be below 50%" in notes["ferritin=50"]
    assert "it is only known to be below 50%" in notes["tsat=<50%"]
    assert "lab.iron-deficiency" in ids(assess_json("--lab", "ferritin=50", "--lab", "tsat=<40%"))
    document = assess_json("--lab", "ferritin=50", "--lab", "tsat=>50%")
    assert not document["findings"]
    (item,) = [item for item in document["not_linked"] if item["input"] == "ferritin=50"]
    assert "transferrin saturation given is >50 %" in item["text"]


@pytest.mark.parametrize("quantity,words", [
    ({"value": 300, "comparator": "<", "unit": "ng/mL"}, "below 300 ng/mL"),
    ({"value": 50, "comparator": ">", "unit": "ng/mL", "system": "http://unitsofmeasure.org", "code": "ng/mL"},
     "above 50 ng/mL"),
    ({"value": 50, "comparator": ">=", "unit": "ug/L"}, "at least 50 ng/mL"),
])
def test_fhir_comparators_on_both_sides_conclude_nothing(tmp_path, quantity, words):
    path = write_bundle(tmp_path, observation("f", "Ferritin", quantity, loinc="2276-4"))
    (note,) = undecided(fhir_json(path))
    assert words in note["text"] and note["source"] == "Observation/f"


def test_fhir_bounds_that_settle_the_rule_still_work(tmp_path):
    path = write_bundle(tmp_path,
                        observation("f", "Ferritin", {"value": 10, "comparator": "<", "unit": "ng/mL"}, loinc="2276-4"),
                        observation("e", "eGFR", None, loinc="33914-3", valueString=">60"))
    document = fhir_json(path)
    assert "lab.iron-deficiency" in ids(document)
    assert [item["text"] for item in document["not_linked"] if item["kind"] == "lab"] == \
        ["Within the range not linked to RLS."]
    egfr_bound = write_bundle(tmp_path, observation("e", "eGFR", None, loinc="33914-3", valueString="<60"),
                              name="egfr.json")
    assert undecided(fhir_json(egfr_bound))


_COMPARATOR = st.sampled_from(["<", "<=", ">", ">="])


@settings(max_examples=150, deadline=None)
@given(comparator=_COMPARATOR, value=st.floats(min_value=0.5, max_value=400, allow_nan=False))
def test_a_bound_is_graded_only_as_every_value_it_allows_would_be(kb, comparator, value):
    """Property: a met or not-linked bound agrees with every plain value it allows."""
    from rlscheck.resolve.labs import parse_lab
    from rlscheck.rules.labs import grade

    lab = kb.get("lab.ferritin")
    bounded = parse_lab(kb, f"ferritin={comparator}{value}")
    rule, outcome = grade(lab, bounded, set())
    step = 0.01
    if comparator.startswith("<"):
        allowed = [max(0.0, value - d) for d in (step, 1, 10, value)] + ([value] if comparator == "<=" else [])
    else:
        allowed = [value + d for d in (step, 1, 10, 1000)] + ([value] if comparator == ">=" else [])
    graded = {grade(lab, parse_lab(kb, f"ferritin={v!r}"), set())[0] is not None for v in allowed}
    chosen = {id(grade(lab, parse_lab(kb, f"ferritin={v!r}"), set())[0]) for v in allowed}
    if outcome == "met":
        assert chosen == {id(rule)}
    elif outcome is None:
        assert graded == {False}
    else:
        assert outcome == "undecided"


# -- a transferrin saturation below 1% is a fraction with a % sign ---------------------------


@pytest.mark.parametrize("lab", ["tsat=0.35%", "tsat=0.15 %", "transferrin saturation: 0.5 percent"])
def test_a_saturation_below_one_percent_is_refused_as_implausible(lab):
    result = rlscheck("assess", "--lab", lab)
    assert result.exit_code == 2
    assert "must be between 1 and 100 %" in result.stderr and "looks like a fraction" in result.stderr


def test_a_saturation_as_a_fraction_is_read_in_ucum_unit_one_and_without_unit():
    assert "lab.iron-deficiency" in ids(assess_json("--lab", "tsat=0.12 1"))
    assert "lab.iron-deficiency" in ids(assess_json("--lab", "tsat=0.12"))
    assert not ids(assess_json("--lab", "tsat=0.35 1"))
    (note,) = undecided(assess_json("--lab", "tsat=<0.3 1"))
    assert note["resolved"] == "Transferrin saturation <30 % (given as <0.3)"
    assert rlscheck("assess", "--lab", "tsat=35 1").exit_code == 2  # 3500%


def test_fhir_saturations_below_one_percent_are_skipped_and_unit_one_is_read(tmp_path):
    path = write_bundle(tmp_path, observation("t", "Transferrin saturation", {"value": 0.15, "unit": "%"},
                                              loinc="2502-3"))
    document = fhir_json(path)
    assert not document["findings"]
    (note,) = [n for n in document["notes"] if n.get("relation") == "skipped"]
    assert "must be between 1 and 100 %" in note["text"] and "fraction" in note["text"]
    assert "incomplete" in document["summary"] and PRIMARY not in document["summary"]
    path = write_bundle(tmp_path, observation("t", "TSAT", {"value": 0.12, "unit": "1",
                                                            "system": "http://unitsofmeasure.org", "code": "1"},
                                              loinc="2502-3"), name="fraction.json")
    document = fhir_json(path)
    assert "lab.iron-deficiency" in ids(document)
    assert document["findings"][0]["matched"][0]["value"] == pytest.approx(12)


# -- a test named with its specimen or a qualifier is that lab ------------------------------


NAMES = [("FERRITIN, SERUM", 20, "ng/mL", "lab.iron-deficiency"),
         ("Ferritin, serum", 20, "ng/mL", "lab.iron-deficiency"),
         ("Ferritin level", 20, "ng/mL", "lab.iron-deficiency"),
         ("Serum ferritin level", 20, "ng/mL", "lab.iron-deficiency"),
         ("Ferritin (plasma) conc.", 20, "ng/mL", "lab.iron-deficiency"),
         ("B12 level", 120, "pg/mL", "lab.b12-deficiency"),
         ("Vitamin B12, serum", 120, "pg/mL", "lab.b12-deficiency"),
         ("Hemoglobin, blood", 10, "g/dL", "check"),
         ("Haemoglobin - whole blood", 10, "g/dL", "check"),
         ("eGFR result", 10, "mL/min/1.73m2", "lab.kidney-failure"),
         ("P-Magnesium value", 1.2, "mg/dL", "lab.magnesium-low"),
         ("TSAT, serum", 12, "%", "lab.iron-deficiency")]


def _graded(document, expected):
    if expected == "check":
        return any(n["kind"] == "lab" and n.get("relation") == "check" for n in document["notes"])
    return expected in ids(document)


@pytest.mark.parametrize("name,value,unit,expected", NAMES)
def test_fhir_observations_named_only_in_text_as_labs_write_them(tmp_path, name, value, unit, expected):
    path = write_bundle(tmp_path, observation("x", name, {"value": value, "unit": unit}))
    document = fhir_json(path)
    assert _graded(document, expected), document
    assert not [n for n in document["notes"] if n.get("relation") == "not-covered"]
    assert NOTHING not in document["summary"]


@pytest.mark.parametrize("name,value,unit,expected", NAMES)
def test_lab_option_names_as_labs_write_them(name, value, unit, expected):
    assert _graded(assess_json("--lab", f"{name}={value} {unit}"), expected)


@pytest.mark.parametrize("name", ["Iron, serum", "Folate, RBC", "Ferritin, urine", "Magnesium, RBC", "Blood"])
def test_other_tests_and_specimens_are_not_read_as_a_lab(tmp_path, name):
    path = write_bundle(tmp_path, observation("x", name, {"value": 5, "unit": "ng/mL"}))
    document = fhir_json(path)
    assert not document["findings"] and not [n for n in document["not_linked"] if n["kind"] == "lab"]
    (note,) = [n for n in document["notes"] if n.get("relation") == "not-covered"]
    assert name in note["text"]
    # the record holds a lab result, of a test with no rule: never "no lab result", never reassurance
    assert NOTHING not in document["summary"] and PRIMARY not in document["summary"]
    assert "no rule for" in document["summary"]
    result = rlscheck("assess", "--lab", f"{name}=5")
    assert result.exit_code == 2 and "unknown lab" in result.stderr


# -- --strict: a lab result that cannot be used is an error ---------------------------------


def test_strict_exits_2_when_a_lab_result_could_not_be_used(tmp_path):
    path = write_bundle(tmp_path, observation("f", "Ferritin", {"value": 11, "unit": "mmol/L"}, loinc="2276-4"),
                        observation("t", "TSAT", {"value": 0.15, "unit": "%"}, loinc="2502-3"))
    assert rlscheck("assess", "--fhir", path, "--format", "json").exit_code == 0
    result = rlscheck("assess", "--fhir", path, "--strict", "--format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "could not be used" in result.stderr
    assert "Ferritin" in result.stderr and "Transferrin saturation" in result.stderr
    good = write_bundle(tmp_path, observation("f", "Ferritin", {"value": 11, "unit": "ng/mL"}, loinc="2276-4"),
                        name="good.json")
    assert rlscheck("assess", "--fhir", good, "--strict", "--format", "json").exit_code == 0
    # a lab given on the command line that cannot be read is already a usage error
    assert rlscheck("assess", "--lab", "ferritin=11 mmol/L", "--strict").exit_code == 2
    assert json.loads(rlscheck("assess", "--lab", "ferritin=<300", "--strict", "--format", "json").stdout)
