"""Small read-only SQLite lookup tables built once in the user's cache directory.

Large vocabularies (drug names, ICD-10-CM) load slowly from their packages; each is copied
once into an indexed SQLite file, so a later lookup costs a single query. The file is built
under a temporary name and moved into place, so a half-built file is never used.
"""

import os
import sqlite3
import tempfile
from pathlib import Path

from rlscheck.knowledge.store import cache_dir, prune_stale


class LookupTable:
    def __init__(self, name, version, build_rows):
        """build_rows() yields (key, value, flag) rows; it runs only when the file is missing."""
        self.name = name
        self.path = Path(cache_dir()) / f"{name}-{version}.sqlite"
        self._build_rows = build_rows
        self._connection = None
        self._failed = False

    def _connect(self):
        if self._connection is not None or self._failed:
            return self._connection
        try:
            if not self.path.exists():
                self._build()
            self._connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._connection.execute("SELECT 1 FROM entries LIMIT 1").fetchone()  # a usable file
        except (OSError, sqlite3.Error, ImportError, ValueError, EOFError):
            self._connection = self._in_memory()
        return self._connection

    def _in_memory(self):
        """Cache directory unusable or file corrupt: keep working from memory this run."""
        try:
            connection = sqlite3.connect(":memory:", check_same_thread=False)
            self._fill(connection)
            return connection
        except Exception:  # the vocabulary package itself is unusable: run without it
            self._failed = True
            return None

    def _fill(self, connection):
        connection.execute("CREATE TABLE entries (key TEXT PRIMARY KEY, value TEXT, flag INTEGER)")
        connection.executemany("INSERT OR IGNORE INTO entries VALUES (?, ?, ?)", self._build_rows())
        connection.commit()

    def _build(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".build-", suffix=".sqlite")
        os.close(handle)
        try:
            connection = sqlite3.connect(temporary)
            self._fill(connection)
            connection.close()
            os.replace(temporary, self.path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        prune_stale(self.path, f"{self.name}-", ".sqlite")

    def get(self, key):
        connection = self._connect()
        if connection is None:
            return None
        try:
            return connection.execute("SELECT value, flag FROM entries WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None

    def keys_starting(self, first):
        """Every key that starts with the character `first` (a range scan of the index)."""
        connection = self._connect()
        if connection is None or not first:
            return []
        query = "SELECT key FROM entries WHERE key >= ? AND key < ?"
        try:
            return [row[0] for row in connection.execute(query, (first, chr(ord(first) + 1)))]
        except (sqlite3.Error, ValueError):  # ValueError: a character with no successor
            return []
