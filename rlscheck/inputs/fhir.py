"""Read medications, conditions and lab results from FHIR R4 JSON (and the STU3 and R5 shapes
of the same fields): a Bundle of any type, one resource, or NDJSON (Bulk Data export: one
resource a line), gzip'd or not.

Current medication requests, statements, dispenses and administrations and current
conditions become inputs; LOINC-coded Observations become lab values (fhirlabs). Records
that are not current become skipped inputs, grouped by name and status ("oxycodone: 412
stopped orders"), so the report says what was left out and why without one line per record.
Every resource type that is not read is counted in a note. Reason codes (such as "Restless
legs") are never read as conditions. Each stage is one pass over the resources.
"""

import json
import re

from rlscheck.inputs.codesystems import ICD10, RXNORM, SNOMED, SYSTEM_NAMES, codings
from rlscheck.model import Input
from rlscheck.errors import UsageError
from rlscheck.textsafe import safe

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
IPS_ABSENT = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"  # IPS 1.x
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
# "No information available" (the general form in IPS 2), "No current problems or disability"
NO_INFORMATION_SNOMED = {"1287211007", "160245001"}
MEDICATIONS = ("MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration")
# Resource types read (or used to read others); every other type is counted in a note.
READ = frozenset(MEDICATIONS + ("Condition", "Observation", "Medication", "Bundle", "OperationOutcome", "Patient"))
# Per resource type: statuses assessed as current; every other status is skipped.
CURRENT_STATUS = {
    "MedicationRequest": {"active", "on-hold", "unknown", None},
    "MedicationStatement": {"active", "on-hold", "intended", "unknown", "recorded", None},  # recorded: R5
    "MedicationDispense": {"completed", "in-progress", "on-hold", "preparation", "unknown", None},
    "MedicationAdministration": {"completed", "in-progress", "on-hold", "unknown", None},
}
RECORD_NOUN = {"MedicationRequest": "order", "MedicationStatement": "statement", "MedicationDispense": "dispense",
               "MedicationAdministration": "administration", "Condition": "condition record"}
STOPPED = {"stopped", "completed"}  # a medicine taken until lately: --withdrawal may apply
CURRENT_CLINICAL = {"active", "recurrence", "relapse", None}
NOT_VERIFIED = {"refuted", "entered-in-error"}
UNCERTAIN = {"provisional", "differential", "unconfirmed"}
SHOWN_SOURCES = 3


def read_source(path):
    """The resources of a FHIR JSON or NDJSON file ('-' for stdin): a list of dicts (one
    document, or one a line), or UsageError."""
    from rlscheck.inputs.files import read_bounded

    raw = read_bounded(path, MAX_BYTES, "FHIR file", "; screen large exports with `rlscheck batch`")
    if raw[:2] == b"\x1f\x8b":  # gzip, as Bulk Data servers may serve NDJSON (.ndjson.gz)
        raw = _gunzip(raw, path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"FHIR file '{safe(path)}' is not UTF-8 text") from None
    if not text.strip():  # an empty file: an export of a type with no resources
        return []
    try:
        return _loads(text)
    except RecursionError:
        raise UsageError(f"FHIR file '{safe(path)}' is nested too deeply") from None
    except ValueError as error:
        if "Extra data" not in str(error):
            raise UsageError(f"FHIR file '{safe(path)}' is not valid JSON: {safe(error)}") from None
    return read_ndjson(text.splitlines(), path)


