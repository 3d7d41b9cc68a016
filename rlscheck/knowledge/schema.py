"""The knowledge base's closed vocabularies and the fields each section accepts."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

RELATIONS = (
    "cause",  # drug- or condition-specific sources link it to new or worse RLS
    "cause-weak",  # a single report, an association study or consumer-level claims only
    "cause-class",  # no specific source: flagged because its class is
    "conflict",  # sources disagree (trigger and treatment, or aggravation but no incidence)
    "indirect",  # acts through iron deficiency
    "association",  # occurs together with RLS, not shown to cause it
    "withdrawal",  # only stopping it is linked
    "isolated-report",  # a single spontaneous report: not a signal, shown apart from findings
    "treatment",  # used to treat RLS: never a cause
    "augmentation",  # dopaminergic RLS treatment that can worsen RLS with long use
    "neutral",  # named as neutral or a safer choice
    "insufficient",  # studied, evidence insufficient
    "unsupported",  # searched, no RLS source either way
    "none",  # known, with nothing to say about RLS
)
FINDING_RELATIONS = frozenset({"cause", "cause-weak", "cause-class", "conflict", "indirect"})
NOTE_RELATIONS = frozenset({"treatment", "augmentation", "neutral", "association", "withdrawal"})
ISOLATED_RELATION = "isolated-report"

CATEGORIES = ("secondary-cause", "withdrawal", "aggravator", "primary-risk-factor")

CERTAINTIES = ("established", "probable", "possible", "conflicting", "weak", "indirect", "class-inference")
DEFAULT_CERTAINTY = {
    "cause": "possible",
    "cause-weak": "weak",
    "cause-class": "class-inference",
    "conflict": "conflicting",
    "indirect": "indirect",
    "association": "possible",
    "withdrawal": "weak",
    "isolated-report": "weak",
}

# Evidence codes of the fact sheet, strongest first, with the words shown to users.
EVIDENCE = {
    "GL": "guideline",
    "SR": "systematic review",
    "RCT": "randomised trial",
    "COH": "cohort study",
    "POC": "point-of-care summary",
    "OBS": "observational study",
    "PV": "pharmacovigilance",
    "CR": "case reports",
    "EXP": "small experiment",
    "REV": "expert review",
    "CON": "consumer-level",
    "SEC": "secondary summary",
    "ART": "founding article only",
    "CLS": "class inference",
    "UNS": "unsupported",
}

# Field kinds: "str", "int", "number", "bool", "strs" (list of text), "ids:<section>",
# "enum:<name>", "enums:<name>", "codes" (list of text codes), "map:number", "range",
# "rules", "withdrawal", "texts".
ENUMS = {
    "relation": RELATIONS,
    "category": CATEGORIES,
    "certainty": CERTAINTIES,
    "evidence": tuple(EVIDENCE),
}

LINK_FIELDS = {
    "relation": "enum:relation",
    "category": "enum:category",
    "certainty": "enum:certainty",
    "evidence": "enums:evidence",
    "references": "ids:sources",
    "explanation": "str",
    "advice": "str",
    "alternatives": "strs",
    "alternatives_note": "str",
    "note": "str",
    "detail": "str",
    "via": "str",
    "isolated_report": "str",  # a single spontaneous report besides the entry's own relation
    "retired": "bool",
}

WITHDRAWAL_FIELDS = {"id": "str", "title": "str", "icd10": "codes", **LINK_FIELDS}

RULE_FIELDS = {
    "finding": "ids1:lab_findings",
    "check": "ids1:checks",
    "below": "number",
    "at_most": "number",
    "when_condition": "ids:conditions",
    "and_lab": "ids1:labs",  # the rule also needs this lab's value ...
    "and_below": "number",  # ... below this (in that lab's usual unit)
    "if_missing": "ids1:checks",  # when that lab was not given: this check instead of a conclusion
    "final": "bool",  # when its context applies, no later rule is tried
    "threshold": "str",
    "references": "ids:sources",
}

CONDITION_FIELDS = {
    "id": "str",
    "name": "str",
    "aliases": "strs",
    "icd10": "codes",
    "snomed": "codes",
    "superseded_by": "ids1:conditions",  # reported within that finding when both are present
    "report_as": "ids1:conditions",  # a narrower state (dialysis) reported as that broader finding
    **LINK_FIELDS,
}


def _linked(prefix: str, kind: str, fields: dict[str, str]) -> dict[str, Any]:
    """A section of entries linked to RLS, looked up in the name index of their own kind."""
    return {"prefix": prefix, "kind": kind, "names": kind, "fields": fields, "required": ("name", "relation", "evidence")}


SECTIONS: dict[str, dict[str, Any]] = {
    "classes": {
        "prefix": "drug.",
        "kind": "class",
        "names": "medication",
        "fields": {"id": "str", "name": "str", "label": "str", "aliases": "strs",
                   "parents": "ids:classes", "withdrawal": "withdrawal", **LINK_FIELDS},
        "required": ("name",),
    },
    "drugs": {
        "prefix": "drug.",
        "kind": "drug",
        "names": "medication",
        "fields": {"id": "str", "name": "str", "rxcui": "codes", "code_references": "ids:sources",
                   "classes": "ids:classes", "brands": "strs", "synonyms": "strs", "withdrawal": "withdrawal",
                   **LINK_FIELDS},
        "required": ("name", "relation", "evidence"),
    },
    "products": {
        "prefix": "product.",
        "kind": "product",
        "names": "medication",
        "fields": {"id": "str", "name": "str", "aliases": "strs", "ingredients": "ids:drugs", "rxcui": "codes",
                   "code_references": "ids:sources", "note": "str", "retired": "bool"},
        "required": ("name", "ingredients"),
    },
    "conditions": _linked("condition.", "condition", {**CONDITION_FIELDS, "by_trimester": "texts"}),
    "substances": _linked("substance.", "substance", CONDITION_FIELDS),
    "risk_factors": _linked("risk.", "risk-factor", CONDITION_FIELDS),
    "labs": {
        "prefix": "lab.",
        "kind": "lab",
        "names": "lab",
        "fields": {"id": "str", "name": "str", "aliases": "strs", "loinc": "codes", "unit": "str",
                   "units": "map:number", "range": "range", "rules": "rules", "note": "str"},
        "required": ("name", "unit", "units"),
    },
    "lab_findings": {
        "prefix": "lab.",
        "kind": "lab-finding",
        "names": None,
        "fields": {"id": "str", "name": "str", "related": "ids1:conditions", **LINK_FIELDS},
        "required": ("name", "relation", "evidence", "references", "explanation"),
    },
    "checks": {
        "prefix": "check.",
        "kind": "check",
        "names": None,
        "fields": {"id": "str", "text": "str", "unless_labs": "ids:labs", "when_entries": "ids:*",
                   "references": "ids:sources"},
        "required": ("text",),
    },
    "brand_names": {  # brands by country, kept apart from the drug entries they name
        "prefix": "brand.",
        "kind": "brand",
        "names": "medication",
        "fields": {"id": "str", "name": "str", "aliases": "strs", "drug": "ids1:drugs", "ingredients": "ids:drugs",
                   "generic": "str", "countries": "codes", "rxcui": "codes", "code_references": "ids:sources",
                   "references": "ids:sources", "note": "str", "retired": "bool"},
        "required": ("name", "countries", "references"),
    },
    "lay_terms": {  # everyday and clinical phrasings of an entry, or of an ICD-10-CM code with no entry
        "prefix": "term.",
        "kind": "term",
        "names": "condition",
        "fields": {"id": "str", "aliases": "strs", "means": "ids1:*", "icd10": "codes", "retired": "bool"},
        "required": ("aliases",),
    },
    "sources": {
        "prefix": "",
        "kind": "source",
        "names": None,
        "fields": {"id": "str", "title": "str", "year": "int", "url": "str", "doi": "str", "pmid": "str",
                   "type": "enum:evidence"},
        "required": ("title", "type"),
    },
}

TOP_FIELDS = {"schema": "int", "disclaimer": "str", "primary_rls": "str",
              "source_hosts": "strs"}  # the hosts a source's URL may point to (canonical addresses only)

# Certainties a consumer-level source may not support on its own.
STRONG_CERTAINTIES = frozenset({"established", "probable"})


def certainty_of(entry: Mapping[str, Any]) -> str:
    """How sure a link is: the entry's own certainty, or its relation's default."""
    return entry.get("certainty") or DEFAULT_CERTAINTY.get(entry.get("relation"), "weak")  # type: ignore[arg-type]  # no relation: "weak"


def best_evidence(codes: Collection[str]) -> str:
    """The strongest evidence code's words, e.g. ['CR', 'SR'] -> 'systematic review'."""
    return (evidence_words(codes) or [EVIDENCE["UNS"]])[0]


def evidence_words(codes: Collection[str]) -> list[str]:
    return [EVIDENCE[code] for code in EVIDENCE if code in codes]


_CERTAINTY_RANK = {certainty: rank for rank, certainty in enumerate(CERTAINTIES)}


def certainty_rank(certainty: str) -> int:
    return _CERTAINTY_RANK.get(certainty, len(CERTAINTIES))
