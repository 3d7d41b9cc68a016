"""Clinical review: the kidney iron rule, ferritin 75-100, stopping dopaminergics and
gabapentinoids, isolated reports, kidney codes, inputs outside the knowledge base, evidence
levels, data slips, and the sources kb validate accepts."""

import json
import re
from importlib import resources

import jsonschema
import pytest

from conftest import assess_json, finding_ids, rlscheck

SINGLE_REPORT_DRUGS = ["nitrofurantoin", "fosfomycin", "docetaxel", "leuprolide", "trimetazidine", "nicergoline",
                       "Fostair", "sodium oxybate"]


def schema():
    return json.loads(resources.files("rlscheck").joinpath("schemas/assess.schema.json").read_text())


def lab_findings(document):
    return {f["id"] for f in document["findings"] if f["kind"] == "lab"}


def by_input(document, section):
    return {item["input"]: item for item in document[section]}


# -- 1. kidney failure iron rule ------------------------------------------------------------

@pytest.mark.parametrize("dialysis", ["dialysis", "ESRD", "hemodialysis", "N18.6", "Z99.2"])
def test_dialysis_iron_needs_low_ferritin_and_low_tsat(dialysis):
    both = assess_json("-c", dialysis, "--lab", "ferritin=150", "--lab", "tsat=15%")
    assert lab_findings(both) == {"lab.iron-deficiency-dialysis"}
    (finding,) = [f for f in both["findings"] if f["kind"] == "lab"]
    assert finding["certainty"] == "probable" and finding["evidence"] == "guideline"
    assert "AASM24" in {r["id"] for r in finding["references"]}
    assert {m["input"] for m in finding["matched"]} == {"ferritin=150", "tsat=15%"}
    assert "condition.kidney-failure" in finding_ids(both)


def test_dialysis_with_normal_tsat_is_not_iron_deficiency():
    document = assess_json("-c", "dialysis", "--lab", "ferritin=150", "--lab", "tsat=30%")
    assert lab_findings(document) == set()
    ferritin = by_input(document, "not_linked")["ferritin=150"]
    assert "200 ng/mL" in ferritin["text"] and "30 %" in ferritin["text"]
    # a low ferritin does not fall back to the general rule on dialysis
    low = assess_json("-c", "dialysis", "--lab", "ferritin=60", "--lab", "tsat=30%")
    assert lab_findings(low) == set()


def test_dialysis_ferritin_without_tsat_asks_for_tsat():
    document = assess_json("-c", "ESRD", "--lab", "ferritin=150")
    assert lab_findings(document) == set()
    assert "check.tsat-for-dialysis" in {c["id"] for c in document["check_next"]}
    assert "transferrin saturation" in by_input(document, "notes")["ferritin=150"]["text"]
    reverse = assess_json("-c", "ESRD", "--lab", "tsat=15%")
    assert lab_findings(reverse) == set()
    assert "check.ferritin-for-dialysis" in {c["id"] for c in reverse["check_next"]}


def test_dialysis_boundaries():
    assert lab_findings(assess_json("-c", "dialysis", "--lab", "ferritin=199.9", "--lab", "tsat=19.9%")) == {
        "lab.iron-deficiency-dialysis"}
    assert lab_findings(assess_json("-c", "dialysis", "--lab", "ferritin=200", "--lab", "tsat=10%")) == set()
    assert lab_findings(assess_json("-c", "dialysis", "--lab", "ferritin=100", "--lab", "tsat=20%")) == set()


@pytest.mark.parametrize("kidney", [("--lab", "egfr=12"), ("-c", "N18.5"), ("-c", "CKD 5")])
def test_kidney_failure_without_dialysis_is_not_the_dialysis_rule(kidney):
    document = assess_json(*kidney, "--lab", "ferritin=150", "--lab", "tsat=15%")
    assert "lab.iron-deficiency-dialysis" not in finding_ids(document)
    assert "lab.iron-deficiency" in finding_ids(document)  # by transferrin saturation, the general rule
    no_tsat = assess_json(*kidney, "--lab", "ferritin=150")
    assert lab_findings(no_tsat) - {"lab.kidney-failure"} == set()
    assert "check.tsat-for-dialysis" not in {c["id"] for c in no_tsat["check_next"]}


def test_high_tsat_stops_iron_findings_and_says_why():
    document = assess_json("--lab", "ferritin=60", "--lab", "tsat=50%")
    assert lab_findings(document) == set()
    assert "45%" in by_input(document, "not_linked")["ferritin=60"]["text"]


