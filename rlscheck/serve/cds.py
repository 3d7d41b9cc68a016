"""CDS Hooks 2.0 services: discovery, the request's FHIR data to a record, findings to cards.

`order-select` and `order-sign` speak about the drugs being ordered (the `draftOrders`, which
the FHIR reader assesses as proposed medications; for order-select the `selections` among
them), in the light of the rest of the record; `patient-view` speaks about the whole record.
By default a card is shown only when restless legs syndrome is on the patient's problem list
(ICD-10-CM G25.81, SNOMED CT 32914008). A suggestion may add a draft order for a safer
alternative from the knowledge base; no suggestion ever deletes or changes an order.
"""

from __future__ import annotations

import uuid

from rlscheck.render.markdown import md

SUMMARY_MAX = 139  # the specification: "<140-character summary"
RLS_CODES = {("http://hl7.org/fhir/sid/icd-10-cm", "G25.81"), ("http://snomed.info/sct", "32914008")}
PATIENT = "{{context.patientId}}"
# The prefetch templates of every service; `prefetch_templates` adds the lab Observations.
PREFETCH = {
    "patient": f"Patient/{PATIENT}",
    "medications": f"MedicationRequest?patient={PATIENT}&status=active",
    "statements": f"MedicationStatement?patient={PATIENT}&status=active",
    "conditions": f"Condition?patient={PATIENT}&clinical-status=active",
}
# Without these the service cannot answer safely: 412 when neither prefetch nor the FHIR server gives them.
REQUIRED = ("medications", "conditions")
OVERRIDE_SYSTEM = "urn:rlscheck:cds-override-reason"
OVERRIDE_REASONS = [
    {"system": OVERRIDE_SYSTEM, "code": "benefit-outweighs-risk", "display": "Benefit outweighs the risk for this patient"},
    {"system": OVERRIDE_SYSTEM, "code": "rls-not-active", "display": "RLS is not a current concern"},
    {"system": OVERRIDE_SYSTEM, "code": "will-monitor", "display": "Will monitor RLS symptoms"},
]
SERVICES = {
    "rlscheck-order-select": ("order-select", "RLS check of a selected order",
                              "Warns when a medication just selected may cause or worsen restless legs syndrome in a "
                              "patient with RLS on the problem list, and names safer choices from rlscheck's knowledge base."),
    "rlscheck-order-sign": ("order-sign", "RLS check before signing",
                            "Warns when a medication about to be signed may cause or worsen restless legs syndrome in "
                            "a patient with RLS on the problem list, and names safer choices from rlscheck's knowledge base."),
    "rlscheck-patient-view": ("patient-view", "RLS contributors in this record",
                              "Lists medications, conditions, habits and lab results in the record that may cause or "
                              "worsen restless legs syndrome, for a patient with RLS on the problem list."),
}
USAGE = ("Needs active MedicationRequests and Conditions (prefetch, or fhirServer with fhirAuthorization); reads "
         "MedicationStatements and lab Observations (LOINC) when given. Informs; it does not diagnose.")


class RequestError(Exception):
    """The CDS request is malformed (400)."""


def prefetch_templates(kb) -> dict:
    """PREFETCH and "labs": the Observations of the labs the knowledge base grades, by the
    LOINC codes its lab entries list."""
    codes = [code for code, entry_id in kb.loinc.items() if (kb.get(entry_id) or {}).get("kind") == "lab"]
    labs = f"Observation?patient={PATIENT}&code=" + ",".join(f"http://loinc.org|{code}" for code in codes)
    return {**PREFETCH, "labs": labs + "&_sort=-date&_count=50"} if codes else dict(PREFETCH)


def discovery(templates) -> dict:
    return {"services": [
        {"hook": hook, "title": title, "description": description, "id": service_id, "prefetch": dict(templates),
         "usageRequirements": USAGE}
        for service_id, (hook, title, description) in SERVICES.items()]}


