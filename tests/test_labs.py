"""Lab values: thresholds from the knowledge base, at and around each boundary, in every unit."""

import pytest

from conftest import assess_json, rlscheck


def outcome(*labs, condition=None):
    args = [a for lab in labs for a in ("--lab", lab)]
    if condition:
        args += ["-c", condition]
    document = assess_json(*args)
    finding_ids = {f["id"] for f in document["findings"] if f["kind"] == "lab"}
    if finding_ids:
        return finding_ids.pop()
    if any(n["kind"] == "lab" for n in document["notes"]):
        return "check"
    assert any(n["kind"] == "lab" for n in document["not_linked"])
    return "normal"


@pytest.mark.parametrize("lab,expected", [
    ("ferritin=40", "lab.iron-deficiency"),
    ("ferritin=75", "lab.iron-deficiency"),
    ("ferritin=75.1", "lab.iron-below-target"),
    ("ferritin=100", "lab.iron-below-target"),
    ("ferritin=100.5", "normal"),
    ("ferritin=60 ug/L", "lab.iron-deficiency"),
    ("ferritin=60 µg/L", "lab.iron-deficiency"),
    ("ferritin=60 mcg/L", "lab.iron-deficiency"),
    ("ferritin=300 ng/mL", "normal"),
    ("tsat=19.9%", "lab.iron-deficiency"),
    ("tsat=19.9", "lab.iron-deficiency"),
    ("transferrin saturation=20%", "normal"),
    ("b12=179", "lab.b12-deficiency"),
    ("b12=180", "check"),
    ("vit b12=350 pg/mL", "check"),
    ("b12=351 ng/L", "normal"),
    ("b12=130 pmol/L", "lab.b12-deficiency"),
    ("b12=140 pmol/L", "check"),
    ("magnesium=1.45", "lab.magnesium-low"),
    ("magnesium=1.46 mg/dL", "normal"),
    ("magnesium=0.59 mmol/L", "lab.magnesium-low"),
    ("magnesium=1.1 mEq/L", "lab.magnesium-low"),
    ("egfr=14.9", "lab.kidney-failure"),
    ("egfr=15", "lab.kidney-severe"),
    ("egfr=29.9", "lab.kidney-severe"),
    ("egfr=30 mL/min/1.73 m²", "normal"),
    ("hemoglobin=11.9", "check"),
    ("hb=12", "normal"),
    ("hgb=115 g/L", "check"),
    ("folate=3", "check"),
])
def test_threshold_boundaries(lab, expected):
    assert outcome(lab) == expected


def test_dialysis_thresholds_apply_with_esrd():
    assert outcome("ferritin=150", "tsat=15%", condition="ESRD") == "lab.iron-deficiency-dialysis"
    assert outcome("ferritin=150") == "normal"
    assert outcome("ferritin=200", "tsat=15%", condition="hemodialysis") == "normal"


def test_finding_states_value_threshold_and_source():
    document = assess_json("--lab", "ferritin=40")
    (finding,) = document["findings"]
    (matched,) = finding["matched"]
    assert matched["value"] == 40 and matched["unit"] == "ng/mL"
    assert "75 ng/mL" in matched["threshold"] and "AASM 2024" in matched["threshold"]
    assert "AASM24" in {r["id"] for r in finding["references"]}
    assert "check.iron-studies" not in {c["id"] for c in document["check_next"]}


def test_iron_studies_recommended_when_missing():
    assert "check.iron-studies" in {c["id"] for c in assess_json("-m", "Zoloft")["check_next"]}


@pytest.mark.parametrize("lab,words", [
    ("ferritin=abc", "not a number"),
    ("ferritin=-1", "between"),
    ("ferritin=nan", "not a number"),
    ("ferritin=inf", "not a number"),
    ("ferritin=1e400", "between"),
    ("ferritin=9e9", "between"),
    ("ferritin=40 mg", "unknown unit"),
    ("ferritin=", "name and a value"),
    ("=40", "name and a value"),
    ("ferritin40", "NAME=VALUE"),
    ("cholesterol=5", "unknown lab"),
    ("tsat=150%", "between"),
])
def test_bad_lab_values_are_usage_errors(lab, words):
    result = rlscheck("assess", "--lab", lab, "-f", "json")
    assert result.exit_code == 2
    assert words in result.stderr
    assert result.stdout == ""
