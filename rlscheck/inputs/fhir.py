"""Read medications and conditions from FHIR R4 JSON: a Bundle of any type or one resource.

Active medication requests and statements and active conditions become inputs. Stopped,
completed, resolved, refuted or entered-in-error records become skipped inputs, so the
report says what was left out and why. Reason codes (such as "Restless legs") are never
read as conditions.
"""

import json
import sys

from rlscheck.rules.engine import Input
from rlscheck.errors import UsageError
from rlscheck.textsafe import safe

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
SNOMED = "http://snomed.info/sct"
ICD10 = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
CURRENT_MEDICATION = {"active", "on-hold", "intended", "unknown", None}
CURRENT_CLINICAL = {"active", "recurrence", "relapse", None}
NOT_VERIFIED = {"refuted", "entered-in-error"}


def read_source(path):
    """Parse a FHIR JSON file (or '-' for stdin) into a Python object, or raise UsageError."""
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read FHIR file '{safe(path)}': {error.strerror or error}") from None
    if len(raw) > MAX_BYTES:
        raise UsageError(f"FHIR file '{safe(path)}' is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UsageError(f"FHIR file '{safe(path)}' is not UTF-8 text") from None
    except RecursionError:
        raise UsageError(f"FHIR file '{safe(path)}' is nested too deeply") from None
    except ValueError as error:
        raise UsageError(f"FHIR file '{safe(path)}' is not valid JSON: {safe(error)}") from None


def inputs_from(document, label="FHIR"):
    """Inputs from a parsed FHIR document; UsageError if it is not FHIR at all."""
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise UsageError(f"{safe(label)} is not a FHIR resource (no resourceType)")
    reader = _Reader(document)
    reader.walk(document, 0)
    if not reader.seen_supported and document.get("resourceType") != "Bundle":
        raise UsageError(
            f"{safe(label)}: resourceType '{safe(document['resourceType'])}' is not supported; "
            "give a Bundle, MedicationRequest, MedicationStatement or Condition")
    return reader.inputs


class _Reader:
    def __init__(self, root):
        self.inputs = []
        self.seen_supported = False
        self.by_reference = {}
        self._index(root, 0)

    def _index(self, resource, depth):
        """fullUrl and Type/id of every bundled resource, to follow medicationReference."""
        if depth > MAX_DEPTH or not isinstance(resource, dict):
            return
        if resource.get("resourceType") == "Bundle":
            for entry in _list(resource.get("entry")):
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    inner = entry["resource"]
                    if isinstance(entry.get("fullUrl"), str):
                        self.by_reference[entry["fullUrl"]] = inner
                    if isinstance(inner.get("id"), str):
                        self.by_reference[f"{inner.get('resourceType')}/{inner['id']}"] = inner
                    self._index(inner, depth + 1)

    def walk(self, resource, depth):
        if depth > MAX_DEPTH:
            raise UsageError("FHIR document is nested too deeply")
        kind = resource.get("resourceType")
        if kind == "Bundle":
            for entry in _list(resource.get("entry")):
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    self.walk(entry["resource"], depth + 1)
        elif kind in ("MedicationRequest", "MedicationStatement"):
            self.seen_supported = True
            self._medication(resource)
        elif kind == "Condition":
            self.seen_supported = True
            self._condition(resource)

    def _source(self, resource):
        return f"{resource.get('resourceType')}/{resource.get('id', '?')}"

    def _medication(self, resource):
        source = self._source(resource)
        status = resource.get("status")
        name, ingredients = self._medication_name(resource)
        if not name:
            self.inputs.append(Input("medication", source, source, "no medication name or code in this record"))
            return
        skipped = ""
        if status not in CURRENT_MEDICATION:
            skipped = (f"Not current (status {status}); not assessed. If it was stopped recently, "
                       "enter it with --withdrawal.")
        self.inputs.append(Input("medication", name, source, skipped, parts=ingredients))

    def _medication_name(self, resource):
        """The coding's display (or code) and, for a referenced Medication, its ingredients,
        which are used when the name itself is not recognised."""
        concept = resource.get("medicationCodeableConcept")
        if isinstance(concept, dict):
            return _display(concept), ()
        reference = resource.get("medicationReference")
        if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
            return "", ()
        medication = self._dereference(resource, reference["reference"])
        if medication is None:
            return reference.get("display") or reference["reference"], ()
        ingredients = tuple(
            _display(ingredient["itemCodeableConcept"])
            for ingredient in _list(medication.get("ingredient"))
            if isinstance(ingredient, dict) and _display(ingredient.get("itemCodeableConcept"))
        )
        name = _display(medication.get("code")) or reference.get("display") or ""
        return name or " + ".join(ingredients), ingredients

    def _dereference(self, resource, reference):
        if reference.startswith("#"):
            for contained in _list(resource.get("contained")):
                if isinstance(contained, dict) and contained.get("id") == reference[1:]:
                    return contained
            return None
        return self.by_reference.get(reference)

    def _condition(self, resource):
        source = self._source(resource)
        code = resource.get("code") if isinstance(resource.get("code"), dict) else {}
        display = _display(code)
        clinical = _first_code(resource.get("clinicalStatus"))
        verification = _first_code(resource.get("verificationStatus"))
        skipped = ""
        if verification in NOT_VERIFIED:
            skipped = f"Not assessed: verification status {verification}."
        elif clinical not in CURRENT_CLINICAL:
            skipped = f"Not current (clinical status {clinical}); not assessed."
        codes = [c for c in _list(code.get("coding")) if isinstance(c, dict) and isinstance(c.get("code"), str)]
        text = display or (codes[0]["code"] if codes else "")
        if not text:
            self.inputs.append(Input("condition", source, source, "no condition name or code in this record"))
            return
        lookups = [c["code"] for c in codes if c.get("system") in ICD10 + (SNOMED,)]
        self.inputs.append(Input("condition", text, source, skipped, tuple(lookups)))


def _list(value):
    return value if isinstance(value, list) else []


def _display(concept):
    """A coding's display text, else its code, else the concept's text."""
    if not isinstance(concept, dict):
        return ""
    for key in ("display", "code"):
        for coding in _list(concept.get("coding")):
            if isinstance(coding, dict) and isinstance(coding.get(key), str) and coding[key].strip():
                return coding[key].strip()
    text = concept.get("text")
    return text.strip() if isinstance(text, str) else ""


def _first_code(concept):
    for coding in _list(concept.get("coding") if isinstance(concept, dict) else None):
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            return coding["code"]
    return None
