"""Clinical depth: evidence and references on every finding, alternatives, withdrawal advice,
treatment and augmentation notes, context that changes the answer."""

import pytest

from conftest import assess_json, rlscheck
from rlscheck.render.markdown import md

BROAD = ["-m", "Benadryl", "-m", "Reglan", "-m", "Zoloft", "-m", "quetiapine", "-m", "lithium", "-m", "omeprazole",
         "-m", "atenolol", "-m", "tramadol", "-m", "levothyroxine", "-m", "phenytoin", "-w", "lorazepam",
         "-w", "oxycodone", "-w", "Tofranil", "-w", "hydralazine", "-c", "pregnancy", "-c", "ESRD", "-c", "E11.42",
         "-c", "rheumatoid arthritis", "-c", "diabetes", "-s", "alcohol", "-s", "coffee", "-s", "smoking",
         "-r", "family history", "-r", "stress", "-r", "sleep loss", "-r", "long flight", "-r", "obesity",
         "--lab", "ferritin=40", "--lab", "b12=150", "--lab", "magnesium=1.2", "--lab", "egfr=20"]


def test_every_finding_has_evidence_and_references_in_every_format():
    document = assess_json(*BROAD)
    assert len(document["findings"]) >= 20
    for finding in document["findings"]:
        assert finding["evidence"] and finding["certainty"] and finding["advice"]
        assert finding["references"], finding["id"]
        for ref in finding["references"]:  # the founding article is the one source without a URL
            assert ref["title"] and "year" in ref and (ref["url"] or ref["id"] == "ARTICLE")
        assert "stop taking" not in finding["advice"].lower()
    table = rlscheck("assess", *BROAD, "--color", "never").stdout
    markdown = rlscheck("assess", *BROAD, "--format", "markdown").stdout
    for finding in document["findings"]:
        title = finding["title"]
        assert title.split()[0] in table
        section = markdown.split(f"### {md(title)}", 1)[1].split("###", 1)[0]
        assert "**How sure:**" in section and "**Sources:**" in section


def test_issue_example_alternatives_withdrawal_advice_and_iron_threshold():
    document = assess_json("-m", "Benadryl", "-m", "Reglan", "-m", "Zoloft", "-w", "lorazepam", "-c", "pregnancy",
                           "--lab", "ferritin=40")
    findings = {f["id"]: f for f in document["findings"]}
    assert "loratadine" in findings["drug.sedating-antihistamine"]["alternatives"]
    assert "bupropion" in findings["drug.antidepressant"]["alternatives"]
    assert "abruptly" in findings["withdrawal.sedative"]["advice"]
    iron = findings["lab.iron-deficiency"]["matched"][0]
    assert iron["value"] == 40 and "75 ng/mL" in iron["threshold"]
    assert "drug.dopamine-blocking-antiemetic" in findings and "condition.pregnancy" in findings
    table = rlscheck("assess", "-m", "Benadryl", "-m", "Reglan", "-m", "Zoloft", "-w", "lorazepam", "-c",
                     "pregnancy", "--lab", "ferritin=40", "--color", "never", "--details").stdout
    assert "loratadine" in table and "abruptly" in table and "75 ng/mL" in table
    augmentation = rlscheck("assess", "-m", "pramipexole", "--color", "never").stdout
    assert "augmentation" in augmentation.lower()


@pytest.mark.parametrize("name,word", [
    ("gabapentin", "treatment"), ("ferrous sulfate", "iron"), ("oxycodone", "refractory"),
    ("ropinirole", "augmentation"), ("levodopa", "augmentation"), ("Sinemet", "augmentation"),
    ("loratadine", "non-sedating"), ("bupropion", "trial"),
])
def test_treatment_and_safer_choice_notes(name, word):
    document = assess_json("-m", name)
    assert document["findings"] == []
    assert word in " ".join(n["text"] for n in document["notes"]).lower()


def test_conflict_rows_explain_the_conflict():
    (finding,) = assess_json("-m", "tramadol")["findings"]
    assert finding["certainty"] == "conflicting" and "treat" in finding["explanation"]
    (doxepin,) = assess_json("-m", "doxepin")["findings"]
    assert doxepin["certainty"] == "conflicting" and "onflicting" in doxepin["matched"][0]["detail"]
    alcohol = assess_json("-s", "alcohol")["findings"][0]
    assert alcohol["certainty"] == "conflicting"


@pytest.mark.parametrize("text,trimester", [("pregnancy, third trimester", 3), ("pregnant 1st trimester", 1),
                                            ("pregnancy trimester 2", 2)])
def test_trimester_in_the_condition(text, trimester):
    (finding,) = assess_json("-c", text)["findings"]
    assert finding["matched"][0]["trimester"] == trimester
    assert "trimester" in finding["matched"][0]["detail"].lower()
    assert "delivery" in finding["explanation"]


def test_trimester_option_implies_pregnancy():
    (finding,) = assess_json("--trimester", "3")["findings"]
    assert finding["id"] == "condition.pregnancy" and finding["matched"][0]["trimester"] == 3


def test_ckd_severity_depends_on_stage():
    assert assess_json("-c", "CKD stage 3")["findings"] == []
    assert {f["id"] for f in assess_json("-c", "CKD stage 4")["findings"]} == {"condition.ckd-severe"}
    assert {f["id"] for f in assess_json("-c", "CKD 5")["findings"]} == {"condition.kidney-failure"}
    unstaged = assess_json("-c", "CKD")
    assert unstaged["findings"] == [] and "check.kidney-stage" in {c["id"] for c in unstaged["check_next"]}


def test_diabetes_alone_is_a_weaker_finding_through_neuropathy():
    (finding,) = assess_json("-c", "type 2 diabetes")["findings"]
    assert finding["id"] == "condition.diabetes" and finding["certainty"] == "possible"
    assert "neuropathy" in finding["matched"][0]["via"][0]


def test_risk_factors_carry_evidence():
    for risk in ("family history", "stress", "fatigue", "sleep loss", "long flight", "obesity"):
        (finding,) = assess_json("-r", risk)["findings"]
        assert finding["references"] and finding["evidence"]


def test_anemia_advises_iron_studies():
    document = assess_json("-c", "anemia")
    assert {"check.iron-studies", "check.anemia-condition"} <= {c["id"] for c in document["check_next"]}
