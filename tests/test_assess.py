"""assess as users run it: findings, JSON contract and schema, exit codes."""

import json
from importlib import resources

import jsonschema
import pytest

from conftest import assess_json, finding_ids, rlscheck


def schema():
    return json.loads(resources.files("rlscheck").joinpath("schemas/assess.schema.json").read_text())


def test_paroxetine_and_pregnancy_both_found_with_explanations():
    result = rlscheck("assess", "--med", "paroxetine", "--condition", "pregnancy")
    assert result.exit_code == 0
    assert "Antidepressants" in result.stdout and "Pregnancy" in result.stdout
    assert "does not diagnose" in result.stdout
    document = assess_json("--med", "paroxetine", "--condition", "pregnancy")
    assert finding_ids(document) == {"drug.antidepressant", "condition.pregnancy"}
    for finding in document["findings"]:
        assert len(finding["explanation"]) > 80


def test_contract_example_paxil_chain():
    document = assess_json("-m", "Paxil")
    (finding,) = document["findings"]
    assert finding["id"] == "drug.antidepressant" and finding["kind"] == "medication"
    assert finding["category"] == "secondary-cause" and finding["title"] == "Antidepressants"
    (matched,) = finding["matched"]
    assert matched["input"] == "Paxil" and matched["resolved"] == "paroxetine"
    assert matched["via"] == ["brand of paroxetine", "SSRI", "antidepressant"]
    assert matched["relation"] == "cause" and "cohort" in matched["detail"]


@pytest.mark.parametrize("args", [
    ["-m", "Paxil", "-c", "pregnancy"],
    ["-m", "Zoloft", "-m", "Benadryl", "--lab", "ferritin=40"],
    ["-m", "gabapentin", "-m", "metformin", "-m", "parxetine", "-w", "lorazepam", "-s", "coffee", "-r", "stress"],
    ["-m", "pramipexole", "-c", "E11.42", "-c", "ESRD", "--lab", "tsat=15%", "--lab", "egfr=12"],
])
def test_json_matches_schema_and_keeps_every_input(args):
    document = assess_json(*args)
    jsonschema.validate(document, schema())
    given = [args[i + 1] for i in range(0, len(args), 2)]
    seen = [m["input"] for f in document["findings"] for m in f["matched"]]
    for section in ("isolated_reports", "notes", "not_linked", "unrecognized"):
        seen += [item["input"] for item in document[section]]
    for value in given:
        assert value in seen, f"{value} was dropped"


def test_nothing_found_says_primary_rls_is_most_common():
    document = assess_json("-c", "COPD")  # covered: its sources show no link
    assert document["findings"] == []
    assert "Primary (idiopathic) RLS" in document["summary"]
    unchecked = assess_json("-m", "metformin")  # outside the knowledge base: never the reassurance
    assert "Primary" not in unchecked["summary"] and "could not be checked" in unchecked["summary"]
    assert unchecked["not_linked"][0]["resolved"] == "metformin"


def test_an_empty_record_is_nothing_to_assess_not_reassurance():
    import rlscheck as api

    for record in ({}, {"id": "x"}, {"meds": []}):
        summary = api.assess_record(record)["summary"]
        assert summary.startswith("Nothing to assess") and "Primary" not in summary


def test_misspelling_is_never_corrected():
    document = assess_json("-m", "parxetine", "-m", "hydroxizine")
    assert document["findings"] == []
    suggestions = {u["input"]: u["suggestions"] for u in document["unrecognized"]}
    assert "paroxetine" in suggestions["parxetine"]
    assert "hydroxyzine" in suggestions["hydroxizine"]


def test_strict_turns_unrecognized_into_exit_2():
    result = rlscheck("assess", "-m", "parxetine", "--strict")
    assert result.exit_code == 2
    assert "parxetine" in result.stderr and "paroxetine" in result.stderr
    assert result.stdout == ""


def test_fail_on_findings_exit_codes():
    assert rlscheck("assess", "-m", "Benadryl", "--fail-on-findings", "-f", "json").exit_code == 1
    assert rlscheck("assess", "-m", "loratadine", "--fail-on-findings", "-f", "json").exit_code == 0


def test_one_finding_per_cause_lists_every_input():
    document = assess_json("-m", "Zoloft 50 mg", "-m", "Paxil CR", "-m", "SSRI")
    (finding,) = document["findings"]
    assert [m["input"] for m in finding["matched"]] == ["Zoloft 50 mg", "Paxil CR", "SSRI"]


def test_markdown_report_has_sections_and_disclaimer():
    result = rlscheck("assess", "-m", "Benadryl", "-w", "lorazepam", "--format", "markdown")
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("# Restless legs")
    assert "## May cause or worsen RLS" in text and "## Withdrawal" in text
    assert "## What to check next" in text and "does not diagnose" in text


def test_diagnostics_never_reach_stdout():
    result = rlscheck("assess", "--lab", "ferritin=-3", "-f", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "ferritin" in result.stderr
