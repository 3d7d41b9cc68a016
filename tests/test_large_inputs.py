"""Large and deep inputs: time linear in their size, no recursion limit, bounded memory."""

import json
import time

import pytest

from conftest import rlscheck


def bundle(path, count):
    entries = []
    for number in range(count):
        if number % 2:
            resource = {"resourceType": "MedicationRequest", "id": f"m{number}", "status": "active",
                        "medicationCodeableConcept": {"text": ["sertraline", "metformin", "Paxil", "lisinopril"][number % 4]}}
        else:
            resource = {"resourceType": "Condition", "id": f"c{number}",
                        "clinicalStatus": {"coding": [{"code": "active"}]},
                        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                             "code": ["E11.9", "N18.6", "I10"][number % 3]}]}}
        entries.append({"fullUrl": f"urn:uuid:{number}", "resource": resource})
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


def cpu_seconds(*args):
    started = time.process_time()
    result = rlscheck(*args)
    assert result.exit_code == 0, result.stderr
    return time.process_time() - started, result


@pytest.mark.slow
def test_fhir_bundle_of_100k_entries_takes_linear_time(tmp_path):
    rlscheck("assess", "--fhir", bundle(tmp_path / "warm.json", 200), "-f", "json")  # vocabularies opened
    small, _ = cpu_seconds("assess", "--fhir", bundle(tmp_path / "small.json", 20_000), "-f", "json")
    large, result = cpu_seconds("assess", "--fhir", bundle(tmp_path / "large.json", 100_000), "-f", "json")
    document = result.json()
    accounted = 0
    for item in document["not_linked"]:
        listed, _, more = item.get("source", "").rpartition(" and ")
        accounted += listed.count("/") + int(more.split()[0]) if more.endswith(" more") else more.count("/")
    assert accounted >= 50_000  # every resource is there, by its source (repeated records grouped)
    assert large < 12 * max(small, 0.05), (small, large)  # five times the entries: quadratic would be 25x
    assert large < 120
