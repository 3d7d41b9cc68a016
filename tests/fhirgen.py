"""Generated FHIR for speed and memory tests: a large bundle, and a Bulk Data export (one
NDJSON file per resource type, resources of many patients interleaved)."""

import json
import os
import random

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
MEDS = ["sertraline 50 MG Oral Tablet", "metoclopramide 10 MG Oral Tablet", "diphenhydrAMINE 25 MG Oral Capsule",
        "lisinopril 10 MG Oral Tablet", "metformin 500 MG Oral Tablet", "oxyCODONE 5 MG Oral Tablet",
        "atorvastatin 20 MG Oral Tablet", "gabapentin 300 MG Oral Capsule", "omeprazole 20 MG Delayed Release Capsule",
        "quetiapine 25 MG Oral Tablet"]
CONDITIONS = [("N18.6", "End stage renal disease"), ("E11.42", "Type 2 diabetes mellitus with diabetic polyneuropathy"),
              ("I10", "Essential (primary) hypertension"), ("D50.9", "Iron deficiency anemia, unspecified"),
              ("J06.9", "Acute upper respiratory infection, unspecified")]
LABS = [("2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "ng/mL", (5, 300)),
        ("62238-1", "eGFR CKD-EPI", "mL/min/{1.73_m2}", (5, 120)),
        ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", (8, 17))]


def _subject(patient):
    return {"reference": f"Patient/{patient}"}


def resources(patient, rng, count):
    """`count` resources of one patient: orders (mostly stopped), conditions, labs, encounters."""
    for index in range(count):
        roll = rng.random()
        rid = f"{patient}-{index}"
        if roll < 0.45:
            yield {"resourceType": "MedicationRequest", "id": rid, "intent": "order",
                   "status": rng.choice(["stopped", "stopped", "completed", "active"]),
                   "medicationCodeableConcept": {"text": rng.choice(MEDS)}, "subject": _subject(patient)}
        elif roll < 0.55:
            code, display = rng.choice(CONDITIONS)
            yield {"resourceType": "Condition", "id": rid,
                   "clinicalStatus": {"coding": [{"code": rng.choice(["active", "resolved"])}]},
                   "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code,
                                        "display": display}]}, "subject": _subject(patient)}
        elif roll < 0.8:
            code, display, unit, (low, high) = rng.choice(LABS)
            yield {"resourceType": "Observation", "id": rid, "status": "final",
                   "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
                   "effectiveDateTime": f"20{rng.randint(10, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                   "valueQuantity": {"value": round(rng.uniform(low, high), 1), "unit": unit,
                                     "system": "http://unitsofmeasure.org", "code": unit},
                   "subject": _subject(patient)}
        else:
            yield {"resourceType": "Encounter", "id": rid, "status": "finished", "subject": _subject(patient)}


def bundle(path, count, seed=3):
    """One patient's Bundle of `count` resources."""
    rng = random.Random(seed)
    entries = [{"resource": {"resourceType": "Patient", "id": "p0"}}]
    entries += [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources("p0", rng, count - 1)]
    with open(path, "w") as out:
        json.dump({"resourceType": "Bundle", "type": "collection", "entry": entries}, out)


def bulk_export(directory, patients, per_patient=10, seed=5):
    """A Bulk Data export: Patient.ndjson plus one file per resource type, patients interleaved
    in blocks (as servers write them), about patients * per_patient resources."""
    rng = random.Random(seed)
    os.makedirs(directory, exist_ok=True)
    files = {}
    try:
        for number in range(patients):
            patient = f"p{number}"
            for resource in [{"resourceType": "Patient", "id": patient}, *resources(patient, rng, per_patient - 1)]:
                kind = resource["resourceType"]
                if kind not in files:
                    files[kind] = open(os.path.join(directory, f"{kind}.ndjson"), "w")
                files[kind].write(json.dumps(resource, separators=(",", ":")) + "\n")
    finally:
        for handle in files.values():
            handle.close()