# -- 2. ferritin 75-100 ------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["75.1", "85", "100", "90 ug/L"])
def test_ferritin_75_to_100_is_a_finding_graded_by_the_guideline(value):
    document = assess_json("--lab", f"ferritin={value}")
    (finding,) = document["findings"]
    assert finding["id"] == "lab.iron-below-target"
    assert finding["evidence"] == "guideline" and finding["certainty"] == "possible"
    assert {"AASM24", "MAYO21"} <= {r["id"] for r in finding["references"]}
    assert "AASM24-sec" not in {r["id"] for r in finding["references"]}
    assert "intravenous" in finding["explanation"] and "target" in finding["title"]
    assert document["summary"].startswith("1 possible contributor")
    assert rlscheck("assess", "--lab", f"ferritin={value}", "--fail-on-findings").exit_code == 1


def test_ferritin_75_to_100_with_tsat_45_or_more_is_not_a_finding():
    assert lab_findings(assess_json("--lab", "ferritin=85", "--lab", "tsat=45%")) == set()
    assert lab_findings(assess_json("--lab", "ferritin=85", "--lab", "tsat=44%")) == {"lab.iron-below-target"}
    assert lab_findings(assess_json("--lab", "ferritin=100.5")) == set()


# -- 3. stopping a dopamine agonist, levodopa or a gabapentinoid --------------------------------

@pytest.mark.parametrize("name,expected", [
    ("pramipexole", "withdrawal.dopaminergic"), ("ropinirole", "withdrawal.dopaminergic"),
    ("Mirapex", "withdrawal.dopaminergic"), ("rotigotine", "withdrawal.dopaminergic"),
    ("levodopa", "withdrawal.dopaminergic"), ("Sinemet", "withdrawal.dopaminergic"),
    ("dopamine agonist", "withdrawal.dopaminergic"),
    ("gabapentin", "withdrawal.gabapentinoid"), ("pregabalin", "withdrawal.gabapentinoid"),
    ("Lyrica", "withdrawal.gabapentinoid"), ("gabapentin enacarbil", "withdrawal.gabapentinoid"),
])
def test_stopping_rls_treatment_is_a_withdrawal_finding(name, expected):
    document = assess_json("-w", name)
    assert finding_ids(document) == {expected}
    (finding,) = document["findings"]
    assert finding["category"] == "withdrawal" and finding["kind"] == "withdrawal"
    assert not any(item["input"] == name for item in document["not_linked"])
    assert {"IRLSSG16", "MAYO21"} <= {r["id"] for r in finding["references"]}
    assert "prescriber" in finding["advice"] and "do not restart" in finding["advice"]


def test_dopaminergic_withdrawal_says_marked_temporary_worsening():
    (finding,) = assess_json("-w", "pramipexole")["findings"]
    assert finding["certainty"] == "probable"
    assert "days to a few weeks" in finding["explanation"] and "temporary" in finding["explanation"]
    # taking it is still a note, never a cause
    taking = assess_json("-m", "pramipexole")
    assert taking["findings"] == [] and taking["notes"][0]["relation"] == "augmentation"


# -- 4. single spontaneous reports ------------------------------------------------------------

@pytest.mark.parametrize("name", SINGLE_REPORT_DRUGS + ["valproate", "Macrobid", "Xyrem"])
def test_single_reports_are_isolated_and_not_findings(name):
    document = assess_json("-m", name)
    assert document["findings"] == []
    (report,) = document["isolated_reports"]
    assert report["input"] == name and report["evidence"] == "pharmacovigilance"
    assert [r["id"] for r in report["references"]] == ["FRPV12"]
    assert "single" in report["text"] and "not a signal" in report["text"]
    assert document["summary"].startswith("Nothing you entered is a known secondary cause")
    assert "1 isolated report" in document["summary"]
    assert rlscheck("assess", "-m", name, "--fail-on-findings").exit_code == 0
    jsonschema.validate(document, schema())


def test_isolated_reports_leave_findings_counted_alone():
    document = assess_json("-m", "nitrofurantoin", "-m", "docetaxel", "-m", "sertraline")
    assert finding_ids(document) == {"drug.antidepressant"}
    assert document["summary"].startswith("1 possible contributor")
    assert {r["input"] for r in document["isolated_reports"]} == {"nitrofurantoin", "docetaxel"}
    assert rlscheck("assess", "-m", "nitrofurantoin", "-m", "sertraline", "--fail-on-findings").exit_code == 1


