"""Compile validated knowledge-base entries into the plain, JSON-ready form used at run time.

The compiled form holds every entry by id, a name index per input kind (name key ->
[[entry id, how it was named]]), the ICD-10-CM prefixes and SNOMED codes, and completion
items. It contains only dicts, lists, strings and numbers, so it can be cached as JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rlscheck.resolve.normalize import name_key
from rlscheck.knowledge.schema import SECTIONS

if TYPE_CHECKING:
    from rlscheck.knowledge.validate import Merged


def compile_kb(merged: Merged) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    names: dict[str, dict[str, Any]] = {"medication": {}, "condition": {}, "substance": {}, "risk-factor": {},
                                        "lab": {}}
    completions: dict[str, list[Any]] = {kind: [] for kind in names}
    icd10: list[Any] = []
    snomed: dict[str, Any] = {}
    codes: dict[str, dict[str, str]] = {"rxcui": {}, "loinc": {}}  # RxNorm ingredient/brand codes of drugs, LOINC codes of labs

    for section, spec in SECTIONS.items():
        if section == "sources":
            continue
        for entry_id, entry in merged.sections[section].items():
            data = dict(entry.data)
            if data.pop("retired", False):
                continue
            data["id"] = entry_id
            data["kind"] = spec["kind"]
            entries[entry_id] = data
            block = data.get("withdrawal")
            if block:
                entries[block["id"]] = dict(block, kind="withdrawal", withdrawal_of=entry_id)
                icd10 += [[str(code).upper(), block["id"]] for code in block.get("icd10", [])]
            index = spec["names"]
            if spec["kind"] == "term" and data.get("means") in entries:  # looked up with what it means
                index = _INDEX_OF.get(entries[data["means"]]["kind"], index)
            if index is None:
                continue
            for name, how in _names_of(data, spec["kind"]):
                key = name_key(name)
                if not key:
                    continue
                target = data.get("drug") or data.get("means")
                if target and any(known == target for known, _ in names[index].get(key, [])):
                    continue  # the entry itself has this name already
                named = [target, "alias"] if data.get("means") else [entry_id, how]  # a lay term: what it means
                targets = names[index].setdefault(key, [])
                if named not in targets:
                    targets.append(named)
                    if not data.get("means"):
                        completions[index].append([name, _completion_help(data, how)])
            for code in data.get("icd10", []) if spec["kind"] != "term" else ():  # a term's code has no entry
                icd10.append([str(code).upper().rstrip("-"), entry_id])
            for code in data.get("snomed", []):
                snomed[str(code)] = entry_id
            for system, table in codes.items():
                for code in data.get(system, []):
                    table[str(code)] = entry_id

    children: dict[str, list[str]] = {}
    for entry in entries.values():
        for parent in entry.get("parents", []) + entry.get("classes", []):
            children.setdefault(parent, []).append(entry["id"])

    icd10.sort(key=lambda item: -len(item[0]))
    return {
        "disclaimer": " ".join(str(merged.top.get("disclaimer", "")).split()),
        "primary_rls": " ".join(str(merged.top.get("primary_rls", "")).split()),
        "entries": _plain(entries),
        "sources": _plain({source_id: dict(entry.data, id=source_id)
                           for source_id, entry in merged.sections["sources"].items()}),
        "names": names,
        "children": children,
        "icd10": icd10,
        "snomed": snomed,
        **codes,
        "completions": completions,
    }


_INDEX_OF = {"drug": "medication", "class": "medication", "product": "medication", "condition": "condition",
             "substance": "substance", "risk-factor": "risk-factor"}


def _plain(value: Any) -> Any:
    """Plain dicts and lists (the YAML loader's located subclasses cannot be marshalled)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _names_of(data: dict[str, Any], kind: str) -> Iterator[tuple[str, str]]:
    if kind == "term":
        for alias in data.get("aliases", []):
            yield alias, "alias"
        return
    if kind == "brand":
        for name in [data["name"]] + data.get("aliases", []):
            yield name, "brand"
        return
    yield data["name"], "product" if kind == "product" else "name"
    if kind == "class" and data.get("label"):
        yield data["label"], "class"
    for alias in data.get("aliases", []):
        yield alias, "product" if kind == "product" else "alias"
    for brand in data.get("brands", []):
        yield brand, "brand"
    for synonym in data.get("synonyms", []):
        yield synonym, "synonym"


def _completion_help(data: dict[str, Any], how: str) -> str:
    kind = data["kind"]
    if kind == "brand":
        return f"brand ({', '.join(data.get('countries', []))})"
    if kind == "term":
        return f"ICD-10-CM {', '.join(data.get('icd10', []))}"
    if how == "brand":
        return f"brand of {data['name']}"
    if how == "synonym":
        return f"another name for {data['name']}"
    if kind == "class":
        return "drug class"
    if kind == "product":
        return "product"
    if how == "alias":
        return data["name"]
    return {"drug": "medication", "lab": f"lab ({data.get('unit', '')})"}.get(kind, kind.replace("-", " "))