def _gunzip(raw, path):
    """The bytes a gzip file holds, at most MAX_BYTES of them; UsageError when it is damaged."""
    import gzip
    import io
    import zlib

    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as handle:
            data = handle.read(MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise UsageError(f"FHIR file '{safe(path)}' is not a readable gzip file: {safe(error)}") from None
    if len(data) > MAX_BYTES:
        raise UsageError(f"FHIR file '{safe(path)}' holds more than {MAX_BYTES // (1024 * 1024)} MB once "
                         "uncompressed; screen large exports with `rlscheck batch`")
    return data


def read_ndjson(lines, label):
    """NDJSON: one resource a line (blank lines ignored); UsageError names the bad line."""
    resources = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            resource = _loads(line)
        except RecursionError:
            raise UsageError(f"FHIR NDJSON file '{safe(label)}', line {number}: nested too deeply") from None
        except ValueError as error:
            raise UsageError(f"FHIR NDJSON file '{safe(label)}', line {number}: not valid JSON: {safe(error)}") from None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise UsageError(f"FHIR NDJSON file '{safe(label)}', line {number}: not a FHIR resource (no "
                             "resourceType)")
        resources.append(resource)
    return resources


def _loads(text):
    """orjson first (fast); what it refuses, the standard library reads or explains (ValueError)."""
    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class Extract:
    """What was read from FHIR: inputs, lab values, notes about the input itself, the patients
    named, and how many clinical records (medications, conditions, observations) it held."""

    def __init__(self):
        self.inputs, self.labs, self.notes = [], [], []
        self.patients = {}  # normalised patient reference -> first label that named it
        self.records = 0
        self.outcomes = []  # "severity: text" of each OperationOutcome issue
        self.empty_reason = ""  # set when the input held no clinical record at all

    def note(self, label, text, relation="fhir", source="", kind="source"):
        note = {"input": label, "kind": kind, "resolved": "", "text": text, "relation": relation}
        if source:
            note["source"] = source
        self.notes.append(note)


def extract(kb, documents, into=None):
    """Read every (document, label): a parsed JSON value or a list of resources (NDJSON).
    kb (optional) maps RxNorm and LOINC codes; without it Observations are only counted."""
    extract = into or Extract()
    for document, label in documents:
        resources = document if isinstance(document, list) else [document]
        if not resources:
            extract.note(safe(label), "The file holds no resources.")
        reader = _Reader(kb, extract, label)
        for number, resource in enumerate(resources, start=1):
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                where = "" if resource is document else f", item {number} of its list"
                raise UsageError(f"{safe(label)}{where} is not a FHIR resource (no resourceType)")
            reader.index(resource, 0)
        for resource in resources:
            reader.walk(resource)
        if len(resources) == 1 and not reader.seen_supported and resources[0]["resourceType"] not in (
                "Bundle", "OperationOutcome"):
            raise UsageError(
                f"{safe(label)}: resourceType '{safe(resources[0]['resourceType'])}' is not supported; give a "
                "Bundle, NDJSON, MedicationRequest, MedicationStatement, MedicationDispense, "
                "MedicationAdministration, Condition or Observation")
        reader.finish()
    return extract


# What a Bundle can hold that is not a resource of a type (counted among what is not read)
_NOT_A_TYPE_PLURAL = {"entry without a resource": "entries without a resource",
                      "resource without resourceType": "resources without resourceType"}


class _Reader:
    def __init__(self, kb, extract, label):
        self.kb, self.extract, self.label = kb, extract, label
        self.seen_supported = False
        self.by_reference = {}
        self.groups = {}  # (kind, text, note, codes, parts) -> [sources]: repeated records said once
        self.not_read = {}  # resource type -> count
        self.patient_refs = set()  # subject references already looked at
        self.dated = []  # dispenses and administrations: (name, source, date, type, parts)
        self.latest_date = ""  # the most recent date of any record, as YYYY-MM-DD
        self.observations = None
        if kb is not None:
            from rlscheck.inputs.fhirlabs import Observations

            self.observations = Observations(kb, extract)

    def index(self, resource, depth):
        """fullUrl and Type/id of every resource, to follow medicationReference."""
        if depth > MAX_DEPTH:
            raise UsageError(f"{safe(self.label)}: FHIR document is nested too deeply")
        if resource.get("resourceType") == "Bundle":
            for entry in _list(resource.get("entry")):
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    if isinstance(entry.get("fullUrl"), str):
                        self.by_reference[entry["fullUrl"]] = entry["resource"]
                    self.index(entry["resource"], depth + 1)
        elif isinstance(resource.get("id"), str):
            self.by_reference[f"{resource.get('resourceType')}/{resource['id']}"] = resource

    def walk(self, resource):
        """Read every resource; `index` has gone through the same Bundles, deep ones refused."""
        kind = resource.get("resourceType")
        if kind == "Bundle":
            for entry in _list(resource.get("entry")):
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    self.walk(entry["resource"])
                else:  # a bare fullUrl, a transaction response: nothing to read, but counted
                    self.not_read["entry without a resource"] = self.not_read.get("entry without a resource", 0) + 1
            return
        if kind in MEDICATIONS or kind in ("Condition", "Observation"):
            self.seen_supported = True
            self.extract.records += 1
            self._patient(resource.get("subject") or resource.get("patient"))
            if kind == "Condition":
                self._condition(resource)
            elif kind == "Observation":
                self._observation(resource)
            else:
                self._medication(resource)
        elif kind == "OperationOutcome":
            self._outcome(resource)
        elif kind == "Patient" and isinstance(resource.get("id"), str):
            self._patient({"reference": f"Patient/{resource['id']}"})
        elif kind not in READ:
            kind = kind if isinstance(kind, str) else "resource without resourceType"
            self.not_read[kind] = self.not_read.get(kind, 0) + 1

    def _patient(self, reference):
        ref = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(ref, str) or not ref or ref in self.patient_refs:
            return
        self.patient_refs.add(ref)
        key = _patient_key(ref, self.by_reference)
        if key:
            self.extract.patients.setdefault(key, self.label)

    def _source(self, resource):
        return f"{resource.get('resourceType')}/{resource.get('id', '?')}"

    def _add(self, kind, text, source, note="", codes=(), parts=()):
        """Collect one record; identical records (same name, kind and status) become one input."""
        self.groups.setdefault((kind, text, note, tuple(codes), tuple(parts)), []).append(source)

    # -- medications -----------------------------------------------------------------

    def _medication(self, resource):
        source = self._source(resource)
        kind = resource["resourceType"]
        status = resource.get("status") if isinstance(resource.get("status"), str) else None
        name, parts, absent = self._medication_name(resource)
        absent = absent or _says_none(name)
        if absent:
            self.extract.note(absent, "The record states this; nothing to assess.", "no-information", source,
                              "medication")
            return
        if not name:
            self._add("medication", source, source, "no medication name or code in this record")
            return
        if resource.get("doNotPerform") is True:  # an order NOT to give it: never a medicine taken
            self._add("medication", name, source, f"skip:{kind}:do-not-perform", parts=parts)
            return
        intent = resource.get("intent") if kind == "MedicationRequest" else None
        if kind == "MedicationRequest" and (status == "draft" or intent in ("proposal", "plan")) and \
                status not in ("cancelled", "entered-in-error", "stopped", "completed"):
            what = "A draft order (not yet signed)" if status == "draft" else f"A {intent}, not an order"
            self.extract.note(name, f"{what}: assessed as a proposed medication.", "proposed", source, "medication")
            self._add("medication", name, f"{source} ({'draft order' if status == 'draft' else intent})", "",
                      parts=parts)
            return
        if status not in CURRENT_STATUS[kind]:
            self._add("medication", name, source, f"skip:{kind}:{status}", parts=parts)
            return
        if kind == "MedicationStatement" and resource.get("taken") == "n":  # FHIR STU3: stated as not taken
            self._add("medication", name, source, f"skip:{kind}:not-taken", parts=parts)
            return
        when = _medication_date(resource)
        if when:  # a dispense or administration: current unless long before the latest record
            self.dated.append((name, f"{source} ({when[0]} {when[1]})", when[1], kind, parts))
            self._saw_date(when[1])
            return
        if isinstance(resource.get("authoredOn"), str):
            self._saw_date(resource["authoredOn"][:10])
        self._add("medication", name, source, "", parts=parts)

    def _saw_date(self, date):
        self.latest_date = max(self.latest_date, date)

    def _medication_name(self, resource):
        """(name, ingredient names, IPS no-information text): code.text, then codings'
        displays, then the reference's display, then RxCUIs the knowledge base knows; a bare
        code is the last resort."""
        concept = resource.get("medicationCodeableConcept")
        reference = resource.get("medicationReference")
        r5 = resource.get("medication")  # FHIR R5: a CodeableReference, a concept or a reference
        if isinstance(r5, dict) and not isinstance(concept, dict) and not isinstance(reference, dict):
            concept, reference = r5.get("concept"), r5.get("reference")
        if isinstance(concept, dict):
            return _display(concept) or self._from_codes(concept), self._rxnorm_parts(concept), _absent(concept)
        if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
            return "", (), ""
        medication = self._dereference(resource, reference["reference"])
        ref_display = reference.get("display") if isinstance(reference.get("display"), str) else ""
        if medication is None:
            return ref_display.strip() or reference["reference"], (), ""
        code = medication.get("code") if isinstance(medication.get("code"), dict) else {}
        ingredients, mapped = [], []  # names the record gives; names its RxCUIs map to
        for ingredient in _list(medication.get("ingredient")):
            if not isinstance(ingredient, dict):
                continue
            item = ingredient.get("itemCodeableConcept")
            if not isinstance(item, dict):  # R5: item is a CodeableReference
                item = ingredient.get("item")
                item = item.get("concept") if isinstance(item, dict) else None
            named = _display(item)
            if not named:  # the helpers give nothing for an item that is not a concept
                mapped += self._rxnorm_parts(item)
                named = self._from_codes(item)
            reference = ingredient.get("itemReference")  # a Substance or Medication, by its display
            if not named and isinstance(reference, dict) and isinstance(reference.get("display"), str):
                named = reference["display"].strip()
            if named:
                ingredients.append(named)
        mapped += self._rxnorm_parts(code)
        name = _display(code) or ref_display.strip() or " + ".join(ingredients) or self._from_codes(code)
        return name, tuple(dict.fromkeys(ingredients + mapped)), _absent(code)

    def _rxnorm_parts(self, concept):
        """Names of knowledge-base drugs (or, from a loaded RxNorm release, ingredients) that the
        concept's RxCUIs map to: tried when the name itself is not recognised."""
        if self.kb is None:
            return ()
        names = []
        for coding in codings(concept):
            if coding.get("system") == RXNORM:
                names += _rxcui_names(self.kb, coding["code"])
        return tuple(dict.fromkeys(names))

    def _from_codes(self, concept):
        """A name from codes alone, as the record gives it: an RxCUI the knowledge base or a
        loaded RxNorm knows ('RxNorm 218986', read through the names it maps to: the parts),
        else the first code labelled with its system ('RxNorm 312938')."""
        coded = codings(concept)
        for coding in coded:
            if coding.get("system") == RXNORM and self.kb is not None and _rxcui_names(self.kb, coding["code"]):
                return f"RxNorm {coding['code'].strip()}"
        for coding in coded:
            return f"{SYSTEM_NAMES.get(coding.get('system'), 'code')} {coding['code'].strip()}"
        return ""

    def _dereference(self, resource, reference):
        if reference.startswith("#"):
            return next((contained for contained in _list(resource.get("contained"))
                         if isinstance(contained, dict) and contained.get("id") == reference[1:]), None)
        found = self.by_reference.get(reference)
        if found is None and "/" in reference:  # an absolute URL to a resource given by Type/id
            found = self.by_reference.get("/".join(reference.rstrip("/").split("/")[-2:]))
        return found

    # -- conditions ----------------------------------------------------------------------

    def _condition(self, resource):
        source = self._source(resource)
        code = resource.get("code") if isinstance(resource.get("code"), dict) else {}
        absent = _absent(code) or _says_none(_display(code))
        if absent:
            self.extract.note(absent, "The record states this; nothing to assess.", "no-information", source,
                              "condition")
            return
        clinical = _status_code(resource.get("clinicalStatus"))
        verification = _status_code(resource.get("verificationStatus"))
        skipped = ""
        if verification in NOT_VERIFIED:
            skipped = f"verification:{verification}"
        elif clinical not in CURRENT_CLINICAL:
            skipped = f"clinical:{clinical}"
        elif clinical is None and _abated(resource):  # no status, but an end: FHIR reads it as resolved
            skipped = f"clinical:resolved, abated {_abated(resource)}"
        codes = codings(code)
        text = _display(code) or (codes[0]["code"].strip() if codes else "")
        if not text:
            self._add("condition", source, source, "no condition name or code in this record")
            return
        lookups = [c["code"] for c in codes if c.get("system") in ICD10 + (SNOMED,)]
        if verification in UNCERTAIN and not skipped:
            self.extract.note(text, f"Verification status {verification}: the diagnosis is not confirmed, so "
                                    "what it links to is uncertain.", "unconfirmed", source, "condition")
            source = f"{source} ({verification} diagnosis)"
        self._add("condition", text, source, skipped, lookups)

    # -- observations, outcomes -------------------------------------------------------------

    def _observation(self, resource):
        if self.observations is None:
            self.not_read["Observation"] = self.not_read.get("Observation", 0) + 1
            return
        self.observations.add(resource, self._source(resource))

    def _outcome(self, resource):
        for issue in _list(resource.get("issue")):
            if not isinstance(issue, dict):
                continue
            text = _display(issue.get("details")) or (issue.get("diagnostics") if isinstance(issue.get("diagnostics"), str)
                                         else "") or str(issue.get("code") or "no details")
            severity = issue.get("severity") if isinstance(issue.get("severity"), str) else "information"
            self.extract.outcomes.append(f"{severity}: {text}")
            self.extract.note("OperationOutcome", f"The server reported ({severity}): {text}", "outcome",
                              self._source(resource) if isinstance(resource.get("id"), str) else "")

    def finish(self):
        """Turn the groups into inputs and say what was not read."""
        if self.observations is not None:
            self._saw_date(self.observations.latest_date())
        cutoff = _year_before(self.latest_date)
        for name, source, date, kind, parts in self.dated:
            note = f"old:{kind}:{self.latest_date}" if cutoff and date < cutoff else ""
            self._add("medication", name, source, note, parts=parts)
        for (kind, text, note, codes, parts), sources in self.groups.items():
            count = len(sources)
            shown = ", ".join(sources[:SHOWN_SOURCES])
            if count > SHOWN_SOURCES:
                shown += f" and {count - SHOWN_SOURCES} more"
            skipped = _skip_text(note, count) if note.startswith(("skip:", "clinical:", "verification:", "old:")) \
                else note
            self.extract.inputs.append(Input(kind, text, shown, skipped, codes, parts))
        if self.observations is not None:
            self.observations.finish()
        if self.not_read:
            counted = ", ".join(f"{count} {_NOT_A_TYPE_PLURAL.get(kind, kind) if count > 1 else kind}"
                                for kind, count in sorted(self.not_read.items(), key=lambda item: (-item[1], item[0])))
            self.extract.note(safe(self.label), f"Not read: {counted} (rlscheck reads medications, conditions and "
                                                "lab results).", "not-read")


def _patient_key(ref, by_reference):
    """'Patient/id' that a subject reference names, or None for a Group or another subject. A
    'urn:uuid:' reference to no resource in the input names the Patient whose id is that uuid
    (as Synthea and Bulk Data exports write it); another 'urn:' reference is kept as it is."""
    ref = ref.split("/_history/", 1)[0]  # a versioned reference names the same patient
    target = by_reference.get(ref)
    if isinstance(target, dict) and target.get("resourceType") == "Patient" and isinstance(target.get("id"), str):
        ref = f"Patient/{target['id']}"
    elif target is None and ref.startswith("urn:uuid:") and len(ref) > 9:
        return f"Patient/{ref[9:]}"
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "Patient":
        return "/".join(parts[-2:])
    if ref.startswith("urn:") and target is None:
        return ref
    return None


def patient_ids(resource):
    """The ids of the patients a FHIR resource or Bundle names (its Patient resources and the
    subject/patient of its records), in order of appearance: 'Patient/abc' gives 'abc', a
    'urn:uuid:' reference to a patient not in the Bundle its uuid."""
    by_reference, resources, stack = {}, [], [(resource, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            break
        resources.append(item)
        if item.get("resourceType") == "Bundle":
            entries = [entry for entry in _list(item.get("entry"))
                       if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)]
            for entry in entries:
                if isinstance(entry.get("fullUrl"), str):
                    by_reference[entry["fullUrl"]] = entry["resource"]
            stack += [(entry["resource"], depth + 1) for entry in reversed(entries)]
    keys = {}
    for item in resources:
        if item.get("resourceType") == "Patient" and isinstance(item.get("id"), str):
            keys[f"Patient/{item['id']}"] = True
            continue
        for field in ("subject", "patient"):
            reference = item.get(field)
            ref = reference.get("reference") if isinstance(reference, dict) else None
            key = _patient_key(ref, by_reference) if isinstance(ref, str) and ref else None
            if key:
                keys[key] = True
                break
    return [key if key.startswith("urn:") else key.split("/", 1)[1] for key in keys]


def _skip_text(note, count):
    """Why records were skipped, with their number when there are several."""
    family, _, rest = note.partition(":")
    if family == "old":
        kind, _, latest = rest.partition(":")
        what = f"{count} {RECORD_NOUN[kind]}s" if count > 1 else f"A {RECORD_NOUN[kind]}"
        return (f"{what} more than a year before the latest record here ({latest}); not assessed as a "
                "medicine taken now.")
    if family == "skip":
        kind, _, status = rest.partition(":")
        hint = " If it was stopped recently, enter it with --withdrawal." if status in STOPPED else ""
        if status == "do-not-perform":
            what = f"{count} orders" if count > 1 else "An order"
            return f"{what} not to give this (doNotPerform); not assessed as a medicine taken."
        if count == 1:
            return f"Not current (status {status}); not assessed.{hint}"
        return f"{count} {status} {RECORD_NOUN[kind]}s; not assessed.{hint}"
    if family == "verification":
        if count > 1:
            return f"{count} condition records with verification status {rest}; not assessed."
        return f"Not assessed: verification status {rest}."
    if count > 1:
        return f"{count} condition records with clinical status {rest}; not current, not assessed."
    return f"Not current (clinical status {rest}); not assessed."


def _rxcui_names(kb, code):
    """Knowledge-base names for an RxCUI: a drug coded in the knowledge base, else the
    ingredients a loaded RxNorm release gives for it."""
    entry_id = kb.rxcui.get(str(code).strip())
    if entry_id:
        return [kb.get(entry_id)["name"]]
    from rlscheck.resolve import rxnorm

    return rxnorm.ingredients(str(code).strip())


def _list(value):
    return value if isinstance(value, list) else []


def _display(concept):
    """The concept's text, else its codings' first display; never a bare code."""
    if not isinstance(concept, dict):
        return ""
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for coding in _list(concept.get("coding")):
        if isinstance(coding, dict) and isinstance(coding.get("display"), str) and coding["display"].strip():
            return coding["display"].strip()
    return ""


def _absent(concept):
    """The display of an IPS 'no information' / 'none known' code, else ''."""
    for coding in codings(concept):
        system = coding.get("system")
        if system in (IPS_ABSENT, DATA_ABSENT) or (system == SNOMED and coding["code"] in NO_INFORMATION_SNOMED):
            display = coding.get("display") if isinstance(coding.get("display"), str) else ""
            return display.strip() or _display(concept) or f"no information ({coding['code']})"
    return ""


def _abated(resource):
    """When (or that) a condition ended: its abatement[x] as text, else ''."""
    for key, value in resource.items():
        if key.startswith("abatement") and value not in (None, False, "", {}):
            if isinstance(value, str):
                return value[:10]
            if isinstance(value, dict):
                when = value.get("end") or value.get("start") or value.get("value")
                return str(when)[:10] if isinstance(when, (str, int, float)) else "recorded"
            return "recorded"
    return ""


# What C-CDA converters and EHRs write as a record's name to say there is nothing to list
_NONE = re.compile(r"(?:no|none|nil|denies)(?: known| current| active| current or active| reported| documented)?"
                   r"(?: home| outpatient| prescription| regular)?"
                   r" (?:medications?|meds|medicines?|drugs?|problems?|conditions?|diagnos[ie]s|medical problems?)"
                   r"(?: known| reported| documented| on file| at this time)?|none(?: known| reported)?|nkm",
                   re.IGNORECASE)


def _says_none(text):
    """The text itself, when it states there is nothing ('No known medications'), else ''."""
    return text if text and len(text) < 80 and _NONE.fullmatch(text.strip(" .")) else ""


def _status_code(value):
    """A status as a code: a CodeableConcept's first code, or (FHIR STU3) a plain string."""
    if isinstance(value, str):
        return value.strip() or None
    return next((coding["code"] for coding in codings(value)), None)


def _medication_date(resource):
    """(verb, YYYY-MM-DD) when a dispense was handed over or an administration given, else None."""
    kind = resource.get("resourceType")
    if kind == "MedicationDispense" and isinstance(resource.get("whenHandedOver"), str):
        return "handed over", resource["whenHandedOver"][:10]
    if kind == "MedicationAdministration":  # R5 spells it occurence[x]
        period = resource.get("effectivePeriod") or resource.get("occurencePeriod")
        when = resource.get("effectiveDateTime") or resource.get("occurenceDateTime") or \
            (period.get("start") if isinstance(period, dict) else None)
        if isinstance(when, str):
            return "given", when[:10]
    return None


def _year_before(date):
    """The date a year before a YYYY-MM-DD date, or '' when there is none or it is not a date."""
    try:
        year, month, day = int(date[:4]), date[5:7], date[8:10]
    except ValueError:
        return ""
    return f"{year - 1:04d}-{month}-{day}" if len(date) >= 10 else ""


def read_files(kb, paths):
    """Everything read from the --fhir files, as one person's record. UsageError when the
    files (or one file) name different patients: that is a batch, not one person."""
    result = Extract()
    for path in paths:
        extract(kb, [(read_source(path), "standard input" if path == "-" else path)], result)
    if len(result.patients) > 1:
        named = "; ".join(f"{safe(ref)} in '{safe(label)}'" for ref, label in list(result.patients.items())[:5])
        raise UsageError(f"the FHIR input names {len(result.patients)} different patients ({named}); "
                         "assess reads one person: give one person's files, or screen several people with "
                         "`rlscheck batch`")
    if len(paths) > 1 and not result.patients:
        result.note("FHIR input", f"{len(paths)} files were read as one person's record; none names its patient.")
    return result


_REFERENCE = re.compile(r"#\S+|(?:\S+/)?Medication/\S+|urn:(?:uuid|oid):\S+")


def annotate(document, extract, other_inputs, reassurance=""):
    """Add what the reader noticed to the assessment document: its notes, why code-only
    medications were not recognised, and a summary that never says "nothing found" when the
    FHIR input held nothing to assess or a lab's results could not be used. `reassurance`: the
    knowledge base's primary-RLS headline; it, like "nothing given", is replaced when part of the
    input was not read."""
    from rlscheck.document import NOTHING_GIVEN

    document["notes"] = extract.notes + document["notes"]
    used = {labvalue.name for labvalue in extract.labs}
    unusable = [note["input"] for note in extract.notes
                if note["relation"] == "skipped" and note["kind"] == "lab" and note["input"] not in used]
    if unusable:
        labs = " or ".join(dict.fromkeys(unusable))
        if document["summary"] in (reassurance, NOTHING_GIVEN):
            document["summary"] = ("No known secondary cause among the inputs that were read. The check is "
                                   f"incomplete: no {labs} result could be used (see the notes).")
        elif "The check is incomplete" in document["summary"]:  # said once already
            document["summary"] += f" No {labs} result could be used either (see the notes)."
        else:
            document["summary"] += f" The check is incomplete: no {labs} result could be used (see the notes)."
    elif document["summary"] == NOTHING_GIVEN and any(note["kind"] == "lab" for note in extract.notes):
        # Observations were read, only none is of a test with a rule: the record does hold lab results
        document["summary"] = ("No known secondary cause among the inputs that could be checked: the record's lab "
                               "results are of tests rlscheck has no rule for (see the notes).")
    for item in document["unrecognized"]:
        system, _, code = item["input"].partition(" ")
        if not item.get("source"):
            continue
        if code and system in SYSTEM_NAMES.values() and code.replace("-", "").isdigit():
            item["suggestions"] = []  # names that look like "RxNorm 312938" say nothing about the drug
            item["reason"] = (f"{system} {code}: not in rlscheck's tables" if system == "RxNorm" else
                              f"{system} code {code} with no name in the record; rlscheck cannot look it up")
        elif _REFERENCE.fullmatch(item["input"]):  # a medicationReference to nothing in the input
            item["suggestions"] = []
            item["reason"] = (f"the record refers to {item['input']}, which is not in the input, and gives no "
                              "name; include the Medication resources (e.g. _include=MedicationRequest:medication)")
    if extract.records == 0:
        said = "; ".join(extract.outcomes) or "no medications, conditions or lab results"
        extract.empty_reason = f"The FHIR input held nothing to assess ({said})."
        if not other_inputs:
            document["summary"] = extract.empty_reason
        document["notes"].insert(0, {"input": "FHIR input", "kind": "source", "resolved": "",
                                     "text": extract.empty_reason, "relation": "empty"})
