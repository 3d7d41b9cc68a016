"""The cache store: one SQLite file in the user's cache directory, shared by the compiled
knowledge base and the vocabulary and ICD-10-CM lookup tables.

Each owner (a knowledge base, a lookup table) is a set of named sections of plain data
(`marshal` of dicts, lists, strings and numbers: it cannot build other objects), read one by
one when first used. Every row carries a CRC-32 of its owner, name and bytes, and the owner's
header row lists its sections, so any damage is detected: a flipped bit, a missing or
truncated row, a truncated or foreign file, another schema. Damage is never trusted: the
owner is rebuilt from its sources once, used from memory for the rest of the run and written
back (into a fresh file when SQLite itself cannot use the old one). An unwritable cache
directory only costs speed.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import sys
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Tuple

from rlscheck import __version__

SCHEMA = 1  # PRAGMA user_version of the store; bump when the table changes
FILE_NAME = "cache.sqlite"
STALE_AFTER = 30 * 24 * 3600  # seconds: owners of a kind not rewritten for a month are removed
_CREATE = ("CREATE TABLE sections (owner TEXT NOT NULL, name TEXT NOT NULL, crc INTEGER NOT NULL, "
           "stamp INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (owner, name)) WITHOUT ROWID")
_HEADER = ""  # the section name of an owner's header row
Row = Tuple[str, str, int, int, bytes]  # a row of the store: (owner, name, crc, stamp, data)
LEGACY = (("kb-", ".marshal"), ("drugnames-", ".sqlite"), ("icd10cm-", ".sqlite"))  # earlier cache files


def cache_dir() -> str:
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


def store_path() -> str:
    return os.path.join(cache_dir(), FILE_NAME)


class Damaged(Exception):
    """A cache row that is missing, unreadable or does not match its checksum."""


def owner_id(kind: str, key: str) -> str:
    """A short row key for an owner; the header keeps the full key to confirm it."""
    encoded = key.encode("utf-8", "surrogateescape")
    return f"{kind}-{zlib.crc32(encoded):08x}{zlib.adler32(encoded):08x}"


def full_key(*parts: object) -> str:
    """An owner's key: the given parts plus what the stored bytes depend on."""
    return "|".join([__version__, sys.version, str(SCHEMA), *map(str, parts)])


def _crc(owner: str, name: str, data: bytes) -> int:
    return zlib.crc32(data, zlib.crc32(f"{owner}\0{name}\0".encode("utf-8", "surrogateescape")))


_connection: tuple[int, str, sqlite3.Connection] | None = None  # (process id, path, read-only connection): a forked worker opens its own
_inherited: list[tuple[int, str, sqlite3.Connection]] = []


def _reader() -> sqlite3.Connection:
    global _connection
    path = store_path()
    if _connection is not None and _connection[:2] == (os.getpid(), path):
        return _connection[2]
    if _connection is not None and _connection[0] != os.getpid():
        _inherited.append(_connection)  # the parent's: neither used nor closed here
    uri = "file:" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    _connection = (os.getpid(), path, connection)
    return connection


def _forget_reader() -> None:
    global _connection
    if _connection is not None and _connection[0] != os.getpid():
        _inherited.append(_connection)
    elif _connection is not None:
        try:
            _connection[2].close()
        except sqlite3.Error:
            pass
    _connection = None


class Stored:
    """One owner's sections in the store, checked row by row as they are read."""

    def __init__(self, owner: str, names: Collection[str]) -> None:
        self.owner, self.names = owner, names

    def get(self, name: str) -> Any:
        """A section's value; None if the owner has no such section; Damaged if unreadable."""
        if name not in self.names:
            return None
        try:
            row = _reader().execute("SELECT crc, data FROM sections WHERE owner = ? AND name = ?",
                                    (self.owner, name)).fetchone()
            if row is None or not isinstance(row[1], bytes) or row[0] != _crc(self.owner, name, row[1]):
                raise Damaged(name)
            return marshal.loads(row[1])
        except (sqlite3.Error, ValueError, EOFError, TypeError) as error:
            raise Damaged(name) from error


def open_owner(kind: str, key: str) -> Stored | None:
    """The owner's sections in the store, or None when missing, foreign or damaged."""
    owner = owner_id(kind, key)
    try:
        connection = _reader()
        if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
            return None
        header = Stored(owner, {_HEADER}).get(_HEADER)
    except (sqlite3.Error, Damaged, OSError):
        return None
    if not (isinstance(header, dict) and header.get("key") == key and isinstance(header.get("names"), list)):
        return None
    return Stored(owner, frozenset(header["names"]))


