"""Validate knowledge-base files: one small check per concern, every problem collected.

`check_files` is what both `rlscheck kb validate` and the knowledge-base loader call.
It returns the merged entries (later files override earlier ones, field by field) and the
list of issues; an issue names file, line, column, the entry and the check that failed.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Tuple

from rlscheck.knowledge import shipped_path
from rlscheck.knowledge.issues import Issue
from rlscheck.knowledge.schema import (ENUMS, FINDING_RELATIONS, NOTE_RELATIONS, RULE_FIELDS, SECTIONS,
                                       STRONG_CERTAINTIES, TOP_FIELDS, WITHDRAWAL_FIELDS, certainty_of)
from rlscheck.knowledge.yamlsafe import LocDict, LocList, load_file
from rlscheck.resolve.normalize import name_key


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_PMID = re.compile(r"[1-9]\d{0,8}")
_URL = re.compile(r"https?://([^/?#:@\s]+)(?::\d+)?(?:[/?#]\S*)?", re.IGNORECASE)
_PORT = re.compile(r"https?://[^/?#\s]+:\d+", re.IGNORECASE)
_IP_HOST = re.compile(r"[\d.]+|\[[0-9a-f:.]+\]", re.IGNORECASE)
# A source title is a citation: notes on how or where it was read belong nowhere in it.
_TITLE_NOTE = re.compile(
    r"\b(via|mirror|mirrored|proxy|as quoted|quoted (?:by|on)|as summari[sz]ed|reproduced (?:by|in)|as reproduced"
    r"|syndicated|not directly readable|read (?:via|through|only)|not retrieved|unverified|non-authoritative"
    r"|treat as|used only|only retrieved|retrieved|listed on|found (?:through|via|on|in|by)|google|scholar|cache[d]?"
    r"|todo|tbd|fixme|xxx|placeholder|to be (?:added|checked|confirmed))\b"
    r"|\(n ?= ?\d", re.IGNORECASE)  # study figures belong in the explanation, not the title


Where = Tuple[str, int, int]  # file, line, column


class Entry:
    """One merged knowledge-base entry and where each of its fields was written."""

    def __init__(self, section: str, entry_id: str, where: Where) -> None:
        self.section = section
        self.id = entry_id
        self.data: dict[str, Any] = {}
        self.where = where
        self.field_where: dict[str | None, Where] = {}

    def at(self, field: str | None = None) -> Where:
        return self.field_where.get(field, self.where)


class Merged:
    """Top-level texts and, per section, the merged entries by id."""

    def __init__(self) -> None:
        self.top: dict[str, Any] = {}
        self.sections: dict[str, dict[str, Entry]] = {name: {} for name in SECTIONS}


def check_files(paths: Sequence[str | os.PathLike[str]], fail_fast: bool = False) -> tuple[Merged, list[Issue]]:
    """Parse, check and merge files in order. Returns (merged, issues).

    With fail_fast, a later file that cannot be read at all is reported before the (large)
    first file is parsed, and nothing else is checked.
    """
    loaded: dict[str | os.PathLike[str], tuple[Any, list[Issue]]] = {}
    if fail_fast:
        for path in paths[1:]:
            loaded[path] = load_file(path)
            if loaded[path][0] is None:
                return Merged(), loaded[path][1]
    merged = Merged()
    issues: list[Issue] = []
    for path in paths:
        data, file_issues = loaded[path] if path in loaded else load_file(path)
        issues.extend(file_issues)
        if data is not None:
            _check_structure(data, str(path), merged, issues)
    _check_merged(merged, issues, paths)
    return merged, issues


def _issue(issues: list[Issue], path: str, where: tuple[int, int], message: str, check: str, entry: str = "") -> None:
    issues.append(Issue(path, *where, message, check, entry=entry))


def _entry_issue(issues: list[Issue], where: Where, message: str, check: str, entry: str = "") -> None:
    issues.append(Issue(*where, message, check, entry=entry))


def _check_structure(data: Any, path: str, merged: Merged, issues: list[Issue]) -> None:
    if not isinstance(data, LocDict):
        _issue(issues, path, (1, 1), "the top level must be a mapping of sections", "type")
        return
    for key, value in data.items():
        where = data.where(key)
        if key in TOP_FIELDS:
            if _type_error(value, TOP_FIELDS[key]):
                _issue(issues, path, where, f"{key!r} must be {_describe(TOP_FIELDS[key])}", "type")
            elif key == "source_hosts":  # an extra file adds hosts to the shipped list
                merged.top.setdefault(key, set()).update(host.strip().lower() for host in value)
            else:
                merged.top[key] = value
        elif key in SECTIONS:
            if not isinstance(value, LocList):
                _issue(issues, path, where, f"section {key!r} must be a list of entries", "type")
                continue
            _check_section(key, value, path, merged, issues)
        else:
            known = ", ".join(sorted(list(TOP_FIELDS) + list(SECTIONS)))
            _issue(issues, path, where, f"unknown top-level key {key!r} (known: {known})", "unknown-field")


def _check_section(section: str, items: LocList, path: str, merged: Merged, issues: list[Issue]) -> None:
    spec = SECTIONS[section]
    seen_here: dict[str, int] = {}
    for index, item in enumerate(items):
        where = items.where(index)
        if not isinstance(item, LocDict):
            _issue(issues, path, where, f"each entry of {section!r} must be a mapping", "type")
            continue
        entry_id = item.get("id")
        if not isinstance(entry_id, str) or not entry_id.strip():
            _issue(issues, path, where, "entry has no 'id' (a stable text id)", "missing-id")
            continue
        if not _ID.fullmatch(entry_id):
            _issue(issues, path, item.where("id"), "ids use letters, digits, '.', '-' and '_' only", "id-format", entry_id)
            continue
        if not entry_id.startswith(spec["prefix"]):
            _issue(issues, path, item.where("id"), f"ids in {section!r} start with {spec['prefix']!r}", "id-prefix", entry_id)
        if entry_id in seen_here:
            _issue(issues, path, item.where("id"),
                   f"duplicate id {entry_id!r} (first at line {seen_here[entry_id]})", "duplicate-id", entry_id)
            continue
        seen_here[entry_id] = item.where("id")[0]
        entry = merged.sections[section].get(entry_id)
        if entry is None:
            entry = Entry(section, entry_id, (path, *item.where()))
            merged.sections[section][entry_id] = entry
        for field, value in item.items():
            field_where = item.where(field)
            kind = spec["fields"].get(field)
            if kind is None:
                known = ", ".join(sorted(spec["fields"]))
                _issue(issues, path, field_where, f"unknown field {field!r} (known: {known})", "unknown-field", entry_id)
                continue
            if _check_value(value, kind, path, field_where, field, entry_id, issues):
                entry.data[field] = value
                entry.field_where[field] = (path, *field_where)


def _check_value(value: Any, kind: str, path: str, where: tuple[int, int], field: str, entry_id: str,
                 issues: list[Issue]) -> bool:
    """Type-check one field value; nested structures are checked recursively."""
    if kind == "withdrawal":
        return _check_mapping(value, WITHDRAWAL_FIELDS, path, where, field, entry_id, issues, required=("id", "title"))
    if kind == "rules":
        if not isinstance(value, LocList):
            _issue(issues, path, where, f"{field!r} must be a list of rules", "type", entry_id)
            return False
        ok = True
        for index, rule in enumerate(value):
            rule_where = value.where(index)
            if not _check_mapping(rule, RULE_FIELDS, path, rule_where, f"{field}[{index}]", entry_id, issues):
                ok = False
                continue
            if ("finding" in rule) == ("check" in rule):
                _issue(issues, path, rule_where, "a rule names exactly one of 'finding' or 'check'", "rule", entry_id)
                ok = False
            if ("below" in rule) == ("at_most" in rule):
                _issue(issues, path, rule_where, "a rule has exactly one of 'below' or 'at_most'", "rule", entry_id)
                ok = False
        return ok
    error = _type_error(value, kind)
    if error:
        _issue(issues, path, where, f"{field!r} must be {_describe(kind)}{error}", "type", entry_id)
        return False
    if kind.startswith("enum"):
        allowed = ENUMS[kind.split(":", 1)[1]]
        for item in value if isinstance(value, list) else [value]:
            if item not in allowed:
                _issue(issues, path, where, f"{field!r}: {item!r} is not one of {', '.join(allowed)}", "enum", entry_id)
                return False
    return True


def _check_mapping(value: Any, fields: Mapping[str, str], path: str, where: tuple[int, int], field: str,
                   entry_id: str, issues: list[Issue], required: Collection[str] = ()) -> bool:
    if not isinstance(value, LocDict):
        _issue(issues, path, where, f"{field!r} must be a mapping", "type", entry_id)
        return False
    ok = True
    for key, item in value.items():
        kind = fields.get(key)
        if kind is None:
            _issue(issues, path, value.where(key), f"unknown field {key!r} in {field!r}", "unknown-field", entry_id)
            ok = False
        elif not _check_value(item, kind, path, value.where(key), f"{field}.{key}", entry_id, issues):
            ok = False
    for key in required:
        if key not in value:
            _issue(issues, path, where, f"{field!r} needs {key!r}", "missing-field", entry_id)
            ok = False
    return ok


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _type_error(value: Any, kind: str) -> str:
    """'' when value fits kind, else a short reason (or ' ' for a plain mismatch)."""
    base = kind.split(":", 1)[0]
    if base == "str":
        return "" if isinstance(value, str) and value.strip() else " "
    if base == "int":
        return "" if isinstance(value, int) and not isinstance(value, bool) else " "
    if base == "number":
        return "" if _is_number(value) else " "
    if base == "bool":
        return "" if isinstance(value, bool) else " "
    if base in ("enum", "ids1"):
        return "" if isinstance(value, str) else " "
    if base in ("strs", "codes", "texts", "ids", "enums"):
        if not isinstance(value, list):
            return " "
        if base == "codes":
            return "" if all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value) else " "
        return "" if all(isinstance(v, str) and v.strip() for v in value) else " (every item must be text)"
    if base == "map":
        if not isinstance(value, dict):
            return " "
        return "" if all(_is_number(v) and v > 0 for v in value.values()) else " (every value a positive number)"
    if base == "range":
        ok = isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value) and value[0] < value[1]
        return "" if ok else " "
    return ""


def _describe(kind: str) -> str:
    base = kind.split(":", 1)[0]
    return {
        "str": "non-empty text",
        "int": "a whole number",
        "number": "a finite number",
        "bool": "true or false",
        "enum": "one text value",
        "ids1": "one id",
        "strs": "a list of text",
        "texts": "a list of text",
        "codes": "a list of codes",
        "ids": "a list of ids",
        "enums": "a list of values",
        "map": "a mapping of unit to factor",
        "range": "a list [low, high] of two numbers",
    }.get(base, base)


def _check_merged(merged: Merged, issues: list[Issue], paths: Sequence[str | os.PathLike[str]]) -> None:
    """Checks across entries and files: required fields, ids, names, references, cycles."""
    all_ids: dict[str, list[Entry]] = {}
    for section, entries in merged.sections.items():
        spec = SECTIONS[section]
        for entry in entries.values():
            place = entry.where
            for field in spec["required"]:
                if field not in entry.data:
                    _entry_issue(issues, place, f"entry needs {field!r}", "missing-field", entry.id)
            for ident in [entry.id] + _withdrawal_ids(entry):
                all_ids.setdefault(ident, []).append(entry)
            _check_links(entry, issues)
            if section == "brand_names":
                _check_brand(entry, issues)
            if section == "lay_terms" and ("means" in entry.data) == ("icd10" in entry.data):
                _entry_issue(issues, entry.where, "a lay term needs exactly one of 'means' or 'icd10'",
                             "missing-field", entry.id)
    order = {str(path): index for index, path in enumerate(paths)}
    for ident, owners in all_ids.items():
        owners.sort(key=lambda e: (order.get(e.where[0], 0), e.where[1]))
        for later in owners[1:]:
            first = owners[0]
            _entry_issue(issues, later.where,
                         f"id {ident!r} is already used in {first.section!r} ({first.where[0]}:{first.where[1]})",
                         "duplicate-id", later.id)
    _check_references(merged, {ident: owners[0] for ident, owners in all_ids.items()}, issues)
    _check_names(merged, issues)
    _check_rxcui(merged, issues, paths)
    _check_cycles(merged, issues)
    _check_sources(merged, issues)


def _withdrawal_ids(entry: Entry) -> list[str]:
    block = entry.data.get("withdrawal")
    return [block["id"]] if isinstance(block, dict) and "id" in block else []


_COUNTRY = re.compile(r"[A-Z]{2}")


def _check_brand(entry: Entry, issues: list[Issue]) -> None:
    """A brand names one drug, a set of ingredients, or (a product with no entry) its generic
    text; countries are ISO 3166 two-letter codes."""
    given = [field for field in ("drug", "ingredients", "generic") if field in entry.data]
    if len(given) != 1:
        _entry_issue(issues, entry.where, "a brand needs exactly one of 'drug', 'ingredients' or 'generic'",
                     "missing-field" if not given else "rule", entry.id)
    for code in entry.data.get("countries", []):
        if not _COUNTRY.fullmatch(str(code)):
            _entry_issue(issues, entry.at("countries"),
                         f"country {code!r} is not an ISO 3166 two-letter code (GB, CA, AU)", "enum", entry.id)


def _check_links(entry: Entry, issues: list[Issue]) -> None:
    """Whatever is reported must say why and cite where the claim comes from."""
    relation = entry.data.get("relation")
    place = entry.at("relation")
    if (relation in FINDING_RELATIONS or relation in NOTE_RELATIONS) and not entry.data.get("references"):
        _entry_issue(issues, place, f"relation {relation!r} needs 'references'", "missing-reference", entry.id)
    if entry.section == "drugs":
        return
    if relation in FINDING_RELATIONS and not entry.data.get("explanation"):
        _entry_issue(issues, place, f"relation {relation!r} needs an 'explanation'", "missing-field", entry.id)
    if relation in NOTE_RELATIONS - {"withdrawal"} and not entry.data.get("note"):
        _entry_issue(issues, place, f"relation {relation!r} needs a 'note'", "missing-field", entry.id)


def _check_references(merged: Merged, all_ids: dict[str, Entry], issues: list[Issue]) -> None:
    def section_ids(name: str) -> dict[str, Entry]:
        return merged.sections[name] if name != "*" else all_ids

    def check(entry: Entry, field: str, value: Any, target: str, where: Where) -> None:
        for ref in value if isinstance(value, list) else [value]:
            if ref not in section_ids(target):
                label = "any entry" if target == "*" else target
                _entry_issue(issues, where, f"{field!r} refers to {ref!r}, which is not in {label}",
                             "missing-reference", entry.id)

    for section, entries in merged.sections.items():
        fields = SECTIONS[section]["fields"]
        for entry in entries.values():
            for field, value in entry.data.items():
                kind = fields.get(field, "")
                where = entry.at(field)
                if kind.startswith("ids"):
                    check(entry, field, value, kind.split(":", 1)[1], where)
                elif kind == "withdrawal":
                    check(entry, "withdrawal.references", value.get("references", []), "sources", where)
                elif kind == "rules":
                    for rule in value:
                        for key in ("finding", "check", "when_condition", "references"):
                            if key in rule:
                                check(entry, f"rules.{key}", rule[key], RULE_FIELDS[key].split(":", 1)[1], where)


def _check_sources(merged: Merged, issues: list[Issue]) -> None:
    """Every source can be looked up: a DOI, a PMID or a URL on a canonical host (the
    `source_hosts` list); its title is a citation only; a consumer-level page never carries a
    probable or established claim alone."""
    hosts = merged.top.get("source_hosts")
    if hosts is None:  # files checked alone, none of them with a list: the shipped list applies
        hosts = _shipped_hosts()
    sources = merged.sections["sources"]
    for entry in sources.values():
        data = entry.data
        if "doi" in data and not _DOI.fullmatch(data["doi"]):
            _entry_issue(issues, entry.at("doi"), f"doi {data['doi']!r} is not a DOI (10.NNNN/...)", "source",
                         entry.id)
        if "pmid" in data and not _PMID.fullmatch(str(data["pmid"])):
            _entry_issue(issues, entry.at("pmid"), f"pmid {data['pmid']!r} is not a PubMed id", "source", entry.id)
        url = data.get("url")
        if url is not None:
            match = _URL.fullmatch(url.strip())
            host = match.group(1).lower() if match else ""
            if match and (_PORT.match(url.strip()) or _IP_HOST.fullmatch(host)):
                _entry_issue(issues, entry.at("url"),
                             f"url {url!r} is not a canonical address (no port numbers or bare IP addresses)", "source",
                             entry.id)
            elif not match or (host not in hosts and host.removeprefix("www.") not in hosts):
                _entry_issue(issues, entry.at("url"),
                             f"url host {host or url!r} is not on the source_hosts allow-list (use the DOI, PubMed or "
                             "the publisher's or organisation's own address)", "source", entry.id)
        elif "doi" not in data and "pmid" not in data and data.get("type") != "ART":
            _entry_issue(issues, entry.where, "a source needs a doi, a pmid or a url", "source", entry.id)
        found = _TITLE_NOTE.search(data.get("title", ""))
        if found:
            _entry_issue(issues, entry.at("title"),
                         f"title has a note ({found.group(0)!r}): a title names the publication only", "source",
                         entry.id)
    consumer = {source_id for source_id, e in sources.items() if e.data.get("type") in ("CON", "SEC", "ART")}
    for section, entries in merged.sections.items():
        for entry in entries.values():
            blocks = [(entry.data, entry.at("references"))]
            if isinstance(entry.data.get("withdrawal"), dict):
                blocks.append((entry.data["withdrawal"], entry.at("withdrawal")))
            for block, where in blocks:
                refs = block.get("references")
                if not refs or block.get("relation") not in FINDING_RELATIONS | {"withdrawal"}:
                    continue
                if certainty_of(block) in STRONG_CERTAINTIES and set(refs) <= consumer:
                    _entry_issue(issues, where,
                                 f"a {certainty_of(block)!r} claim cites only consumer-level or secondary sources",
                                 "source", entry.id)


def _shipped_hosts() -> set[str]:
    data, _ = load_file(shipped_path())
    hosts = data.get("source_hosts") if isinstance(data, dict) else None
    return {str(host).strip().lower() for host in hosts} if isinstance(hosts, list) else set()


def _check_names(merged: Merged, issues: list[Issue]) -> None:
    """A name that normalises to two different entries of the same kind is ambiguous."""
    owners: dict[tuple[str, str], Entry] = {}
    for section, entries in merged.sections.items():
        index = SECTIONS[section]["names"]
        if index is None:
            continue
        for entry in entries.values():
            if entry.data.get("retired"):
                continue
            index = _term_index(merged, entry, index)
            for field in ("name", "aliases", "brands", "synonyms", "label"):
                value = entry.data.get(field)
                for name in value if isinstance(value, list) else [value] if value else []:
                    key = name_key(name)
                    if not key:
                        continue
                    owner = owners.setdefault((index, key), entry)
                    if owner is not entry and not _same_drug(owner, entry):
                        _entry_issue(issues, entry.at(field),
                                     f"name {name!r} also names {owner.id!r}", "name-collision", entry.id)


_RXCUI = re.compile(r"[1-9][0-9]{0,9}")


def _check_rxcui(merged: Merged, issues: list[Issue], paths: Sequence[str | os.PathLike[str]]) -> None:
    """An RxCUI is a number, names one entry only (a FHIR coding with nothing but that code is
    read as that entry), and says where it was checked. A shared code is reported where it was
    written last (the later file, else the later line)."""
    order = {str(path): index for index, path in enumerate(paths)}
    owners: dict[str, list[Entry]] = {}
    for section, entries in merged.sections.items():
        for entry in entries.values():
            codes = entry.data.get("rxcui")
            if not codes or entry.data.get("retired"):
                continue
            place = entry.at("rxcui")
            if not entry.data.get("code_references"):
                _entry_issue(issues, place, "'rxcui' needs 'code_references' (the sources the codes were "
                             "checked against)", "missing-reference", entry.id)
            for code in codes:
                text = str(code).strip()
                if _RXCUI.fullmatch(text):
                    if entry not in owners.setdefault(text, []):
                        owners[text].append(entry)
                else:
                    _entry_issue(issues, place, f"rxcui {code!r} is not an RxNorm code (digits only)", "code",
                                 entry.id)
    for code, sharing in owners.items():
        sharing.sort(key=lambda e: (order.get(e.at("rxcui")[0], 0), e.at("rxcui")[1]))
        for later in sharing[1:]:
            _entry_issue(issues, later.at("rxcui"), f"rxcui {code} also names {sharing[0].id!r}", "code-collision",
                         later.id)


MAX_CLASS_DEPTH = 20  # levels of classes above an entry; the shipped hierarchy has four
MAX_PARENTS = 20  # classes listed by one entry


def _up_links(entry: Entry, field: str, targets: Collection[str]) -> list[str]:
    value = entry.data.get(field, [])
    return [item for item in value if isinstance(item, str) and item in targets] if isinstance(value, list) else []


def _term_index(merged: Merged, entry: Entry, index: str) -> str:
    """A lay term is looked up with the entry it means (a substance's among substances)."""
    target = entry.data.get("means") if entry.section == "lay_terms" else None
    for section, entries in merged.sections.items():
        if target in entries and SECTIONS[section]["names"]:
            return SECTIONS[section]["names"]
    return index


def _same_drug(owner: Entry, entry: Entry) -> bool:
    """A country's brand that the drug entry already lists names the same drug: no ambiguity."""
    target = entry.data.get("drug") if entry.section == "brand_names" else entry.data.get("means")
    return target is not None and (owner.id == target or owner.data.get("drug") == target
                                   or owner.data.get("means") == target)


def _check_cycles(merged: Merged, issues: list[Issue]) -> None:
    """Class cycles, and hierarchies deeper or wider than any real one (a few kilobytes of
    YAML can otherwise describe more ways up than could ever be listed). Walked without
    recursion, each class once."""
    classes = merged.sections["classes"]
    for section, entries in merged.sections.items():
        for entry in entries.values():
            for field in ("parents", "classes"):
                value = entry.data.get(field)
                if isinstance(value, list) and len(value) > MAX_PARENTS:
                    _entry_issue(issues, entry.at(field),
                                 f"{len(value)} {field} listed; at most {MAX_PARENTS} are allowed", "class-fan-out",
                                 entry.id)
    state: dict[str, str] = {}
    depth: dict[str, int] = {}
    for start in classes:
        if start in state:
            continue
        state[start] = "active"
        trail = [start]
        frames = [(start, iter(_up_links(classes[start], "parents", classes)))]
        while frames:
            class_id, ups = frames[-1]
            for parent in ups:
                if state.get(parent) == "active":
                    cycle = " -> ".join(trail[trail.index(parent):] + [parent])
                    _entry_issue(issues, classes[parent].at("parents"), f"class cycle: {cycle}", "class-cycle", parent)
                elif parent not in state:
                    state[parent] = "active"
                    trail.append(parent)
                    frames.append((parent, iter(_up_links(classes[parent], "parents", classes))))
                    break
            else:
                frames.pop()
                trail.pop()
                state[class_id] = "done"
                above = [depth[up] for up in _up_links(classes[class_id], "parents", classes) if up in depth]
                depth[class_id] = 1 + max(above, default=0)
                if depth[class_id] == MAX_CLASS_DEPTH + 1:  # the first class too deep on its way up
                    _entry_issue(issues, classes[class_id].at("parents"),
                                 f"class hierarchy too deep: more than {MAX_CLASS_DEPTH} levels of classes from "
                                 "here up", "class-depth", class_id)
