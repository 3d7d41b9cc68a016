"""Large read-only lookup tables (drug names, ICD-10-CM) kept in the cache store.

Their packages load slowly; each table is read from its package once and stored in the cache
store (`rlscheck.knowledge.cache`) as sections of keys sharing their first two characters, so a later
lookup reads one small section. A damaged table is rebuilt once, like any cached owner.
"""

from rlscheck.knowledge import cache


class LookupTable:
    def __init__(self, name, version, build_rows):
        """build_rows() yields (key, value, flag) rows; it runs only when the store has no
        sound copy of this version of the table."""
        self.name, self.version = name, version
        self._build_rows = build_rows
        self._sections = None
        self._failed = False

    def _open(self):
        if self._sections is None and not self._failed:
            try:
                self._sections = cache.Cached(self.name, cache.full_key(self.name, self.version), self._build)
            except Exception:  # the package itself is unusable: run without it
                self._failed = True
        return self._sections

    def _build(self):
        sections = {}
        for key, value, flag in self._build_rows():
            if key:
                sections.setdefault(key[:2], {}).setdefault(key, (value, flag))  # the first row of a key wins
        return sections

    def get(self, key):
        """(value, flag) for a key, or None."""
        sections = self._open()
        if sections is None or not isinstance(key, str):
            return None
        return (sections.get(key[:2]) or {}).get(key)

    def keys_starting(self, first):
        """Every key that starts with the character `first`."""
        sections = self._open()
        if sections is None or not first:
            return []
        return [key for name in sorted(sections.names) if name[:1] == first for key in sections.get(name)]