def check_request(service_id: str, body) -> dict:
    """The request's context (a dict), or RequestError."""
    hook = SERVICES[service_id][0]
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    if body.get("hook") != hook:
        raise RequestError(f"this service answers the {hook} hook")
    if not isinstance(body.get("hookInstance"), str) or not body["hookInstance"]:
        raise RequestError("hookInstance is required")
    context = body.get("context")
    if not isinstance(context, dict):
        raise RequestError("context is required and must be an object")
    if not isinstance(context.get("patientId"), str) or not context["patientId"]:
        raise RequestError("context.patientId is required")
    if hook != "patient-view":
        drafts = context.get("draftOrders")
        if not isinstance(drafts, dict) or drafts.get("resourceType") != "Bundle":
            raise RequestError("context.draftOrders must be a FHIR Bundle")
        if hook == "order-select" and not isinstance(context.get("selections"), list):
            raise RequestError("context.selections must be an array")
    prefetch = body.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise RequestError("prefetch must be an object")
    return context


def missing_prefetch(prefetch, templates) -> dict:
    """The prefetch templates the request did not satisfy: {key: template}. A key with the
    value null means "no data"; a missing key or an OperationOutcome means "not provided"."""
    return {key: template for key, template in templates.items() if key not in prefetch or
            isinstance(prefetch[key], dict) and prefetch[key].get("resourceType") == "OperationOutcome"}


