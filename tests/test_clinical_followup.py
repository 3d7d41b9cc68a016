"""Clinical follow-up: "covered" only where a cited source shows no link, repeated labs,
stopping any dopaminergic, lab wording, tiers, a drug's own evidence, record checks."""

import json

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


# -- repeated lab values: the last one is used, the others are noted -------------------------

def _set_aside(document):
    return [n for n in document["notes"] if "given more than once" in n["text"]]


def test_repeated_ferritin_on_dialysis_uses_the_last_value():
    document = assess_json("-c", "ESRD", "--lab", "ferritin=150", "--lab", "ferritin=300", "--lab", "tsat=15")
    assert "lab.iron-deficiency-dialysis" not in finding_ids(document)
    (note,) = _set_aside(document)
    assert note["input"] == "ferritin=150" and "300 ng/mL" in note["text"] and "set aside" in note["text"]
    assert [i["input"] for i in document["not_linked"] if i["kind"] == "lab"] == ["ferritin=300", "tsat=15"]
    document = assess_json("-c", "ESRD", "--lab", "ferritin=300", "--lab", "ferritin=150", "--lab", "tsat=15")
    assert "lab.iron-deficiency-dialysis" in finding_ids(document)


def test_conflicting_tsat_grades_once():
    document = assess_json("--lab", "tsat=50", "--lab", "tsat=10")
    assert "lab.iron-deficiency" in finding_ids(document)
    (note,) = _set_aside(document)
    assert note["input"] == "tsat=50" and "10 %" in note["text"]
    document = assess_json("--lab", "tsat=10", "--lab", "tsat=50")
    assert "lab.iron-deficiency" not in finding_ids(document)


def test_batch_and_api_use_the_last_lab_value_too(tmp_path):
    from rlscheck.api import assess_record

    record = {"id": "r1", "conditions": ["ESRD"], "labs": ["ferritin=150", "ferritin=300", "tsat=15"]}
    source = tmp_path / "people.jsonl"
    source.write_text(json.dumps(record) + "\n")
    (out,) = [json.loads(line) for line in rlscheck("batch", source).stdout.splitlines()]
    document = assess_record(record)
    for doc in (out, document):
        assert "lab.iron-deficiency-dialysis" not in finding_ids(doc)
        (note,) = _set_aside(doc)
        assert note["input"] == "ferritin=150"


# -- iron rule wording ---------------------------------------------------------------------

def test_dialysis_values_outside_the_rule_conclude_nothing():
    document = assess_json("-c", "ESRD", "--lab", "ferritin=50", "--lab", "tsat=30")
    assert document["findings"][0]["id"] == "condition.kidney-failure" and len(document["findings"]) == 1
    for item in document["not_linked"]:
        assert item["text"].startswith("Nothing concluded") and "Not linked" not in item["text"]
    table = rlscheck("assess", "-c", "ESRD", "--lab", "ferritin=50", "--lab", "tsat=30").stdout
    assert "Not linked to RLS here" not in table


def test_the_45_percent_gate_is_attributed_to_mayo():
    document = assess_json("--lab", "ferritin=40", "--lab", "tsat=30")
    (finding,) = [f for f in document["findings"] if f["id"] == "lab.iron-deficiency"]
    threshold = finding["matched"][0]["threshold"]
    assert "45% when given (Mayo 2021" in threshold and "(AASM 2024)" in threshold.split("45%")[0]
    assert "MAYO21" in {r["id"] for r in finding["references"]}


# -- stopping any dopaminergic ------------------------------------------------------------

@pytest.mark.parametrize("stopped", ["bromocriptine", "Parlodel", "apomorphine", "piribedil", "lisuride",
                                     "Sinemet", "Madopar", "carbidopa/levodopa"])
def test_stopping_a_dopaminergic_is_the_withdrawal_finding(stopped):
    reference = assess_json("-w", "dopamine agonist")
    document = assess_json("-w", stopped)
    (finding,) = document["findings"]
    assert finding["id"] == "withdrawal.dopaminergic" == reference["findings"][0]["id"]
    assert len(finding["matched"]) == 1  # a combination counts once, through levodopa
    assert document["summary"].startswith("1 possible contributor")


