"""The public Python API gives what the CLI gives."""

import pytest

import rlscheck
from conftest import assess_json, finding_ids


@pytest.mark.slow
def test_assess_record_matches_the_cli():
    record = {"meds": ["Zoloft", "Benadryl"], "conditions": ["N18.6"], "labs": {"ferritin": 40}}
    document = rlscheck.assess_record(record)
    cli = assess_json("-m", "Zoloft", "-m", "Benadryl", "-c", "N18.6", "--lab", "ferritin=40")
    assert finding_ids(document) == finding_ids(cli)
    assert document["disclaimer"] == cli["disclaimer"]


def test_trimester_implies_pregnancy_in_every_path():
    document = rlscheck.assess_record({"trimester": 3})
    assert "condition.pregnancy" in finding_ids(document)
    assert finding_ids(assess_json("--trimester", "3")) == finding_ids(document)


def test_screener_keeps_ids_and_reports_bad_records_without_stopping():
    screener = rlscheck.Screener(rlscheck.load_knowledge_base())
    first, second = screener.assess_many([{"id": 7, "meds": ["Reglan"]}, {"id": "x", "labs": {"ferritin": "abc"}}])
    assert first["id"] == 7 and first["findings"]
    assert second == {"id": "x", "error": second["error"]} and "ferritin" in second["error"]


def test_errors_are_documented_classes():
    assert issubclass(rlscheck.RecordError, ValueError)
    assert issubclass(rlscheck.KnowledgeBaseError, RuntimeError)
    with pytest.raises(rlscheck.RecordError):
        rlscheck.assess_record({"meds": "Zoloft", "weight": 80})
    with pytest.raises(rlscheck.KnowledgeBaseError):
        rlscheck.load_knowledge_base(["/nonexistent/extra.yaml"])


def test_a_knowledge_base_pickles_cheaply_for_worker_processes(tmp_path):
    import pickle

    extra = tmp_path / "extra.yaml"
    extra.write_text("drugs:\n  - id: drug.examplamine\n    name: examplamine\n    classes: [drug.ssri]\n"
                     "    relation: cause-class\n    evidence: [CLS]\n    references: [BMJBP]\n")
    kb = rlscheck.load_knowledge_base([str(extra)])
    copy = pickle.loads(pickle.dumps(kb))
    assert len(pickle.dumps(kb)) < 2_000  # the file list, not the data
    record = {"meds": ["examplamine", "Zoloft"]}
    assert rlscheck.assess_record(record, kb=copy) == rlscheck.assess_record(record, kb=kb)
    assert "drug.antidepressant" in finding_ids(rlscheck.assess_record(record, kb=copy))