def write_owner(kind: str, key: str, sections: Mapping[str, Any]) -> None:
    """Store an owner's sections (name -> plain data), replacing what it had. Best effort:
    a cache that cannot be written only costs the next run a rebuild."""
    import time

    owner, stamp = owner_id(kind, key), int(time.time())
    try:
        rows: list[tuple[Any, ...]] = [(owner, name, stamp, marshal.dumps(value)) for name, value in sections.items()]
        rows.append((owner, _HEADER, stamp, marshal.dumps({"key": key, "names": sorted(sections)})))
    except ValueError:  # not plain data: nothing to cache
        return
    rows = [(owner, name, _crc(owner, name, data), stamp, data) for owner, name, stamp, data in rows]
    path = store_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            _write_rows(path, kind, owner, rows, stamp)
        except (sqlite3.DatabaseError, Damaged) as error:
            if isinstance(error, sqlite3.OperationalError) and not _unusable(error):
                return  # busy or read-only: leave the file to whoever holds it
            _replace_file(path, rows)  # SQLite cannot use the file: start a new one
        _forget_reader()
        _prune_legacy(os.path.dirname(path), stamp)
    except (OSError, sqlite3.Error):
        _forget_reader()


def _unusable(error: BaseException) -> bool:
    text = str(error).lower()
    return "malformed" in text or "not a database" in text or "no such table" in text or "no such column" in text


def _write_rows(path: str, kind: str, owner: str, rows: Sequence[Row], stamp: int) -> None:
    connection = sqlite3.connect(path, timeout=10)
    try:
        with connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version == 0 and not connection.execute("SELECT 1 FROM sqlite_master").fetchone():
                connection.execute(_CREATE)
                connection.execute(f"PRAGMA user_version = {SCHEMA}")
            elif version != SCHEMA:
                raise Damaged("another schema")
            connection.execute("DELETE FROM sections WHERE owner = ?", (owner,))
            stale = [row[0] for row in connection.execute(
                "SELECT owner FROM sections WHERE name = '' AND owner LIKE ? AND stamp < ?",
                (kind + "-%", stamp - STALE_AFTER))]
            connection.executemany("DELETE FROM sections WHERE owner = ?", [(old,) for old in stale])
            connection.executemany("INSERT INTO sections VALUES (?, ?, ?, ?, ?)", rows)
        # Read back what was written: a file damaged where SQLite does not notice is replaced.
        written = dict(connection.execute("SELECT name, crc FROM sections WHERE owner = ?", (owner,)).fetchall())
        if written != {row[1]: row[2] for row in rows}:
            raise Damaged("not written as given")
        for name, crc, data in connection.execute("SELECT name, crc, data FROM sections WHERE owner = ?", (owner,)):
            if crc != _crc(owner, name, data):
                raise Damaged(name)
    finally:
        connection.close()


def _replace_file(path: str, rows: Iterable[Row]) -> None:
    """A new store holding these rows only, moved over the old one in one step."""
    import tempfile

    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".cache-", suffix=".sqlite")
    os.close(handle)
    try:
        connection = sqlite3.connect(temporary)
        try:
            with connection:
                connection.execute(_CREATE)
                connection.execute(f"PRAGMA user_version = {SCHEMA}")
                connection.executemany("INSERT INTO sections VALUES (?, ?, ?, ?, ?)", rows)
        finally:
            connection.close()
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _prune_legacy(directory: str, now: float) -> None:
    """Remove cache files of earlier releases once they are a month old."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if any(name.startswith(prefix) and name.endswith(suffix) for prefix, suffix in LEGACY):
            path = os.path.join(directory, name)
            try:
                if os.stat(path).st_mtime < now - STALE_AFTER:
                    os.unlink(path)
            except OSError:  # gone already, or not ours to remove
                continue


class Cached:
    """An owner's sections: read from the store when first used, or built by `build()` (a
    dict name -> plain data) when the store has none. Damage found at any point makes it
    rebuild once, keep the result in memory for this run and write it back."""

    def __init__(self, kind: str, key: str, build: Callable[[], dict[str, Any]], store: bool = True) -> None:
        self._kind, self._key, self._build, self._store = kind, key, build, store
        self._values: dict[str, Any] = {}
        self._memory: dict[str, Any] | None = None
        self._stored = open_owner(kind, key) if store else None
        if self._stored is None:
            self._rebuild()

    @property
    def names(self) -> Collection[str]:
        return self._stored.names if self._memory is None else self._memory.keys()  # type: ignore[union-attr]  # one is set

    def get(self, name: str) -> Any:
        """A section's value, or None when there is no such section."""
        try:
            return self._values[name]
        except KeyError:
            pass
        if self._memory is None:
            try:
                value = self._stored.get(name)  # type: ignore[union-attr]  # set while _memory is not
            except Damaged:
                self._rebuild()
                value = self._memory.get(name)  # type: ignore[attr-defined]  # set by _rebuild()
        else:
            value = self._memory.get(name)
        self._values[name] = value
        return value

    def _rebuild(self) -> None:
        self._memory, self._stored, self._values = self._build(), None, {}
        if self._store:
            write_owner(self._kind, self._key, self._memory)
