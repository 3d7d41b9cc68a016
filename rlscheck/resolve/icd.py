"""ICD-10-CM validity and descriptions from the official tables (simple-icd-10-cm), cached."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from rlscheck.resolve.lookupdb import LookupTable, package_version


def _rows() -> Iterator[tuple[str, str, int]]:
    """Codes with their descriptions, and descriptions (as name keys) pointing back to codes."""
    import simple_icd_10_cm as icd

    from rlscheck.resolve.normalize import name_key

    for code in icd.get_all_codes(True):
        if code[:1].isalpha() and "-" not in code:
            description = icd.get_description(code)
            yield code.upper(), description, 1
            key = name_key(description)
            yield key, code.upper(), 0
            if key.endswith(" unspecified"):
                yield key[: -len(" unspecified")], code.upper(), 0


@functools.cache
def table() -> LookupTable:
    """The ICD-10-CM lookup table, built into the cache store on first use."""
    return LookupTable("icd10cm", package_version("simple_icd_10_cm", 2), _rows, "the ICD-10-CM tables")


def code_for_name(key: str) -> tuple[str, str] | None:
    """(code, description) when a name key is exactly an ICD-10-CM description, else None."""
    row = table().get(key)
    if row and row[1] == 0:
        return row[0], table().get(row[0])[0]  # type: ignore[index]  # a name row points to a code row
    return None


def describe(code: str) -> tuple[bool | None, str]:
    """(valid, description): valid is None when the tables are unavailable."""
    codes = table()
    row = codes.get(code)
    if row and row[1] == 1:
        return True, row[0]
    return (None if codes.get("E11.42") is None else False), ""  # None: the tables are unavailable, cannot judge
