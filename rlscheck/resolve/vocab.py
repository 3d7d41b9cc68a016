"""A general drug vocabulary, so that common medicines without an RLS link are recognised.

Backed by the drug-named-entity-recognition package (about 107,000 names of 20,000 drugs),
read once from its data file into a SQLite table in the user's cache. Mappings known to be
wrong or ambiguous are left out.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from rlscheck.resolve.lookupdb import LookupTable, package_file, package_version
from rlscheck.resolve.normalize import name_key

# Names the vocabulary maps to the wrong drug, or that cover several different products.
UNRELIABLE = frozenset({
    "ranitidin 1a pharma", "website dailymed", "velphoro", "sucroferric oxyhydroxide", "sultopride",
    "polaramine", "dimetapp", "unisom", "benylin", "sominex", "alcohol",
})
_FORMAT = 2


def _rows() -> Iterator[tuple[str, str, int]]:
    import bz2
    import pickle
    from pathlib import Path

    origin = package_file("drug_named_entity_recognition")
    if origin is None:
        return
    data_file = Path(origin).parent / "drug_ner_dictionary.pkl.bz2"
    # The package ships its dictionary as a pickle; it is read here once, never our own cache.
    with bz2.open(data_file, "rb") as handle:
        dictionary = pickle.load(handle)
    brands = dictionary.get("drug_variant_to_variant_data", {})
    for variant, canonicals in dictionary["drug_variant_to_canonical"].items():
        key = name_key(variant)
        if not key or key in UNRELIABLE or not canonicals:
            continue
        is_brand = bool(brands.get(variant, {}).get("is_brand"))
        yield key, canonicals[0], int(is_brand)


_keys: dict[str, list[str]] = {}  # vocabulary names by first character, read on demand


@functools.cache
def table() -> LookupTable:
    """The drug-name lookup table, built into the cache store on first use."""
    return LookupTable("drugnames", package_version("drug_named_entity_recognition", _FORMAT), _rows,
                       "the drug vocabulary")


def lookup(key: str) -> tuple[str, bool] | None:
    """(canonical name, is brand) for a name key, or None."""
    if not key or len(key) > 300:
        return None
    row = table().get(key)
    return (row[0], bool(row[1])) if row else None


def suggest(key: str, limit: int = 3) -> list[str]:
    """Close vocabulary names; only names with the same first letter are compared (fast, and
    misspellings rarely change the first letter)."""
    if not key or len(key) > 200:
        return []
    from rapidfuzz import fuzz, process

    first = key[:1]
    candidates = _keys.get(first)
    if candidates is None:
        candidates = _keys[first] = table().keys_starting(first)
    return [name for name, _, _ in process.extract(key, candidates, scorer=fuzz.ratio, limit=limit, score_cutoff=85)]

