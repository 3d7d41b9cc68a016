"""Load the knowledge base: parse and validate YAML once, then reuse a compiled cache.

The compiled form is plain data written with `marshal` (fast to read, and unlike pickle it
cannot construct arbitrary objects). It lives in the user's cache directory under a key made
of rlscheck's and Python's versions and the path, size, modification time and inode of every
knowledge-base file (the test Python itself uses for its bytecode cache), so an edited file
is never served stale and start-up need not read the YAML at all. A cache file that is
corrupt, truncated or foreign is ignored and rebuilt; an unwritable cache directory only
costs speed. Start-up matters here: this module imports nothing heavy.
"""

import marshal
import os
import sys
import zlib

from rlscheck import __version__
from rlscheck.errors import KnowledgeBaseError
from rlscheck.schema import CERTAINTIES, DEFAULT_CERTAINTY, EVIDENCE, FINDING_RELATIONS

FORMAT = 9  # of the compiled cache; bump when its layout changes


def shipped_path():
    """data/causes.yaml inside the installed package, or at the top of a source checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "data", "causes.yaml")
    checkout = os.path.join(os.path.dirname(here), "data", "causes.yaml")
    return checkout if not os.path.isfile(installed) and os.path.isfile(checkout) else installed


def cache_dir():
    override = os.environ.get("RLSCHECK_CACHE_DIR")
    if override:
        return override
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(home, "Library", "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return os.path.join(base, "rlscheck")


def load(extra_files=()):
    """The knowledge base made of the shipped file and any extra files, in that order."""
    paths = [shipped_path()] + [os.fspath(p) for p in extra_files]
    parts = [__version__, sys.version, str(FORMAT)]
    for path in paths:
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            return KnowledgeBase(_build(paths))  # validation reports the unusable file
        parts.append(f"{os.path.abspath(path)}:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}:{info.st_dev}")
    key = "|".join(parts)
    encoded = key.encode("utf-8", "surrogateescape")
    name = f"{zlib.crc32(encoded):08x}{zlib.adler32(encoded):08x}"
    cache_file = os.path.join(cache_dir(), f"kb-{name}.marshal")
    data = _read_cache(cache_file, key)
    if data is None:
        data = _pack(_build(paths))
        data["cache_key"] = key
        _write_cache(cache_file, data)
    return KnowledgeBase(data)


PACKED = ("sources", "children", "icd10", "snomed")


def _pack(compiled):
    """Store each entry and each large table as its own marshal blob, decoded only when used:
    one assessment touches a few dozen entries, not the whole knowledge base."""
    packed = {key: value for key, value in compiled.items()
              if key not in PACKED + ("entries", "names", "completions")}
    # Entries and names are single blobs too: completion, which needs neither, skips decoding them.
    packed["entries"] = marshal.dumps({entry_id: marshal.dumps(entry)
                                       for entry_id, entry in compiled["entries"].items()})
    # Names are bucketed by first character, and each maps to "id how" lines in one string:
    # a lookup decodes one small bucket, whatever the size of the knowledge base.
    names = {}
    for index, table in compiled["names"].items():
        buckets = {}
        for key, targets in table.items():
            buckets.setdefault(key[:1], {})[key] = "\n".join(f"{i} {how}" for i, how in targets)
        names[index] = marshal.dumps({first: marshal.dumps(b) for first, b in buckets.items()})
    packed["names"] = marshal.dumps(names)
    for key in PACKED:
        packed[key] = marshal.dumps(compiled[key])
    packed["completions"] = {}
    for index, items in compiled["completions"].items():
        buckets = {}
        for name, help_text in items:
            buckets.setdefault(name[:1].casefold(), []).append([name, help_text])
        packed["completions"][index] = {first: marshal.dumps(b) for first, b in buckets.items()}
    packed["checks"] = [e["id"] for e in compiled["entries"].values() if e["kind"] == "check"]
    return packed


def _build(paths):
    """Parse, validate and compile; KnowledgeBaseError lists every problem found."""
    from rlscheck.kbcompile import compile_kb
    from rlscheck.validate import check_files

    merged, issues = check_files(paths, fail_fast=True)  # an unusable extra file fails at once
    errors = [issue for issue in issues if issue.level == "error"]
    if errors:
        raise KnowledgeBaseError(errors)
    return compile_kb(merged)


def _read_cache(cache_file, key):
    try:
        with open(cache_file, "rb") as handle:
            raw = handle.read()
        # The first 8 bytes are a checksum of the rest: a corrupted or truncated file is rebuilt.
        if len(raw) < 8 or int(raw[:8], 16) != zlib.crc32(raw[8:]):
            return None
        data = marshal.loads(raw[8:])
    except (OSError, ValueError, EOFError, TypeError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("cache_key") != key:
        return None
    needed = {"entries": bytes, "names": bytes, "completions": dict, "checks": list, "disclaimer": str,
              "primary_rls": str,
              **{key: bytes for key in PACKED}}
    if not all(isinstance(data.get(field), kind) for field, kind in needed.items()):
        return None
    return data


def _write_cache(cache_file, data):
    import tempfile

    temporary = None
    try:
        os.makedirs(os.path.dirname(cache_file), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(cache_file), prefix=".kb-", suffix=".tmp")
        payload = marshal.dumps(data)
        with os.fdopen(handle, "wb") as out:
            out.write(b"%08x" % zlib.crc32(payload) + payload)
        os.replace(temporary, cache_file)
    except (OSError, ValueError):
        if temporary and os.path.exists(temporary):
            os.unlink(temporary)
        return
    prune_stale(cache_file, "kb-", ".marshal")


STALE_AFTER = 30 * 24 * 3600  # seconds


def prune_stale(kept, prefix, suffix):
    """Remove cache files of the same kind as `kept` (a file just written) that are over a
    month old: earlier versions and edited knowledge bases leave them behind."""
    import time

    directory = os.path.dirname(os.fspath(kept))
    cutoff = time.time() - STALE_AFTER
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        path = os.path.join(directory, name)
        if not (name.startswith(prefix) and name.endswith(suffix)) or path == os.fspath(kept):
            continue
        try:
            if os.stat(path).st_mtime < cutoff:
                os.unlink(path)
        except OSError:  # gone already, or not ours to remove
            continue


class LazyMap:
    """A read-only mapping whose values are marshal blobs, decoded on first access."""

    def __init__(self, blobs):
        self._blobs = blobs
        self._decoded = {}

    def get(self, key, default=None):
        if key in self._decoded:
            return self._decoded[key]
        blob = self._blobs.get(key)
        if blob is None:
            return default
        try:
            value = marshal.loads(blob)
        except (ValueError, EOFError, TypeError):
            return default
        self._decoded[key] = value
        return value

    def __getitem__(self, key):
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key):
        return key in self._blobs

    def __iter__(self):
        return iter(self._blobs)

    def __len__(self):
        return len(self._blobs)

    def items(self):
        return ((key, self[key]) for key in self._blobs)

    def values(self):
        return (self[key] for key in self._blobs)


class KnowledgeBase:
    """Read-only access to the compiled knowledge base (decoded lazily, part by part)."""

    def __init__(self, data):
        self._maps = {"entries": data["entries"], "names": data["names"]}
        self.check_ids = data["checks"]
        self._completions = data["completions"]
        self.disclaimer = data["disclaimer"]
        self.primary_rls = data["primary_rls"]
        self._packed = {key: data[key] for key in PACKED}
        self._tables = {}
        self._paths = {}
        self._references = {}
        self._buckets = {}
        self.memo = {}  # derived values other modules compute once per knowledge base

    def _table(self, key):
        if key not in self._tables:
            self._tables[key] = marshal.loads(self._packed[key])
        return self._tables[key]

    def _map(self, key):
        found = self._maps[key]
        if isinstance(found, bytes):
            found = self._maps[key] = LazyMap(marshal.loads(found))
        return found

    entries = property(lambda self: self._map("entries"))
    names = property(lambda self: self._map("names"))
    sources = property(lambda self: self._table("sources"))
    children = property(lambda self: self._table("children"))
    icd10 = property(lambda self: self._table("icd10"))
    snomed = property(lambda self: self._table("snomed"))

    def completions(self, index, prefix=""):
        """[name, help] pairs of one name index, only those starting with prefix if given."""
        buckets = self._completions.get(index, {})
        first = prefix[:1].casefold()
        blobs = [buckets[first]] if first in buckets else [] if first else list(buckets.values())
        folded = prefix.casefold()
        return [item for blob in blobs for item in marshal.loads(blob) if item[0].casefold().startswith(folded)]

    def get(self, entry_id):
        return self.entries.get(entry_id)

    def lookup(self, index, key):
        """[(entry id, how named)] for a name key in one index ('medication', 'condition', ...)."""
        buckets = self.names.get(index) or {}
        blob = buckets.get(key[:1])
        if blob is None:
            return []
        cache_key = (index, key[:1])
        if cache_key not in self._buckets:
            self._buckets[cache_key] = marshal.loads(blob)
        found = self._buckets[cache_key].get(key)
        return [tuple(line.split(" ", 1)) for line in found.split("\n")] if found else []

    def parents(self, entry):
        return entry.get("parents", []) + entry.get("classes", [])

    def class_paths(self, entry_id):
        """Every path from an entry up through its classes to a root: [[id, parent, ...], ...]."""
        cached = self._paths.get(entry_id)
        if cached is None:
            entry = self.entries[entry_id]
            ups = [p for p in self.parents(entry) if p in self.entries]
            cached = [[entry_id] + path for parent in ups for path in self.class_paths(parent)] or [[entry_id]]
            self._paths[entry_id] = cached
        return cached

    def withdrawal_block(self, entry_id):
        """(block, path, index in path) of the nearest withdrawal link of an entry or its
        classes, or None: stopping it is then not linked."""
        for path in self.class_paths(entry_id):
            for index, step in enumerate(path):
                block = self.entries[step].get("withdrawal")
                if block:
                    return block, path, index
        return None

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
        """Reference records for source ids, in order, without repeats (shared: do not modify)."""
        key = tuple(ids)
        cached = self._references.get(key)
        if cached is None:
            cached = []
            for source_id in dict.fromkeys(ids):
                source = self.sources.get(source_id)
                if source:
                    cached.append({"id": source_id, "title": source["title"], "year": source.get("year"),
                                   "url": source.get("url")})
            if len(self._references) < 50_000:
                self._references[key] = cached
        return cached


def best_evidence(codes):
    """The strongest evidence code's words, e.g. ['CR', 'SR'] -> 'systematic review'."""
    ranked = [code for code in EVIDENCE if code in codes]
    return EVIDENCE[ranked[0]] if ranked else EVIDENCE["UNS"]


def evidence_words(codes):
    return [EVIDENCE[code] for code in EVIDENCE if code in codes]


_CERTAINTY_RANK = {certainty: rank for rank, certainty in enumerate(CERTAINTIES)}


def certainty_rank(certainty):
    return _CERTAINTY_RANK.get(certainty, len(CERTAINTIES))