def test_isolated_reports_have_their_own_tier_in_text_outputs():
    table = rlscheck("assess", "-m", "nitrofurantoin").stdout
    assert "Isolated reports" in table and "unlikely to matter" in table
    assert "May cause or worsen" not in table
    markdown = rlscheck("assess", "-m", "nitrofurantoin", "--format", "markdown").stdout
    assert "## Isolated reports — unlikely to matter" in markdown and "nitrofurantoin" in markdown


def test_single_report_rule_is_uniform_in_the_knowledge_base(kb):
    """A single spontaneous report is never a finding: such entries rest on pharmacovigilance only."""
    for entry_id in kb.entries:
        entry = kb.get(entry_id)
        if entry.get("relation") == "isolated-report":
            assert entry.get("evidence") == ["PV"] and entry.get("references") == ["FRPV12"], entry_id


def test_batch_reports_isolated_reports_too():
    result = rlscheck("batch", "-", "--jobs", "1", input='{"id": "a", "meds": ["nitrofurantoin"]}\n')
    (line,) = [json.loads(text) for text in result.stdout.splitlines()]
    assert line["findings"] == [] and line["isolated_reports"][0]["input"] == "nitrofurantoin"


# -- 5. kidney codes map by what they say ------------------------------------------------------

@pytest.mark.parametrize("code", ["D63.1", "N19", "renal failure", "unspecified kidney failure"])
def test_unstaged_kidney_codes_are_not_end_stage(code):
    document = assess_json("-c", code)
    assert document["findings"] == []
    (note,) = document["notes"]
    assert note["relation"] == "association" and "stage" in note["text"]
    assert "check.kidney-stage" in {c["id"] for c in document["check_next"]}


def test_anaemia_in_ckd_also_asks_for_iron_studies():
    document = assess_json("-c", "D63.1")
    assert by_input(document, "notes")["D63.1"]["resolved"].startswith("Anaemia in chronic kidney disease")
    assert "check.anemia-condition" in {c["id"] for c in document["check_next"]}


def test_acute_kidney_injury_is_not_linked():
    for code in ("N17.9", "acute kidney injury"):
        document = assess_json("-c", code)
        assert document["findings"] == []
        (item,) = document["not_linked"]
        assert item["covered"] is False and "acute" in item["text"] and "not checked" in item["text"]


@pytest.mark.parametrize("code", ["N18.5", "N18.6", "Z99.2", "ESRD", "CKD stage 5", "on dialysis", "kidney failure"])
def test_kidney_failure_codes_stay_established(code):
    (finding,) = assess_json("-c", code)["findings"]
    assert finding["id"] == "condition.kidney-failure" and finding["certainty"] == "established"


# -- 6. not in the knowledge base is not "no link" --------------------------------------------

@pytest.mark.parametrize("condition", ["fibromyalgia", "Crohn's disease", "M79.7", "K50.90"])
def test_conditions_outside_the_knowledge_base_are_not_covered(condition):
    document = assess_json("-c", condition)
    (item,) = document["not_linked"]
    assert item["covered"] is False
    assert "not in rlscheck's knowledge base" in item["text"] and "no known link" not in item["text"].lower()
    assert "not in rlscheck's knowledge base and could not be checked" in document["summary"]
    jsonschema.validate(document, schema())


def test_known_no_link_is_covered_and_said_differently():
    document = assess_json("-c", "COPD", "-c", "fibromyalgia")
    items = by_input(document, "not_linked")
    assert items["COPD"]["covered"] is True and items["fibromyalgia"]["covered"] is False
    assert "1 input is not in rlscheck's knowledge base" in document["summary"]
    table = rlscheck("assess", "-c", "COPD", "-c", "fibromyalgia").stdout
    assert "Not linked to RLS" in table and "Not checked: no source in rlscheck's knowledge base" in table
    markdown = rlscheck("assess", "-c", "fibromyalgia", "--format", "markdown").stdout
    assert "## Not checked: no source in rlscheck's knowledge base covers it" in markdown


# -- 7. evidence levels -------------------------------------------------------------------------