def _resources(value):
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        entries = value.get("entry") if isinstance(value.get("entry"), list) else []
        return [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    return [value] if isinstance(value.get("resourceType"), str) else []


def has_rls(conditions) -> bool:
    """True when an active, not refuted Condition codes restless legs syndrome."""
    for resource in _resources(conditions):
        if resource.get("resourceType") != "Condition":
            continue
        clinical = _code(resource.get("clinicalStatus"))
        verification = _code(resource.get("verificationStatus"))
        if clinical not in (None, "active", "recurrence", "relapse") or verification in ("refuted", "entered-in-error"):
            continue
        code = resource.get("code") if isinstance(resource.get("code"), dict) else {}
        for coding in code.get("coding") if isinstance(code.get("coding"), list) else []:
            if isinstance(coding, dict) and (coding.get("system"), coding.get("code")) in RLS_CODES:
                return True
    return False


def _code(concept):
    codings = concept.get("coding") if isinstance(concept, dict) else None
    for coding in codings if isinstance(codings, list) else []:
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            return coding["code"]
    return None


def draft_sources(context, hook) -> set:
    """The sources ('MedicationRequest/id') the cards are about: the draft orders, or for
    order-select the selected ones among them."""
    sources = [f"{resource.get('resourceType')}/{resource.get('id', '?')}"
               for resource in _resources(context.get("draftOrders"))]
    if hook == "order-select":
        selected = [s for s in context["selections"] if isinstance(s, str) and s in sources]
        sources = selected or sources
    return set(sources)


def concerns(source, sources) -> bool:
    """True when a finding's source text names one of `sources`. The FHIR reader names a
    record 'MedicationRequest/id', with what it is in brackets ('(draft order)'), and joins
    the records of one input with commas ('..., MedicationRequest/c and 2 more')."""
    return any(part.split(" (", 1)[0].split(" and ", 1)[0] in sources for part in str(source).split(", "))


def record_for(context, prefetch, hook) -> tuple:
    """(the record to assess, the draft sources or None for patient-view)."""
    fhir = []
    sources = None
    if hook != "patient-view":  # the FHIR reader reads draft orders as the orders being written
        sources = draft_sources(context, hook)
        fhir.append(context["draftOrders"])
    for key in ("medications", "statements", "conditions", "labs"):
        value = prefetch.get(key)
        if isinstance(value, dict) and value.get("resourceType") not in (None, "OperationOutcome"):
            fhir.append(value if value.get("resourceType") == "Bundle"
                        else {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": value}]})
    return {"fhir": fhir}, sources


def cards(document, hook, context, sources, settings, not_read=()) -> list:
    """Cards for the findings: about the drugs in `sources` (order hooks) or the whole record."""
    out = []
    for finding in document["findings"]:
        matched = finding["matched"] if sources is None else [m for m in finding["matched"]
                                                               if concerns(m.get("source"), sources)]
        if not matched:
            continue
        others = [f["title"] for f in document["findings"] if f is not finding] if sources is not None else []
        out.append(_card(finding, matched, hook, context, settings, others, not_read, document["disclaimer"]))
    if sources is not None:
        for item in document["unrecognized"]:
            if item.get("kind") == "medication" and concerns(item.get("source"), sources):
                out.append(_unchecked_card(item, document["disclaimer"]))
    return out


def _card(finding, matched, hook, context, settings, others, not_read, disclaimer):
    certainty = finding.get("certainty", "possible")
    if finding["kind"] in ("medication", "withdrawal"):
        subject = ", ".join(dict.fromkeys(m.get("resolved") or m["input"] for m in matched))
        summary = f"{subject} ({finding['title'].lower()}) may worsen restless legs; certainty: {certainty}"
    else:
        summary = f"{finding['title']} may worsen restless legs; certainty: {certainty}"
    lines = [f"**{md(finding['title'])}**: how sure: {md(certainty)} (best evidence: {md(finding['evidence'])}).", ""]
    label = "Ordered" if hook != "patient-view" else "In the record"
    for m in matched:
        via = f" ({md(' → '.join(m['via']))})" if m.get("via") else ""
        resolved = f" → {md(m['resolved'])}" if m.get("resolved") and m["resolved"].lower() != m["input"].lower() else ""
        lines.append(f"- {label}: **{md(m['input'])}**{resolved}{via}")
    lines += [f"- Why: {md(finding['explanation'])}", f"- To discuss: {md(finding['advice'])}"]
    if finding.get("alternatives") or finding.get("alternatives_note"):
        names = ", ".join(md(a) for a in finding.get("alternatives", []))
        note = md(finding.get("alternatives_note", ""))
        lines.append(f"- Safer options: {names}{'. ' if names and note else ''}{note}")
    if others:
        lines.append(f"- Also in this record: {md('; '.join(others))}")
    if not_read:
        lines.append(f"- Not read: {md(', '.join(not_read))} (not provided by the EHR)")
    lines += ["", f"*{md(disclaimer)}*"]
    card = {"uuid": str(uuid.uuid4()), "summary": shorten(summary, SUMMARY_MAX), "detail": "\n".join(lines),
            "indicator": settings.indicators.get(certainty, "info"), "source": _source(finding)}
    links = [{"label": shorten(ref["title"], 100), "url": ref["url"], "type": "absolute"}
             for ref in finding["references"] if ref.get("url")][:3]
    if links:
        card["links"] = links
    if hook != "patient-view" and finding.get("alternatives"):
        card["suggestions"] = [_suggestion(name, context) for name in finding["alternatives"][:3]]
        card["selectionBehavior"] = "at-most-one"
    card["overrideReasons"] = OVERRIDE_REASONS
    return card


def _suggestion(name, context):
    resource = {"resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
                "medicationCodeableConcept": {"text": name},
                "subject": {"reference": f"Patient/{context['patientId']}"}}
    if isinstance(context.get("encounterId"), str) and context["encounterId"]:
        resource["encounter"] = {"reference": f"Encounter/{context['encounterId']}"}
    return {"label": shorten(f"Add a draft order for {name} (the current order stays)", 80),
            "uuid": str(uuid.uuid4()),
            "actions": [{"type": "create",
                         "description": (f"Draft order for {name}, a choice less linked to restless legs; the "
                                         "prescriber sets dose and route and decides about the current order."),
                         "resource": resource}]}


def _unchecked_card(item, disclaimer):
    hint = ("Did you mean " + ", ".join(md(s) for s in item["suggestions"]) + "? ") if item.get("suggestions") else ""
    return {"uuid": str(uuid.uuid4()),
            "summary": shorten(f"rlscheck could not check {item['input']} for a link to restless legs", SUMMARY_MAX),
            "detail": (f"The ordered medication **{md(item['input'])}** is not in rlscheck's knowledge base, so "
                       f"whether it can worsen restless legs was not checked. {hint}\n\n*{md(disclaimer)}*"),
            "indicator": "info", "source": {"label": "rlscheck knowledge base"}}


def _source(finding):
    refs = [ref for ref in finding["references"] if ref.get("url")]
    if not refs:
        return {"label": "rlscheck knowledge base"}
    return {"label": shorten(f"rlscheck: {refs[0]['title']}", 100), "url": refs[0]["url"]}


def shorten(text: str, limit: int) -> str:
    """Text of at most `limit` characters, cut at a word with an ellipsis when longer."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:(") + "…"