def test_carbidopa_is_not_called_dopaminergic():
    document = assess_json("-m", "Sinemet")
    assert [n["resolved"] for n in document["notes"]] == ["levodopa"]
    text = rlscheck("show", "carbidopa").stdout
    assert "not dopaminergic" in text


# -- a note printed once --------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["markdown", "table"])
@pytest.mark.parametrize("lab", ["ferritin=150", "tsat=15"])
def test_dialysis_missing_value_note_is_printed_once(fmt, lab):
    out = rlscheck("assess", "-c", "ESRD", "--lab", lab, "--format", fmt).stdout
    sentence = "alone cannot decide iron treatment"
    assert out.count("alone cannot") == 1
    document = assess_json("-c", "ESRD", "--lab", lab)
    assert any(sentence in c["text"] for c in document["check_next"])  # JSON keeps both


# -- records: trimester and ids -------------------------------------------------------------

def test_trimester_zero_is_refused_everywhere(tmp_path):
    from rlscheck.api import RecordError, assess_record

    assert rlscheck("assess", "-c", "pregnancy", "--trimester", "0").exit_code == 2
    with pytest.raises(RecordError, match="trimester"):
        assess_record({"conditions": ["pregnancy"], "trimester": 0})
    assess_record({"conditions": ["pregnancy"], "trimester": None})  # null is absent
    source = tmp_path / "t.jsonl"
    source.write_text('{"id": "z", "trimester": 0}\n{"id": "n", "trimester": null, "meds": ["x"]}\n')
    result = rlscheck("batch", source)
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert "trimester" in first["error"] and "error" not in second


def test_a_trimester_in_the_text_that_disagrees_is_noted():
    document = assess_json("-c", "pregnant, second trimester", "--trimester", "1")
    (matched,) = document["findings"][0]["matched"]
    assert matched["trimester"] == 1
    (note,) = [n for n in document["notes"] if n.get("relation") == "conflict"]
    assert "trimester 2" in note["text"] and "trimester 1 is used" in note["text"]
    assert not [n for n in assess_json("-c", "pregnant, first trimester", "--trimester", "1")["notes"]
                if n.get("relation") == "conflict"]


def test_batch_ids_that_are_no_finite_number_keep_their_text(tmp_path):
    source = tmp_path / "ids.jsonl"
    source.write_text('{"id": 1e400, "meds": ["x"]}\n{"id": NaN}\n{"id": -Infinity}\n{"id": 2.5}\n')
    out = [json.loads(line) for line in rlscheck("batch", source).stdout.splitlines()]
    assert [o["id"] for o in out] == ["1e400", "NaN", "-Infinity", 2.5]


# -- one input behind two findings ------------------------------------------------------------

@pytest.mark.parametrize("drug", ["droperidol", "promethazine", "Compazine"])
def test_one_drug_in_two_linked_classes_is_named_in_the_headline(drug):
    document = assess_json("-m", drug)
    assert len(document["findings"]) == 2
    assert f"2 of them come from one input, '{drug}'" in document["summary"]
    document = assess_json("-m", "sertraline", "-m", "Benadryl")
    assert "come from one input" not in document["summary"]


# -- a drug's evidence is its own ------------------------------------------------------------

@pytest.mark.parametrize("drug,words", [("phenytoin", "founding article only"),
                                        ("metoprolol", "founding article only"),
                                        ("doxepin", "case reports")])
def test_a_matched_drug_shows_its_own_evidence(drug, words, tmp_path):
    (finding,) = assess_json("-m", drug)["findings"]
    assert finding["evidence"] == words == finding["matched"][0]["evidence"]
    assert "evidence_of" not in finding["matched"][0]
    assert f"(best evidence: {words})" in rlscheck("assess", "-m", drug, "--format", "markdown").stdout
    source = tmp_path / "r.jsonl"
    source.write_text(json.dumps({"meds": [drug]}) + "\n")
    (out,) = [json.loads(line) for line in rlscheck("batch", source).stdout.splitlines()]
    assert out["findings"][0]["evidence"] == words


