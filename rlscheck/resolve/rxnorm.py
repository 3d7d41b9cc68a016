"""A user's own RxNorm release (e.g. the licence-free prescribable subset), indexed once into
the cache so that any RxCUI (clinical or branded drug, brand name, component) maps to the
names of its ingredients. The index is an owner of the shared cache store, in sections by the
last three digits of the RxCUI.

RXNCONSO.RRF gives each concept's name and term type (TTY); RXNREL.RRF links them. From a
concept the index walks only towards simpler concepts (branded drug -> clinical drug ->
component -> ingredient), so a shared component never leads to other products' ingredients.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from rlscheck.errors import UsageError
from rlscheck.knowledge import cache
from rlscheck.textsafe import safe

KIND, KEY = "rxnorm", "user release"  # not tied to rlscheck's version: the user loaded it
# How complex a concept is; the walk only goes to a lower rank, ending at ingredients (0).
RANK = {"IN": 0, "PIN": 0, "MIN": 1, "SCDC": 1, "BN": 1, "SCDF": 2, "SCDG": 2, "SBDC": 2, "SBDF": 3, "SBDG": 3,
        "SCD": 3, "SBD": 4, "GPCK": 5, "BPCK": 5}
INGREDIENT = {"IN", "PIN"}
RELATIONS = {"has_ingredient", "ingredient_of", "has_ingredients", "ingredients_of", "consists_of", "constitutes",
             "tradename_of", "has_tradename", "has_precise_ingredient", "precise_ingredient_of", "contains",
             "contained_in", "isa", "inverse_isa", "has_part", "part_of", "form_of", "has_form"}
_loaded: Any = None  # the stored index, looked for once per run; False when none was loaded


def ingredients(rxcui: object) -> list[str]:
    """Ingredient names for an RxCUI from the loaded release, or [] (none loaded, or unknown)."""
    global _loaded
    if _loaded is None:
        _loaded = cache.open_owner(KIND, KEY) or False
    if not _loaded:
        return []
    try:
        section = _loaded.get(_section(rxcui)) or {}
    except cache.Damaged:
        return []
    return section.get(str(rxcui), [])


def _section(rxcui: object) -> str:
    return str(rxcui)[-3:]


def _rows(file_name: str, directory: str) -> Iterator[tuple[int, list[str]]]:
    """Fields of each line of an RRF file (pipe-delimited, a trailing pipe), with its number."""
    full = os.path.join(directory, file_name)
    try:
        handle = open(full, encoding="utf-8", errors="replace", newline="")
    except OSError as error:
        raise UsageError(f"cannot read '{safe(full)}': {error.strerror or error}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if line:
                yield number, line.split("|")


def load(directory: str) -> tuple[int, int]:
    """Index RXNCONSO.RRF and RXNREL.RRF from directory (or its rrf/ folder) into the cache.
    Returns (concepts, drugs mapped to ingredients). UsageError, with the index loaded before
    kept, when the files are missing, not RRF, or map no drug to an ingredient."""
    if not os.path.isfile(os.path.join(directory, "RXNCONSO.RRF")) and os.path.isdir(os.path.join(directory, "rrf")):
        directory = os.path.join(directory, "rrf")
    names: dict[str, str] = {}
    ttys: dict[str, str] = {}
    lines = {"RXNCONSO.RRF": 0, "RXNREL.RRF": 0}
    for number, fields in _rows("RXNCONSO.RRF", directory):
        lines["RXNCONSO.RRF"] += 1
        if len(fields) < 17:
            raise UsageError(f"RXNCONSO.RRF line {number}: expected 18 '|'-separated fields, found {len(fields)}")
        rxcui, language, source, tty, text, suppress = fields[0], fields[1], fields[11], fields[12], fields[14], fields[16]
        if source != "RXNORM" or language != "ENG" or suppress in ("O", "Y", "E") or tty not in RANK:
            continue
        if rxcui not in ttys or RANK[tty] > RANK[ttys[rxcui]]:  # a concept's own (most specific) type
            ttys[rxcui] = tty
        if rxcui not in names or tty in INGREDIENT:
            names[rxcui] = text
    links: dict[str, set[str]] = {}
    for number, fields in _rows("RXNREL.RRF", directory):
        lines["RXNREL.RRF"] += 1
        if len(fields) < 11:
            raise UsageError(f"RXNREL.RRF line {number}: expected 16 '|'-separated fields, found {len(fields)}")
        first, second, relation, source = fields[0], fields[4], fields[7], fields[10]
        if source != "RXNORM" or relation not in RELATIONS or first not in ttys or second not in ttys:
            continue
        links.setdefault(first, set()).add(second)
        links.setdefault(second, set()).add(first)
    sections: dict[str, dict[str, list[str]]] = {}
    mapped = 0
    for rxcui, tty in ttys.items():
        found = _ingredients_of(rxcui, ttys, links) if tty not in INGREDIENT else ()
        if found:
            sections.setdefault(_section(rxcui), {})[rxcui] = sorted(names[i] for i in found)
            mapped += 1
    if not mapped:  # an empty or misread release never replaces the one loaded before
        raise UsageError(_nothing_mapped(directory, lines, len(ttys), sum(map(len, links.values())) // 2))
    _store(sections)
    return len(ttys), mapped


def _nothing_mapped(directory: str, lines: dict[str, int], concepts: int, links: int) -> str:
    """What was found in a release that maps no drug, and what its files should hold."""
    return (f"no drug in '{safe(directory)}' maps to an ingredient, so nothing was loaded (the index loaded before "
            f"is kept): RXNCONSO.RRF has {lines['RXNCONSO.RRF']} lines naming {concepts} RxNorm concepts (in English, "
            f"not suppressed, of a known term type); RXNREL.RRF has {lines['RXNREL.RRF']} lines, with {links} links "
            "between those concepts. RXNCONSO.RRF should hold 18 '|'-separated fields a line (RXCUI 1st, LAT 2nd, SAB 12th, "
            "TTY 13th, STR 15th, SUPPRESS 17th; SAB RXNORM, TTY such as IN, SCD, SBD) and RXNREL.RRF 16 "
            "(RXCUI1 1st, RXCUI2 5th, RELA 8th, SAB 11th), as in the RxNorm release's rrf/ folder")


def _ingredients_of(start: str, ttys: dict[str, str], links: dict[str, set[str]]) -> set[str]:
    """Ingredients reached from start through ever simpler concepts; a precise ingredient
    (a salt) only when its base ingredient is not linked."""
    found: set[str]
    seen, stack, found = {start}, [start], set()
    while stack:
        node = stack.pop()
        for other in links.get(node, ()):
            if other in seen or RANK[ttys[other]] >= RANK[ttys[node]]:
                continue
            if ttys[other] == "BN" and ttys[start] != "BN":
                continue  # a brand name can cover other products' ingredients
            seen.add(other)
            if ttys[other] in INGREDIENT:
                found.add(other)
            else:
                stack.append(other)
    plain = {i for i in found if ttys[i] == "IN"}
    return plain or found


def _store(sections: dict[str, dict[str, list[str]]]) -> None:
    """Replace the stored index (in one transaction: never half-written)."""
    global _loaded
    cache.write_owner(KIND, KEY, sections)
    _loaded = None
    if not cache.open_owner(KIND, KEY):
        raise UsageError(f"cannot write the index into the cache store '{safe(cache.store_path())}'")