@pytest.mark.parametrize("args,finding_id", [
    (("-s", "alcohol"), "substance.alcohol"), (("-s", "caffeine"), "substance.caffeine"),
    (("-c", "sleep apnea"), "condition.sleep-apnea"),
])
def test_aggravators_cite_the_guideline_not_an_interview(args, finding_id):
    (finding,) = assess_json(*args)["findings"]
    assert finding["id"] == finding_id and finding["evidence"] == "guideline"
    ids = {r["id"] for r in finding["references"]}
    assert "MAYO21" in ids and "AASM24-chair" not in ids
    assert "interview" not in json.dumps(finding).lower() and "chair" not in finding["explanation"]


def test_threshold_sources_do_not_raise_evidence():
    (b12,) = assess_json("--lab", "b12=150")["findings"]
    assert b12["evidence"] == "observational study" and "guideline" not in b12["evidence_detail"]
    (periods,) = assess_json("-c", "heavy periods")["findings"]
    assert periods["evidence"] == "systematic review"
    (bariatric,) = assess_json("-c", "gastric bypass")["findings"]
    assert bariatric["evidence"] == "systematic review"


def test_class_input_shows_its_links_evidence():
    (finding,) = assess_json("-m", "SNRI")["findings"]
    (matched,) = finding["matched"]
    assert matched["evidence"] == "systematic review" != "unsupported"


def test_gabapentin_note_cites_only_what_says_it_is_a_treatment(kb):
    (note,) = assess_json("-m", "gabapentin")["notes"]
    cited = {r["id"] for r in note["references"]}
    assert cited == set(kb.get("drug.gabapentin")["references"])
    assert not cited & set(kb.get("drug.anticonvulsant").get("references", []))


# -- 8. data slips ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Midol", "Pamprin"])
def test_bare_brand_families_are_not_guessed(name):
    document = assess_json("-m", name)
    assert document["findings"] == []
    (note,) = document["notes"]
    assert "pyrilamine" in note["text"] and "product" in note["text"]


@pytest.mark.parametrize("name", ["Midol Complete", "Midol PM", "Pamprin Multi-Symptom"])
def test_named_products_with_an_antihistamine_are_found(name):
    assert finding_ids(assess_json("-m", name)) == {"drug.sedating-antihistamine"}


@pytest.mark.parametrize("name", ["ferumoxytol", "Feraheme", "Rienso"])
def test_ferumoxytol_brands_are_an_iron_treatment(name):
    document = assess_json("-m", name)
    (note,) = document["notes"]
    assert note["resolved"] == "ferumoxytol" and note["relation"] == "treatment"


@pytest.mark.parametrize("name", ["vitamin C", "ascorbic acid"])
def test_vitamin_c_is_an_rls_treatment_on_dialysis(name):
    document = assess_json("-m", name)
    (note,) = document["notes"]
    assert note["relation"] == "treatment" and "dialysis" in note["text"]
    assert {r["id"] for r in note["references"]} == {"AASM24"}


@pytest.mark.parametrize("pair", [("timolol eye drops", "Timoptic"), ("sodium oxybate", "Xyrem"),
                                  ("desipramine", "protriptyline"), ("timolol ophthalmic", "timolol")])
def test_same_drug_or_class_gets_the_same_answer(pair):
    first, second = (assess_json("-m", name) for name in pair)
    assert finding_ids(first) == finding_ids(second)
    assert [f["certainty"] for f in first["findings"]] == [f["certainty"] for f in second["findings"]]
    assert len(first["isolated_reports"]) == len(second["isolated_reports"])


def test_desipramine_is_flagged_through_its_class():
    (finding,) = assess_json("-m", "desipramine")["findings"]
    assert finding["id"] == "drug.antidepressant" and finding["matched"][0]["relation"] == "cause-class"


def test_melatonin_is_a_weak_aggravator():
    (finding,) = assess_json("-m", "melatonin")["findings"]
    assert finding["id"] == "drug.melatonin" and finding["certainty"] == "weak"
    assert finding["evidence"] == "small experiment"
    assert {r["id"] for r in finding["references"]} == {"WHITTOM10"}


# -- sources ---------------------------------------------------------------------------------------

WEAK_SOURCES = {
    "mirror": ('url: "https://docksci.com/restless-legs-syndrome-induced-by-lithium.html"', "source_hosts"),
    "staging": ('url: "https://test.communityhealth.mayoclinic.org/featured-stories/restless-leg-syndrome"',
                "source_hosts"),
    "ai site": ('url: "https://www.droracle.ai/articles/645060/rls"', "source_hosts"),
    "none": ('year: 2020', "needs a doi, a pmid or a url"),
    "bad doi": ('doi: "doi:10.5664/jcsm.11390"', "is not a DOI"),
}


