"""Drugs resolve by generic, brand, salt and dose to the right class; treatments never become causes."""

import pytest

from conftest import assess_json

CLASS_OF = {
    "fluoxetine": "drug.antidepressant", "Prozac": "drug.antidepressant", "sertraline 50 mg": "drug.antidepressant",
    "Lexapro": "drug.antidepressant", "citalopram hydrobromide": "drug.antidepressant",
    "Effexor XR": "drug.antidepressant", "duloxetine 60mg capsule": "drug.antidepressant",
    "Cymbalta": "drug.antidepressant", "mirtazapine": "drug.antidepressant", "Remeron": "drug.antidepressant",
    "nortriptyline HCl": "drug.antidepressant", "Pamelor": "drug.antidepressant", "clomipramine": "drug.antidepressant",
    "diphenhydramine hydrochloride 25 mg": "drug.sedating-antihistamine", "Benadryl": "drug.sedating-antihistamine",
    "doxylamine succinate": "drug.sedating-antihistamine", "Vistaril": "drug.sedating-antihistamine",
    "hydroxyzine pamoate": "drug.sedating-antihistamine", "Chlor-Trimeton": "drug.sedating-antihistamine",
    "chlorphenamine": "drug.sedating-antihistamine", "meclizine": "drug.sedating-antihistamine",
    "Tylenol PM": "drug.sedating-antihistamine", "Advil PM": "drug.sedating-antihistamine",
    "ZzzQuil": "drug.sedating-antihistamine", "NyQuil": "drug.sedating-antihistamine",
    "Unisom": "drug.sedating-antihistamine", "Dramamine": "drug.sedating-antihistamine",
    "metoclopramide": "drug.dopamine-blocking-antiemetic", "Reglan": "drug.dopamine-blocking-antiemetic",
    "Compazine": "drug.dopamine-blocking-antiemetic", "Phenergan": "drug.sedating-antihistamine",
    "haloperidol": "drug.neuroleptic", "Haldol": "drug.neuroleptic", "quetiapine fumarate": "drug.neuroleptic",
    "Seroquel XR": "drug.neuroleptic", "olanzapine": "drug.neuroleptic", "Zyprexa": "drug.neuroleptic",
    "risperidone": "drug.neuroleptic", "Abilify": "drug.neuroleptic", "chlorpromazine": "drug.neuroleptic",
    "lithium carbonate 300 mg": "drug.lithium", "metoprolol succinate": "drug.beta-blocker",
    "metoprolol tartrate": "drug.beta-blocker", "Toprol-XL": "drug.beta-blocker", "atenolol": "drug.beta-blocker",
    "bisoprolol": "drug.beta-blocker", "propranolol": "drug.beta-blocker", "Coreg": "drug.beta-blocker",
    "famotidine": "drug.h2-blocker", "Pepcid": "drug.h2-blocker", "ranitidine": "drug.h2-blocker",
    "omeprazole 20 mg": "drug.ppi", "Nexium": "drug.ppi", "pantoprazole sodium": "drug.ppi",
    "amlodipine besylate": "drug.calcium-channel-blocker", "Norvasc": "drug.calcium-channel-blocker",
    "topiramate": "drug.anticonvulsant", "Topamax": "drug.anticonvulsant", "desipramine": "drug.antidepressant",
    "levothyroxine": "drug.levothyroxine", "Synthroid": "drug.levothyroxine", "tramadol": "drug.tramadol",
    "Ultram": "drug.tramadol", "melatonin": "drug.melatonin",
    "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet [Toprol]": "drug.beta-blocker",
}
NEVER_FINDINGS = ["gabapentin", "Neurontin", "pregabalin", "Lyrica", "gabapentin enacarbil", "Horizant",
                  "bupropion", "Wellbutrin", "loratadine", "Claritin", "cetirizine", "Zyrtec", "fexofenadine",
                  "ondansetron", "Zofran", "carbamazepine", "Tegretol", "valproate", "Depakote", "trazodone",
                  "levetiracetam", "ferrous sulfate", "pramipexole", "ropinirole", "Requip", "clonazepam",
                  "oxycodone", "methadone", "ethosuximide", "lamotrigine", "zonisamide", "vitamin C",
                  "sodium oxybate", "Xyrem", "nitrofurantoin", "Macrobid"]


def test_at_least_140_drugs_and_their_classes(kb):
    drugs = [e for e in kb.entries.values() if e["kind"] == "drug"]
    assert len(drugs) >= 150
    assert all(e.get("classes") for e in drugs)


@pytest.mark.parametrize("name,expected", sorted(CLASS_OF.items()))
def test_drug_resolves_to_its_cause(name, expected):
    document = assess_json("-m", name)
    assert expected in {f["id"] for f in document["findings"]}, document


@pytest.mark.parametrize("name", NEVER_FINDINGS)
def test_treatments_and_exceptions_are_never_findings(name):
    document = assess_json("-m", name)
    assert document["findings"] == [], f"{name}: {[f['id'] for f in document['findings']]}"
    assert document["notes"] or document["not_linked"] or document["isolated_reports"]


def test_treatment_notes_say_so():
    notes = {n["input"]: n for n in assess_json("-m", "gabapentin", "-m", "pramipexole")["notes"]}
    assert "treatment" in notes["gabapentin"]["text"].lower()
    assert "augmentation" in notes["pramipexole"]["text"].lower()


def test_class_names_as_input():
    for name, expected in [("SSRI", "drug.antidepressant"), ("beta blocker", "drug.beta-blocker"),
                           ("antipsychotic", "drug.neuroleptic"), ("TCAs", "drug.antidepressant"),
                           ("sedating antihistamines", "drug.sedating-antihistamine")]:
        assert expected in {f["id"] for f in assess_json("-m", name)["findings"]}, name


def test_antihistamine_class_without_detail_is_a_note_not_a_guess():
    document = assess_json("-m", "antihistamine")
    assert document["findings"] == []
    assert "sedating" in document["notes"][0]["text"]


def test_combination_product_names_the_hidden_ingredient():
    document = assess_json("-m", "Tylenol PM")
    (finding,) = document["findings"]
    assert finding["matched"][0]["resolved"] == "diphenhydramine"
    assert finding["matched"][0]["via"][0] == "ingredient of Tylenol PM"


def test_withdrawal_only_when_stopped():
    current = assess_json("-m", "lorazepam")
    assert current["findings"] == [] and current["notes"]
    stopped = assess_json("-w", "lorazepam")
    assert [f["id"] for f in stopped["findings"]] == ["withdrawal.sedative"]
    assert "abruptly" in stopped["findings"][0]["advice"]
    opioid = assess_json("-w", "oxycodone")
    assert [f["id"] for f in opioid["findings"]] == ["withdrawal.opioid"]
