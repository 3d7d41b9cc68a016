"""Clinical follow-up: "covered" only where a cited source shows no link, repeated labs,
stopping any dopaminergic, lab wording, tiers, a drug's own evidence, record checks."""

import pytest

from conftest import assess_json, finding_ids, rlscheck


def by_input(document, section):
    return {item["input"]: item for item in document[section]}


# -- "no known link" only where a source shows it -------------------------------------------

@pytest.mark.parametrize("name,code", [("asthma", "J45.909"), ("hypothyroidism", "E03.9"),
                                       ("osteoarthritis of knee", "M17.0"), ("GERD", "K21.9")])
def test_a_name_and_its_code_are_equally_not_covered(name, code):
    for given in (name, code):
        document = assess_json("-c", given)
        (item,) = document["not_linked"]
        assert item["covered"] is False and "not checked" in item["text"], given
        assert "not in rlscheck's knowledge base" in document["summary"]


@pytest.mark.parametrize("given", ["statin", "atorvastatin", "simvastatin"])
def test_class_and_members_without_a_source_are_not_covered(given):
    (item,) = assess_json("-m", given)["not_linked"]
    assert item["covered"] is False


def test_covered_only_with_a_cited_source():
    (item,) = assess_json("-c", "COPD")["not_linked"]
    assert item["covered"] is True
    document = assess_json("-w", "simvastatin")
    (item,) = document["not_linked"]
    assert item["covered"] is False and "not checked" in item["text"]


@pytest.mark.parametrize("given", ["heart failure", "congestive heart failure", "I50.9"])
def test_heart_failure_is_the_cardiovascular_association(given):
    document = assess_json("-c", given)
    (note,) = document["notes"]
    assert note["relation"] == "association" and note["references"][0]["id"] == "TRENK16"
    assert document["not_linked"] == []