@pytest.mark.parametrize("kind", sorted(WEAK_SOURCES))
def test_weak_source_is_refused_with_file_and_line(tmp_path, kind):
    field, message = WEAK_SOURCES[kind]
    extra = tmp_path / "weak.yaml"
    extra.write_text(f"sources:\n  - id: WEAK1\n    title: \"Some author. A study. J Example 2020\"\n"
                     f"    {field}\n    type: OBS\n")
    result = rlscheck("kb", "validate", extra)
    assert result.exit_code == 3
    output = result.stdout + result.stderr
    pattern = rf"{re.escape(str(extra))}:[234]:5: \[error\] .*{re.escape(message)}.*\[WEAK1\] \(source\)"
    assert re.search(pattern, output), output


@pytest.mark.parametrize("note", ["via institutional proxy", "read via PubMed mirror", "not directly readable here",
                                  "as quoted on a forum"])
def test_title_with_an_internal_note_is_refused(tmp_path, note):
    extra = tmp_path / "title.yaml"
    extra.write_text(f"sources:\n  - id: WEAK2\n    title: \"BMJ Best Practice. Restless legs syndrome, {note}\"\n"
                     f"    pmid: \"12345678\"\n    type: POC\n")
    result = rlscheck("kb", "validate", extra)
    assert result.exit_code == 3
    assert f"{extra}:3:5:" in result.stdout + result.stderr and "title has a note" in result.stdout + result.stderr


def test_consumer_page_alone_cannot_support_a_probable_claim(tmp_path):
    extra = tmp_path / "consumer.yaml"
    extra.write_text("""sources:
  - id: SHOP1
    title: "RLS-UK. Treatment"
    url: "https://www.rls-uk.org/treatment"
    type: CON
conditions:
  - id: condition.examplitis
    name: Examplitis
    relation: cause
    certainty: probable
    evidence: [CON]
    references: [SHOP1]
    explanation: Linked by a patient page.
""")
    result = rlscheck("kb", "validate", extra)
    assert result.exit_code == 3
    output = result.stdout + result.stderr
    assert f"{extra}:12:" in output and "only consumer-level" in output and "[condition.examplitis]" in output
    weak = extra.read_text().replace("certainty: probable", "certainty: weak")
    extra.write_text(weak)
    assert rlscheck("kb", "validate", extra).exit_code == 0


def test_extra_file_may_allow_a_host(tmp_path):
    extra = tmp_path / "hosts.yaml"
    extra.write_text('source_hosts: [example-journal.org]\nsources:\n  - id: OK1\n'
                     '    title: "Author A. A study. Example J 2020"\n'
                     '    url: "https://example-journal.org/a/1"\n    type: OBS\n')
    assert rlscheck("kb", "validate", extra).exit_code == 0


def test_every_shipped_source_is_traceable(kb):
    hosts = {"doi.org", "pubmed.ncbi.nlm.nih.gov", "pmc.ncbi.nlm.nih.gov"}
    weak = ("scribd", "docksci", "coek.info", "droracle", "staging", "//test.", "lifextenders", "nexusnews",
            "archyde", "uptodatefree", "ketaminenightmares", "proxy", "parentingbanter", "healthfully")
    for source_id in kb.sources:
        source = kb.sources[source_id]
        url = source.get("url") or ""
        assert not any(word in url for word in weak), source_id
        assert not re.search(r"\b(via|mirror|proxy|not directly readable)\b", source["title"]), source_id
        assert source.get("doi") or source.get("pmid") or url or source["type"] == "ART", source_id
    assert sum(1 for s in kb.sources if re.match(r"https://(" + "|".join(hosts) + ")/",
                                                  kb.sources[s].get("url") or "")) >= 40


def test_standalone_file_without_a_host_list_uses_the_shipped_one(tmp_path):
    extra = tmp_path / "alone.yaml"
    extra.write_text('sources:\n  - id: OK2\n    title: "Author A. A study. Example J 2020"\n'
                     '    url: "https://pubmed.ncbi.nlm.nih.gov/123"\n    type: OBS\n')
    assert rlscheck("kb", "validate", "--standalone", extra).exit_code == 0
    extra.write_text(extra.read_text().replace("pubmed.ncbi.nlm.nih.gov", "docksci.com"))
    assert rlscheck("kb", "validate", "--standalone", extra).exit_code == 3
