"""Load the knowledge base: parse and validate YAML once, then reuse a compiled cache.

The compiled form is plain data written with `marshal` (fast to read, and unlike pickle it
cannot construct arbitrary objects). It lives in the user's cache directory under a key made
of rlscheck's and Python's versions and the path, size, modification time and inode of every
knowledge-base file (the test Python itself uses for its bytecode cache), so an edited file
is never served stale and start-up need not read the YAML at all. A cache file that is
corrupt, truncated or foreign is ignored and rebuilt; an unwritable cache directory only
costs speed. Start-up matters here: completion uses this module, so it imports nothing heavy,
not even the schema.
"""

import marshal
import os
import sys
import zlib

from rlscheck import __version__

FORMAT = 11  # of the compiled cache; bump when its layout changes


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
            return KnowledgeBase(_pack(_build(paths), ""))  # validation reports the unusable file
        parts.append(f"{os.path.abspath(path)}:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}:{info.st_dev}")
    key = "|".join(parts)
    encoded = key.encode("utf-8", "surrogateescape")
    cache_file = os.path.join(cache_dir(), f"kb-{zlib.crc32(encoded):08x}{zlib.adler32(encoded):08x}.marshal")

    def rebuild():
        packed = _pack(_build(paths), key)
        _write_cache(cache_file, packed)
        return packed

    return KnowledgeBase(_open_cache(cache_file, key) or rebuild(), rebuild)


# The cache file: a 24-byte prefix (the header's length and CRC-32, in hex), a header (marshal),
# then numbered sections (marshal blobs), each read and checked only when first used: an
# assessment touches a few dozen entries, so start-up does not grow with the knowledge base.
_PREFIX = 24
_PER_BUCKET = 8  # entries per section: small sections keep the bytes read per lookup small


class Packed:
    """A compiled knowledge base as a header and numbered sections, in memory or in a file."""

    def __init__(self, header, read):
        self.header = header
        self._read = read  # (offset, length) -> bytes

    def section(self, number):
        bounds = self.header["bounds"]
        start, length = bounds[number], bounds[number + 1] - bounds[number]
        blob = self._read(start, length)
        if len(blob) != length or zlib.crc32(blob) != self.header["crcs"][number]:
            raise ValueError("cache section does not match its checksum")
        return marshal.loads(blob)

    def to_bytes(self):
        header = marshal.dumps(self.header)
        return b"%016x%08x" % (len(header), zlib.crc32(header)) + header + self._read(0, self.header["bounds"][-1])


BY_ID = ("entries", "sources")


def id_bucket(record_id, buckets):
    return zlib.crc32(record_id.encode("utf-8", "surrogateescape")) % buckets


