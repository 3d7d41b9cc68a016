"""What the knowledge base knows, as JSON-ready records for `meds`, `conditions` and `show`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rlscheck.knowledge.schema import FINDING_RELATIONS, best_evidence, certainty_of

if TYPE_CHECKING:
    from rlscheck.knowledge.store import KnowledgeBase

LINKED = FINDING_RELATIONS | {"withdrawal"}


def _class_labels(kb: KnowledgeBase, entry_id: str) -> list[str]:
    return list(dict.fromkeys(kb.get(step).get("label") or kb.get(step)["name"] for step in kb.ancestors(entry_id)[1:]))


def medication_record(kb: KnowledgeBase, entry_id: str) -> dict[str, Any]:
    entry = kb.get(entry_id)
    relation = kb.effective_relation(entry_id) or "none"
    withdrawal = kb.withdrawal_block(entry_id)
    return {
        "id": entry_id,
        "name": entry["name"],
        "relation": relation,
        "evidence": best_evidence(entry.get("evidence", [])),
        "classes": _class_labels(kb, entry_id),
        "brands": entry.get("brands", []),
        "synonyms": entry.get("synonyms", []),
        "withdrawal": withdrawal[0]["id"] if withdrawal else None,
        "references": list(entry.get("references", [])),
    }


def medications(kb: KnowledgeBase, class_id: str | None = None, include_all: bool = False) -> list[dict[str, Any]]:
    """Drugs linked to RLS (as causes or on withdrawal), optionally of one class."""
    wanted = set(kb.descendants(class_id)) if class_id else None
    out = []
    by_country: dict[str, list[str]] = {}  # drug id -> its brands from the brand_names section, with their countries
    for entry in kb.entries.values():
        if entry["kind"] == "brand" and entry.get("drug"):
            by_country.setdefault(entry["drug"], []).append(f"{entry['name']} ({', '.join(entry['countries'])})")
    for entry_id, entry in kb.entries.items():
        if entry["kind"] != "drug" or (wanted is not None and entry_id not in wanted):
            continue
        record = medication_record(kb, entry_id)
        if entry_id in by_country:
            record["brands"] = record["brands"] + by_country[entry_id]
        if include_all or record["relation"] in LINKED or record["withdrawal"]:
            out.append(record)
    return sorted(out, key=lambda r: r["name"])


def condition_record(kb: KnowledgeBase, entry_id: str) -> dict[str, Any]:
    entry = kb.get(entry_id)
    return {
        "id": entry_id,
        "kind": entry["kind"],
        "name": entry["name"],
        "relation": entry.get("relation", "none"),
        "certainty": certainty_of(entry) if entry.get("relation") in FINDING_RELATIONS | {"association"} else None,
        "evidence": best_evidence(entry.get("evidence", [])),
        "aliases": entry.get("aliases", []),
        "icd10": [str(code) for code in entry.get("icd10", [])],
        "snomed": [str(code) for code in entry.get("snomed", [])],
        "references": list(entry.get("references", [])),
    }


def conditions(kb: KnowledgeBase, include_all: bool = False) -> list[dict[str, Any]]:
    out = [condition_record(kb, entry_id) for entry_id, entry in kb.entries.items()
           if entry["kind"] in ("condition", "substance", "risk-factor")
           and (include_all or entry.get("relation") in FINDING_RELATIONS)]
    order = {"condition": 0, "substance": 1, "risk-factor": 2}
    return sorted(out, key=lambda r: (order[r["kind"]], r["name"].lower()))


def describe(kb: KnowledgeBase, entry_id: str) -> dict[str, Any]:
    """Everything known about one entry: relation, evidence, texts, members, exceptions, sources."""
    entry = kb.get(entry_id)
    record = {key: value for key, value in entry.items() if key not in ("references", "withdrawal", "title")}
    record["name"] = entry.get("name") or entry.get("title", entry_id)
    if entry["kind"] in ("drug", "class"):
        record["relation"] = kb.effective_relation(entry_id)
        record["classes"] = _class_labels(kb, entry_id)
    if entry.get("evidence"):
        record["evidence"] = best_evidence(entry["evidence"])
        record["evidence_codes"] = list(entry["evidence"])
    if entry["kind"] == "class":
        members = [m for m in kb.descendants(entry_id) if kb.get(m)["kind"] == "drug"]
        record["members"] = sorted(kb.get(m)["name"] for m in members)
        record["exceptions"] = sorted(f"{kb.get(m)['name']} ({kb.effective_relation(m)})" for m in members
                                      if kb.effective_relation(m) not in FINDING_RELATIONS)
    if entry["kind"] == "product":
        record["ingredients"] = [kb.get(i)["name"] for i in entry["ingredients"]]
    if entry.get("withdrawal"):
        record["withdrawal"] = entry["withdrawal"]["id"]
    record["references"] = kb.references(entry.get("references", []))
    return record
