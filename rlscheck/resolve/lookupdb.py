"""Large read-only lookup tables (drug names, ICD-10-CM) kept in the cache store.

Their packages load slowly; each table is read from its package once and stored in the cache
store (`rlscheck.knowledge.cache`) as sections of keys sharing their first two characters, so a later
lookup reads one small section. A damaged table is rebuilt once, like any cached owner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rlscheck.knowledge import cache

Row = tuple[str, Any, int]  # (key, value, flag)


class LookupTable:
    def __init__(self, name: str, version: str, build_rows: Callable[[], Iterable[Row]], label: str = "") -> None:
        """build_rows() yields (key, value, flag) rows; it runs only when the store has no
        sound copy of this version of the table. label names the table in the message shown
        while it is built ("the drug vocabulary")."""
        self.name, self.version, self.label = name, version, label or name
        self._build_rows = build_rows
        self._sections: cache.Cached | None = None
        self._failed = False

    def _open(self) -> cache.Cached | None:
        if self._sections is None and not self._failed:
            try:
                self._sections = cache.Cached(self.name, cache.full_key(self.name, self.version), self._build)
            except Exception:  # the package itself is unusable: run without it
                self._failed = True
        return self._sections

    def open(self) -> bool:
        """Build the table now if the store has no sound copy; True when it can be used."""
        return self._open() is not None

    def _build(self) -> dict[str, dict[str, tuple[Any, int]]]:
        import time

        started = time.monotonic()
        said = _say(f"rlscheck: indexing {self.label} into the cache, once (a few seconds)...")
        sections: dict[str, dict[str, tuple[Any, int]]] = {}
        for key, value, flag in self._build_rows():
            if key:
                sections.setdefault(key[:2], {}).setdefault(key, (value, flag))  # the first row of a key wins
        if said:
            _say(f" done in {time.monotonic() - started:.1f} s.\n", end=True)
        return sections

    def get(self, key: object) -> tuple[Any, int] | None:
        """(value, flag) for a key, or None."""
        sections = self._open()
        if sections is None or not isinstance(key, str):
            return None
        return (sections.get(key[:2]) or {}).get(key)

    def keys_starting(self, first: str) -> list[str]:
        """Every key that starts with the character `first`."""
        sections = self._open()
        if sections is None or not first:
            return []
        return [key for name in sorted(sections.names) if name[:1] == first for key in sections.get(name)]


def package_file(module: str) -> str | None:
    """The file of an installed module, found without importing it; None when it is missing."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    return spec.origin if spec is not None else None


def package_version(module: str, table_format: int) -> str:
    """A table's version: its own format and its package's install time ("missing" without it)."""
    import os

    origin = package_file(module)
    return f"{table_format}-{int(os.path.getmtime(origin))}" if origin else "missing"


def _say(text: str, end: bool = False) -> bool:
    """A progress message on stderr, only on a terminal: a first run never stalls silently, and
    pipes and logs stay clean."""
    import sys

    try:
        if not sys.stderr.isatty():
            return False
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        return False
    return True
