"""Every common medicine is recognised, RLS link or not; combination products reveal their ingredients."""

import pytest

from conftest import assess_json

COMMON = {
    "metformin": "metformin", "Glucophage": "metformin", "lisinopril": "lisinopril", "Zestril": "lisinopril",
    "atorvastatin": "atorvastatin", "Lipitor": "atorvastatin",
    "levetiracetam": None, "losartan": "losartan", "Cozaar": "losartan", "hydrochlorothiazide": "hydrochlorothiazide",
    "furosemide": "furosemide", "Lasix": "furosemide", "warfarin": "warfarin", "Coumadin": "warfarin",
    "apixaban": "apixaban", "Eliquis": "apixaban", "insulin glargine": None, "Lantus": None,
    "albuterol": None, "Ventolin": None, "prednisone": "prednisone", "allopurinol": "allopurinol",
    "Zyloprim": "allopurinol", "tamsulosin": "tamsulosin", "Flomax": "tamsulosin", "clopidogrel": "clopidogrel",
    "Plavix": "clopidogrel", "rosuvastatin": "rosuvastatin", "Crestor": "rosuvastatin", "montelukast": "montelukast",
    "Singulair": "montelukast", "methotrexate": "methotrexate", "amoxicillin": "amoxicillin",
    "ibuprofen": "ibuprofen", "Advil": "ibuprofen", "acetaminophen": "acetaminophen", "Tylenol": "acetaminophen",
}


@pytest.mark.parametrize("name", sorted(COMMON))
def test_common_non_rls_drugs_are_not_linked_not_unrecognized(name):
    document = assess_json("-m", name)
    assert document["unrecognized"] == [], document["unrecognized"]
    assert document["findings"] == []
    if COMMON[name]:
        resolved = [item["resolved"].lower() for item in document["not_linked"]]
        assert COMMON[name] in resolved, document


@pytest.mark.parametrize("product,ingredient", [
    ("Tylenol PM", "diphenhydramine"), ("Advil PM", "diphenhydramine"), ("Motrin PM", "diphenhydramine"),
    ("Excedrin PM", "diphenhydramine"), ("ZzzQuil", "diphenhydramine"), ("NyQuil", "doxylamine"),
    ("Unisom", "doxylamine"), ("Aleve PM", "diphenhydramine"), ("Dramamine", "dimenhydrinate"),
    ("NyQuil Cold and Flu", "doxylamine"),
])
def test_otc_combinations_resolve_to_their_ingredients(product, ingredient):
    (finding,) = assess_json("-m", product)["findings"]
    assert finding["id"] == "drug.sedating-antihistamine"
    assert finding["matched"][0]["resolved"] == ingredient


def test_rxnorm_style_names():
    document = assess_json("-m", "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet [Toprol]",
                           "-m", "diphenhydrAMINE Hydrochloride 25 MG Oral Tablet",
                           "-m", "Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet")
    assert {f["id"] for f in document["findings"]} == {"drug.beta-blocker", "drug.sedating-antihistamine"}
    assert any("oxycodone" == n["resolved"] for n in document["notes"])


def test_snomed_codes():
    document = assess_json("-c", "69896004", "-c", "72892002", "-c", "999999999")
    assert {f["id"] for f in document["findings"]} == {"condition.rheumatoid-arthritis", "condition.pregnancy"}
    assert [u["input"] for u in document["unrecognized"]] == ["999999999"]


@pytest.mark.parametrize("code,expected", [
    ("D50.9", "condition.iron-deficiency"), ("E11.42", "condition.peripheral-neuropathy"),
    ("N18.6", "condition.kidney-failure"), ("Z99.2", "condition.kidney-failure"), ("Z33.1", "condition.pregnancy"),
    ("e1142", "condition.peripheral-neuropathy"), ("M05.79", "condition.rheumatoid-arthritis"),
    ("E11.9", "condition.diabetes"), ("N18.4", "condition.ckd-severe"), ("G62.1", "condition.peripheral-neuropathy"),
])
def test_icd10_codes_follow_the_hierarchy(code, expected):
    assert expected in {f["id"] for f in assess_json("-c", code)["findings"]}


def test_valid_unknown_and_invalid_icd10_codes():
    document = assess_json("-c", "J45.909", "-c", "E11.999")
    assert document["not_linked"][0]["resolved"] == "J45.909"
    assert "asthma" in document["not_linked"][0]["text"].lower()
    assert document["unrecognized"][0]["input"] == "E11.999"
    assert "not a valid ICD-10-CM code" in document["unrecognized"][0]["reason"]


@pytest.mark.parametrize("text,expected", [
    ("neuropathy, diabetic", "condition.peripheral-neuropathy"), ("anemia, iron deficiency", "condition.iron-deficiency"),
    ("diabetes mellitus, type II", "condition.diabetes"), ("pregnant (third trimester)", "condition.pregnancy"),
    ("Chronic kidney disease, stage 4 (severe)", "condition.ckd-severe"),
])
def test_condition_words_in_another_order_or_as_official_descriptions(text, expected):
    assert expected in {f["id"] for f in assess_json("-c", text)["findings"]}


def test_coded_withdrawal_states():
    document = assess_json("-c", "F11.23", "-c", "F13.239")
    assert {f["id"] for f in document["findings"]} == {"withdrawal.opioid", "withdrawal.sedative"}