def test_a_class_named_as_such_shows_its_link_evidence_labelled():
    (finding,) = assess_json("-m", "SNRI")["findings"]
    assert finding["matched"][0]["evidence_of"] == "class link"
    document = assess_json("-m", "SNRI", "-m", "phenytoin", "-m", "valproate")
    assert jsonschema_ok(document)


def jsonschema_ok(document):
    import jsonschema
    from importlib import resources

    schema = json.loads(resources.files("rlscheck").joinpath("schemas/assess.schema.json").read_text())
    jsonschema.validate(document, schema)
    return True


# -- conditions: named causes are findings, co-occurrences are notes -----------------------

@pytest.mark.parametrize("condition,certainty", [("rheumatoid arthritis", "probable"), ("Sjogren syndrome", "weak"),
                                                 ("type 2 diabetes", "possible")])
def test_conditions_named_as_causes_are_graded_findings(condition, certainty):
    (finding,) = assess_json("-c", condition)["findings"]
    assert finding["certainty"] == certainty


@pytest.mark.parametrize("condition", ["lupus", "multiple sclerosis", "migraine", "epilepsy", "Parkinson's disease",
                                       "heart failure", "hypertension"])
def test_conditions_only_seen_alongside_rls_are_association_notes(condition):
    document = assess_json("-c", condition)
    assert document["findings"] == []
    (note,) = document["notes"]
    assert note["relation"] == "association"


# -- sources ---------------------------------------------------------------------------------

@pytest.mark.parametrize("title", ["TODO", "Smith J. A study, found through Google Scholar cache",
                                   "Author A. Title to be checked. J Ex 2020", "FIXME"])
def test_kb_validate_refuses_titles_that_are_not_citations(tmp_path, title):
    extra = tmp_path / "t.yaml"
    extra.write_text(f'sources:\n  - id: T1\n    title: "{title}"\n    pmid: "12345678"\n    type: OBS\n')
    result = rlscheck("kb", "validate", extra)
    assert result.exit_code == 3 and "title has a note" in result.stdout + result.stderr


@pytest.mark.parametrize("url", ["https://pubmed.ncbi.nlm.nih.gov:8081/12345678",
                                 "http://47.251.13.51:8081/28285317", "https://192.0.2.7/article",
                                 "https://rlsfoundation.blogspot.com/2020/01/post.html"])
def test_kb_validate_refuses_ports_addresses_and_blogs(tmp_path, url):
    extra = tmp_path / "u.yaml"
    extra.write_text(f'sources:\n  - id: U1\n    title: "Author A. A study. J Ex 2020"\n    url: "{url}"\n'
                     '    type: OBS\n')
    result = rlscheck("kb", "validate", extra)
    assert result.exit_code == 3 and f"{extra}:4:5:" in result.stdout + result.stderr


def test_named_sources_are_citations(kb):
    sources = kb.sources
    assert "blogspot" not in str(kb.sources) and "conicet" not in str(kb.sources)
    assert sources["ARTICLE"]["title"].startswith("Restless Legs Syndrome (RLS) Causes")
    assert "setid=" in sources["PREGABALIN-LABEL"]["url"]
    assert sources["AASM24-sum"]["type"] == "SEC"
    for source_id, author in [("HDIRON17", "Deng Y"), ("ASEN14", "McCall WV"), ("OLZ10", "Aggarwal S"),
                              ("WHITTOM10", "Whittom S")]:
        assert sources[source_id]["title"].startswith(author)
        assert sources[source_id].get("doi") or sources[source_id].get("pmid")
    (finding,) = assess_json("-m", "melatonin")["findings"]
    assert [r["id"] for r in finding["references"]] == ["WHITTOM10"] and finding["certainty"] == "weak"
