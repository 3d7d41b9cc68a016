"""Every medication, brand, class, condition, substance, withdrawal and risk factor the
founding article names is linked."""

import pytest

from conftest import assess_json

ARTICLE_MEDICATIONS = {
    "methsuximide": "drug.anticonvulsant", "Celontin": "drug.anticonvulsant",
    "phenytoin": "drug.anticonvulsant", "Dilantin": "drug.anticonvulsant",
    "amitriptyline": "drug.antidepressant", "Endep": "drug.antidepressant", "Elavil": "drug.antidepressant",
    "paroxetine": "drug.antidepressant", "Paxil": "drug.antidepressant", "Paxil CR": "drug.antidepressant",
    "Pexeva": "drug.antidepressant", "lithium": "drug.lithium", "Eskalith": "drug.lithium",
    "Lithobid": "drug.lithium", "anticonvulsants": "drug.anticonvulsant", "antidepressants": "drug.antidepressant",
    "beta-blockers": "drug.beta-blocker", "H2 blockers": "drug.h2-blocker", "neuroleptics": "drug.neuroleptic",
    "antipsychotics": "drug.neuroleptic", "imipramine": "drug.antidepressant", "Tofranil": "drug.antidepressant",
    "Tofranil-PM": "drug.antidepressant",
}
ARTICLE_WITHDRAWALS = {
    "vasodilators": "withdrawal.vasodilator", "sedatives": "withdrawal.sedative",
    "imipramine": "withdrawal.imipramine", "Tofranil": "withdrawal.imipramine", "Tofranil-PM": "withdrawal.imipramine",
}
ARTICLE_CONDITIONS = {
    "iron-deficiency anemia": "condition.iron-deficiency", "peripheral neuropathy": "condition.peripheral-neuropathy",
    "diabetes": "condition.diabetes", "pregnancy": "condition.pregnancy",
    "magnesium deficiency": "condition.magnesium-deficiency", "vitamin B-12 deficiency": "condition.b12-deficiency",
    "severe kidney disease": "condition.ckd-severe", "dialysis": "condition.kidney-failure",
    "amyloidosis": "condition.amyloidosis", "Lyme disease": "condition.lyme", "spinal nerve damage": "condition.spinal",
    "rheumatoid arthritis": "condition.rheumatoid-arthritis", "Sjogren syndrome": "condition.sjogren",
    "uremia": "condition.kidney-failure",
}
ARTICLE_SUBSTANCES = {"alcohol": "substance.alcohol", "caffeine": "substance.caffeine",
                      "cigarette smoking": "substance.nicotine"}
ARTICLE_RISKS = {"family history": "risk.family-history", "stress": "risk.stress-psychiatric",
                 "psychiatric factors": "risk.stress-psychiatric", "fatigue": "risk.fatigue-sleep-loss"}


@pytest.mark.parametrize("option,table", [
    ("-m", ARTICLE_MEDICATIONS), ("-w", ARTICLE_WITHDRAWALS), ("-c", ARTICLE_CONDITIONS),
    ("-s", ARTICLE_SUBSTANCES), ("-r", ARTICLE_RISKS),
])
def test_every_article_item_is_linked(option, table):
    for name, expected in table.items():
        document = assess_json(option, name)
        ids = {f["id"] for f in document["findings"]}
        assert expected in ids, f"{option} {name!r} gave {ids}, notes {document['notes']}"
        for finding in document["findings"]:
            assert finding["references"] and finding["explanation"]


def test_family_history_says_earlier_onset_and_slower_course():
    (finding,) = assess_json("-r", "family history")["findings"]
    assert "earlier" in finding["explanation"] and "slowly" in finding["explanation"]
    assert "quarter to three quarters" in finding["explanation"]