def _pack(compiled, key):
    blobs = []

    def add(value):
        blobs.append(marshal.dumps(value))
        return len(blobs) - 1

    entries = compiled["entries"]
    header = {"format": FORMAT, "cache_key": key, "disclaimer": compiled["disclaimer"],
              "primary_rls": compiled["primary_rls"],
              "checks": [entry_id for entry_id, entry in entries.items() if entry["kind"] == "check"],
              "tables": {name: add(compiled[name]) for name in ("children", "icd10", "snomed")},
              "order": {}, "names": {}, "completions": {}}
    for group in BY_ID:  # entries and sources, hashed by id into small sections
        records = compiled[group]
        buckets = [{} for _ in range(max(1, len(records) // _PER_BUCKET))]
        for record_id, record in records.items():
            buckets[id_bucket(record_id, len(buckets))][record_id] = marshal.dumps(record)
        header[group] = [add(bucket) for bucket in buckets]
        header["order"][group] = add(list(records))
    # Names are bucketed by first character, each mapping to "id how" lines in one string.
    for index, table in compiled["names"].items():
        by_first = {}
        for name, targets in table.items():
            by_first.setdefault(name[:1], {})[name] = "\n".join(f"{i} {how}" for i, how in targets)
        header["names"][index] = {first: add(bucket) for first, bucket in by_first.items()}
    for index, items in compiled["completions"].items():
        by_first = {}
        for name, help_text in items:
            by_first.setdefault(name[:1].casefold(), []).append([name, help_text])
        header["completions"][index] = {first: add(bucket) for first, bucket in by_first.items()}
    bounds = [0]
    for blob in blobs:
        bounds.append(bounds[-1] + len(blob))
    header["bounds"], header["crcs"] = bounds, [zlib.crc32(blob) for blob in blobs]
    body = b"".join(blobs)
    return Packed(header, lambda start, length: body[start:start + length])


def _build(paths):
    """Parse, validate and compile; KnowledgeBaseError lists every problem found."""
    from rlscheck.errors import KnowledgeBaseError
    from rlscheck.kbcompile import compile_kb
    from rlscheck.validate import check_files

    merged, issues = check_files(paths, fail_fast=True)  # an unusable extra file fails at once
    errors = [issue for issue in issues if issue.level == "error"]
    if errors:
        raise KnowledgeBaseError(errors)
    return compile_kb(merged)


_HEADER_TYPES = {"format": int, "cache_key": str, "disclaimer": str, "primary_rls": str, "checks": list,
                 "entries": list, "sources": list, "order": dict, "tables": dict, "names": dict, "completions": dict,
                 "bounds": list, "crcs": list}


def _open_cache(cache_file, key):
    """The cache's Packed form, or None when it is missing, corrupt, truncated or foreign."""
    try:
        handle = _ReadOnlyFile(cache_file)
        prefix = handle.read(0, _PREFIX)
        length, crc = int(prefix[:16], 16), int(prefix[16:], 16)
        raw = handle.read(_PREFIX, length)
        if len(raw) != length or zlib.crc32(raw) != crc:
            return None
        header = marshal.loads(raw)
    except (OSError, ValueError, EOFError, TypeError, RecursionError):
        return None
    if not (isinstance(header, dict) and all(isinstance(header.get(f), t) for f, t in _HEADER_TYPES.items())
            and header["format"] == FORMAT and header["cache_key"] == key
            and handle.size == _PREFIX + length + header["bounds"][-1]):
        return None
    base = _PREFIX + length
    return Packed(header, lambda start, size: handle.read(base + start, size))


class _ReadOnlyFile:
    """Reads at an offset without a shared file position (forked batch workers read too)."""

    def __init__(self, path):
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self.size = os.fstat(self._fd).st_size
        if not hasattr(os, "pread"):  # Windows: read it all now, and leave the file free to replace
            try:
                self._data = os.read(self._fd, self.size)
            finally:
                self.close()

    def read(self, start, length):
        if self._fd is None:
            return self._data[start:start + length]
        return os.pread(self._fd, length, start)

    def close(self):
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            os.close(fd)

    __del__ = close


def _write_cache(cache_file, packed):
    import tempfile

    temporary = None
    try:
        os.makedirs(os.path.dirname(cache_file), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(cache_file), prefix=".kb-", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(packed.to_bytes())
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


class ById:
    """Entries or sources by id: a read-only mapping, decoded section by section as used."""

    def __init__(self, kb, group):
        self._kb, self._group = kb, group
        self._decoded = {}

    def _blobs(self, record_id):
        return self._kb.section(self._group, record_id) if isinstance(record_id, str) else {}

    def get(self, record_id, default=None):
        found = self._decoded.get(record_id)
        if found is None:
            blob = self._blobs(record_id).get(record_id)
            if blob is None:
                return default
            found = self._decoded[record_id] = marshal.loads(blob)
        return found

    def __getitem__(self, record_id):
        found = self.get(record_id)
        if found is None:
            raise KeyError(record_id)
        return found

    def __contains__(self, record_id):
        return record_id in self._blobs(record_id)

    def __iter__(self):
        return iter(self._kb.section("order", self._group))

    def __len__(self):
        return len(self._kb.section("order", self._group))

    def items(self):
        return ((record_id, self[record_id]) for record_id in self)

    def values(self):
        return (self[record_id] for record_id in self)


class KnowledgeBase:
    """Read-only access to the compiled knowledge base, decoded lazily, section by section.
    A section found corrupt is not trusted: the knowledge base is rebuilt from its YAML."""

    def __init__(self, packed, rebuild=None):
        self._packed, self._rebuild = packed, rebuild
        header = packed.header
        self.check_ids = header["checks"]
        self.disclaimer = header["disclaimer"]
        self.primary_rls = header["primary_rls"]
        self.entries = ById(self, "entries")
        self.sources = ById(self, "sources")
        self._sections = {}
        self._paths = {}
        self._references = {}
        self.memo = {}  # derived values other modules compute once per knowledge base

    def section(self, *name):
        """A decoded section, or None if there is none: ('entries', id) and ('sources', id) for
        the section holding that id, ('order', group), ('tables', name), ('names', index,
        first character) and ('completions', index, first character)."""
        header = self._packed.header
        if name[0] in BY_ID:  # named by bucket, so that a section is decoded once
            name = (name[0], id_bucket(name[1], len(header[name[0]])))
        if name in self._sections:
            return self._sections[name]
        try:
            value = self._read(name)
        except (OSError, ValueError, EOFError, TypeError, RecursionError):
            if self._rebuild is None:
                raise
            self._packed, self._rebuild = self._rebuild(), None  # same content, maybe another layout
            value = self._read(name)
        self._sections[name] = value
        return value

    def _read(self, name):
        group = self._packed.header[name[0]]
        number = group[name[1]] if len(name) == 2 else group.get(name[1], {}).get(name[2])
        return None if number is None else self._packed.section(number)

    children = property(lambda self: self.section("tables", "children"))
    icd10 = property(lambda self: self.section("tables", "icd10"))
    snomed = property(lambda self: self.section("tables", "snomed"))

    def completions(self, index, prefix=""):
        """[name, help] pairs of one name index, only those starting with prefix if given."""
        first = prefix[:1].casefold()
        firsts = [first] if first else list(self._packed.header["completions"].get(index, {}))
        folded = prefix.casefold()
        return [item for first in firsts for item in self.section("completions", index, first) or []
                if item[0].casefold().startswith(folded)]

    def get(self, entry_id):
        return self.entries.get(entry_id)

    def lookup(self, index, key):
        """[(entry id, how named)] for a name key in one index ('medication', 'condition', ...)."""
        found = (self.section("names", index, key[:1]) or {}).get(key)
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
        from rlscheck.schema import FINDING_RELATIONS  # here, not at the top: completion needs no schema

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
