"""Load the knowledge base: parse and validate YAML once, then reuse a compiled cache.

The compiled form is plain data kept in the cache store (`rlscheck.knowledge.cache`, one SQLite file)
under a key made of rlscheck's and Python's versions and the path, size, modification time
and inode of every knowledge-base file, so an edited file is never served stale and start-up
need not read the YAML at all. It is split into small sections (entries and sources hashed
by id into groups of a few, names and completions by first character, a few tables), each
read and checked only when first used: start-up reads a few kilobytes whatever the size of
the knowledge base. Completion uses this module, so it imports nothing heavy, not even the
schema.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from rlscheck.knowledge import cache, shipped_path
from rlscheck.knowledge.graph import ClassGraph

FORMAT = 13  # of the compiled sections; bump when their layout changes
_PER_BUCKET = 8  # entries per section: small sections keep the bytes read per lookup small
BY_ID = ("entries", "sources")


def load(extra_files: Iterable[str | os.PathLike[str]] = ()) -> KnowledgeBase:
    """The knowledge base made of the shipped file and any extra files, in that order.
    Raises KnowledgeBaseError listing every problem when a file is missing or invalid."""
    paths = [shipped_path()] + [os.fspath(p) for p in extra_files]
    parts: list[object] = [FORMAT]
    stored = True
    for path in paths:
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            stored = False  # validation reports the unusable file
            break
        parts.append(f"{os.path.abspath(path)}:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}:{info.st_dev}")
    kb = KnowledgeBase(cache.Cached("kb", cache.full_key(*parts), lambda: _sections(_build(paths)), stored))
    kb.extra_files = tuple(paths[1:])
    return kb


def id_bucket(record_id: str, buckets: int) -> int:
    return zlib.crc32(record_id.encode("utf-8", "surrogateescape")) % buckets


def _sections(compiled: dict[str, Any]) -> dict[str, Any]:
    """The compiled knowledge base as named sections of plain data."""
    entries = compiled["entries"]
    sections: dict[str, Any] = {}
    buckets: dict[str, int] = {}
    for group in BY_ID:  # entries and sources, hashed by id into small sections
        records = compiled[group]
        buckets[group] = count = max(1, len(records) // _PER_BUCKET)
        for number in range(count):
            sections[f"{group}:{number}"] = {}
        for record_id, record in records.items():
            sections[f"{group}:{id_bucket(record_id, count)}"][record_id] = record
        sections[f"order:{group}"] = list(records)
    sections["meta"] = {"disclaimer": compiled["disclaimer"], "primary_rls": compiled["primary_rls"],
                        "checks": [entry_id for entry_id, entry in entries.items() if entry["kind"] == "check"],
                        "buckets": buckets}
    for name in ("children", "icd10", "snomed", "rxcui", "loinc"):
        sections[f"tables:{name}"] = compiled.get(name, {})
    for index, table in compiled["names"].items():  # by first character
        for name, targets in table.items():
            sections.setdefault(f"names:{index}:{name[:1]}", {})[name] = targets
    for index, items in compiled["completions"].items():
        for name, help_text in items:
            sections.setdefault(f"completions:{index}:{name[:1].casefold()}", []).append([name, help_text])
    return sections


def _build(paths: list[str]) -> dict[str, Any]:
    """Parse, validate and compile; KnowledgeBaseError lists every problem found."""
    from rlscheck.errors import KnowledgeBaseError
    from rlscheck.knowledge.compile import compile_kb
    from rlscheck.knowledge.validate import check_files

    merged, issues = check_files(paths, fail_fast=True)  # an unusable extra file fails at once
    errors = [issue for issue in issues if issue.level == "error"]
    if errors:
        raise KnowledgeBaseError(errors)
    return compile_kb(merged)


class ById:
    """Entries or sources by id: a read-only mapping, read section by section as used."""

    def __init__(self, kb: KnowledgeBase, group: str) -> None:
        self._kb, self._group = kb, group

    def _section(self, record_id: object) -> dict[str, dict[str, Any]]:
        return self._kb.section(self._group, record_id) if isinstance(record_id, str) else {}

    def get(self, record_id: object, default: Any = None) -> Any:
        return self._section(record_id).get(record_id, default)  # type: ignore[call-overload]  # any key: a miss

    def __getitem__(self, record_id: str) -> dict[str, Any]:
        return self._section(record_id)[record_id]

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._section(record_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self._kb.section("order", self._group))

    def __len__(self) -> int:
        return len(self._kb.section("order", self._group))

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return ((record_id, self[record_id]) for record_id in self)

    def values(self) -> Iterator[dict[str, Any]]:
        return (self[record_id] for record_id in self)


class KnowledgeBase(ClassGraph):
    """Read-only access to the compiled knowledge base, read section by section when used.

    Picklable: it pickles as the list of its extra files, and is loaded again from the cache
    store where it is unpickled (a worker process, a Spark executor)."""

    extra_files: tuple[str, ...] = ()

    def __init__(self, sections: cache.Cached) -> None:
        self._sections = sections
        meta = sections.get("meta")
        self._buckets = meta["buckets"]
        self.check_ids = meta["checks"]
        self.disclaimer = meta["disclaimer"]
        self.primary_rls = meta["primary_rls"]
        self.entries = ById(self, "entries")
        self.sources = ById(self, "sources")
        self._walks = {}
        self._references: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self.memo: dict[Any, Any] = {}  # derived values other modules compute once per knowledge base

    def section(self, *name: Any) -> Any:
        """A section, or None if there is none: ('entries', id) and ('sources', id) for the
        section holding that id, ('order', group), ('tables', name), ('names', index, first
        character) and ('completions', index, first character)."""
        if name[0] in BY_ID:
            name = (name[0], id_bucket(name[1], self._buckets[name[0]]))
        return self._sections.get(":".join(map(str, name)))

    children = property(lambda self: self.section("tables", "children"))
    icd10 = property(lambda self: self.section("tables", "icd10"))
    snomed = property(lambda self: self.section("tables", "snomed"))
    rxcui = property(lambda self: self.section("tables", "rxcui") or {})
    loinc = property(lambda self: self.section("tables", "loinc") or {})

    def completions(self, index: str, prefix: str = "") -> list[list[str]]:
        """[name, help] pairs of one name index, only those starting with prefix if given."""
        first = prefix[:1].casefold()
        start = f"completions:{index}:"
        firsts = [first] if first else sorted(n[len(start):] for n in self._sections.names if n.startswith(start))
        folded = prefix.casefold()
        return [item for first in firsts for item in self.section("completions", index, first) or []
                if item[0].casefold().startswith(folded)]

    def get(self, entry_id: str) -> Any:
        """The entry (a dict: docs/knowledge-base.md) with this id, or None."""
        return self.entries.get(entry_id)

    def lookup(self, index: str, key: str) -> list[tuple[str, str]]:
        """[(entry id, how named)] for a name key in one index ('medication', 'condition', ...)."""
        found = (self.section("names", index, key[:1]) or {}).get(key)
        return [tuple(target) for target in found] if found else []

    def __reduce__(self) -> tuple[Any, tuple[tuple[str, ...]]]:
        return load, (self.extra_files,)

    def references(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """Reference records for source ids, in order, without repeats (shared: do not modify)."""
        key = tuple(ids)
        cached = self._references.get(key)
        if cached is None:
            sources = {source_id: self.sources.get(source_id) for source_id in key}
            cached = [{"id": source_id, "title": source["title"], "year": source.get("year"), "url": source.get("url")}
                      for source_id, source in sources.items() if source]
            if len(self._references) < 50_000:
                self._references[key] = cached
        return cached
