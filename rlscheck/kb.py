"""Load the knowledge base: parse and validate YAML once, then reuse a compiled JSON cache.

The cache lives in the user's cache directory and is keyed by rlscheck's version and a hash
of every knowledge-base file's bytes, so an edited file is never served stale. A cache file
that is corrupt, truncated or foreign is ignored and rebuilt; an unwritable cache directory
only costs speed.
"""

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from rlscheck import __version__
from rlscheck.errors import KnowledgeBaseError
from rlscheck.schema import CERTAINTIES, DEFAULT_CERTAINTY, EVIDENCE, FINDING_RELATIONS


def shipped_path() -> Path:
    """data/causes.yaml inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "data" / "causes.yaml", here.parent / "data" / "causes.yaml"):
        if candidate.is_file():
            return candidate
    return here / "data" / "causes.yaml"


def cache_dir() -> Path:
    override = os.environ.get("RLSCHECK_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rlscheck"


def load(extra_files=()):
    """The knowledge base made of the shipped file and any extra files, in that order."""
    paths = [shipped_path()] + [Path(p) for p in extra_files]
    digest = hashlib.sha256(__version__.encode())
    for path in paths:
        try:
            digest.update(str(path).encode("utf-8", "surrogateescape") + b"\0" + path.read_bytes() + b"\0")
        except OSError:
            return KnowledgeBase(_build(paths))  # let validation report the unreadable file
    key = digest.hexdigest()
    cache_file = cache_dir() / f"kb-{key[:40]}.json"
    data = _read_cache(cache_file, key)
    if data is None:
        data = _build(paths)
        data["cache_key"] = key
        _write_cache(cache_file, data)
    return KnowledgeBase(data)


def _build(paths):
    from rlscheck.kbcompile import compile_kb
    from rlscheck.validate import check_files

    merged, issues = check_files(paths)
    errors = [issue for issue in issues if issue.level == "error"]
    if errors:
        raise KnowledgeBaseError(errors)
    return compile_kb(merged)


def _read_cache(cache_file, key):
    from rlscheck.kbcompile import FORMAT

    try:
        with open(cache_file, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("cache_key") != key:
        return None
    needed = {"entries": dict, "sources": dict, "names": dict, "children": dict, "icd10": list,
              "snomed": dict, "completions": dict, "disclaimer": str, "primary_rls": str}
    if not all(isinstance(data.get(field), kind) for field, kind in needed.items()):
        return None
    return data


def _write_cache(cache_file, data):
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_file.parent, prefix=".kb-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
        os.replace(temporary, cache_file)
    except OSError:
        pass


class KnowledgeBase:
    """Read-only access to the compiled knowledge base."""

    def __init__(self, data):
        self.data = data
        self.entries = data["entries"]
        self.sources = data["sources"]
        self.names = data["names"]
        self.children = data["children"]
        self.disclaimer = data["disclaimer"]
        self.primary_rls = data["primary_rls"]

    def get(self, entry_id):
        return self.entries.get(entry_id)

    def lookup(self, index, key):
        """[(entry id, how named)] for a name key in one index ('medication', 'condition', ...)."""
        return [tuple(item) for item in self.names.get(index, {}).get(key, [])]

    def parents(self, entry):
        return entry.get("parents", []) + entry.get("classes", [])

    def class_paths(self, entry_id):
        """Every path from an entry up through its classes to a root: [[id, parent, ...], ...]."""
        entry = self.entries[entry_id]
        ups = [p for p in self.parents(entry) if p in self.entries]
        if not ups:
            return [[entry_id]]
        paths = []
        for parent in ups:
            for path in self.class_paths(parent):
                paths.append([entry_id] + path)
        return paths

    def effective_relation(self, entry_id):
        """The entry's own relation, or failing that the nearest class relation."""
        for path in self.class_paths(entry_id):
            for step in path:
                relation = self.entries[step].get("relation")
                if relation:
                    return relation if step == entry_id else ("cause-class" if relation in FINDING_RELATIONS else relation)
        return None

    def descendants(self, entry_id):
        seen = []
        stack = [entry_id]
        while stack:
            for child in self.children.get(stack.pop(), []):
                if child not in seen:
                    seen.append(child)
                    stack.append(child)
        return seen

    def certainty(self, entry):
        return entry.get("certainty") or DEFAULT_CERTAINTY.get(entry.get("relation"), "weak")

    def references(self, ids):
        """Reference records for source ids, in order, without repeats."""
        out = []
        for source_id in dict.fromkeys(ids):
            source = self.sources.get(source_id)
            if source:
                out.append({
                    "id": source_id,
                    "title": source["title"],
                    "year": source.get("year"),
                    "url": source.get("url"),
                })
        return out


def best_evidence(codes):
    """The strongest evidence code's words, e.g. ['CR', 'SR'] -> 'systematic review'."""
    ranked = [code for code in EVIDENCE if code in codes]
    return EVIDENCE[ranked[0]] if ranked else EVIDENCE["UNS"]


def evidence_words(codes):
    return [EVIDENCE[code] for code in EVIDENCE if code in codes]


def certainty_rank(certainty):
    return CERTAINTIES.index(certainty) if certainty in CERTAINTIES else len(CERTAINTIES)
