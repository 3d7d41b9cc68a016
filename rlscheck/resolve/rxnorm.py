"""A user's own RxNorm release (e.g. the licence-free prescribable subset), indexed once into
the cache so that any RxCUI (clinical or branded drug, brand name, component) maps to the
names of its ingredients.

RXNCONSO.RRF gives each concept's name and term type (TTY); RXNREL.RRF links them. From a
concept the index walks only towards simpler concepts (branded drug -> clinical drug ->
component -> ingredient), so a shared component never leads to other products' ingredients.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator

from rlscheck.errors import UsageError
from rlscheck.textsafe import safe

FILE_NAME = "rxnorm-user.sqlite"
# How complex a concept is; the walk only goes to a lower rank, ending at ingredients (0).
RANK = {"IN": 0, "PIN": 0, "MIN": 1, "SCDC": 1, "BN": 1, "SCDF": 2, "SCDG": 2, "SBDC": 2, "SBDF": 3, "SBDG": 3,
        "SCD": 3, "SBD": 4, "GPCK": 5, "BPCK": 5}
INGREDIENT = {"IN", "PIN"}
RELATIONS = {"has_ingredient", "ingredient_of", "has_ingredients", "ingredients_of", "consists_of", "constitutes",
             "tradename_of", "has_tradename", "has_precise_ingredient", "precise_ingredient_of", "contains",
             "contained_in", "isa", "inverse_isa", "has_part", "part_of", "form_of", "has_form"}
_connection: sqlite3.Connection | bool | None = None


def path() -> str:
    from rlscheck.knowledge.cache import cache_dir

    return os.path.join(cache_dir(), FILE_NAME)


def ingredients(rxcui: object) -> list[str]:
    """Ingredient names for an RxCUI from the loaded release, or [] (none loaded, or unknown)."""
    global _connection
    if _connection is None:  # looked for once per run: False when no release was loaded
        try:
            _connection = os.path.exists(path()) and sqlite3.connect(f"file:{path()}?mode=ro", uri=True,
                                                                     check_same_thread=False)
        except sqlite3.Error:
            _connection = False
    if _connection is False:
        return []
    try:
        row = _connection.execute(  # type: ignore[union-attr]  # never True: exists() and connect()
            "SELECT names FROM ingredients WHERE rxcui = ?", (str(rxcui),)).fetchone()
    except sqlite3.Error:
        return []
    return row[0].split("\n") if row and row[0] else []


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
    Returns (concepts, drugs mapped to ingredients)."""
    if not os.path.isfile(os.path.join(directory, "RXNCONSO.RRF")) and os.path.isdir(os.path.join(directory, "rrf")):
        directory = os.path.join(directory, "rrf")
    names: dict[str, str] = {}
    ttys: dict[str, str] = {}
    for number, fields in _rows("RXNCONSO.RRF", directory):
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
        if len(fields) < 11:
            raise UsageError(f"RXNREL.RRF line {number}: expected 16 '|'-separated fields, found {len(fields)}")
        first, second, relation, source = fields[0], fields[4], fields[7], fields[10]
        if source != "RXNORM" or relation not in RELATIONS or first not in ttys or second not in ttys:
            continue
        links.setdefault(first, set()).add(second)
        links.setdefault(second, set()).add(first)
    rows: list[tuple[str, str]] = []
    for rxcui, tty in ttys.items():
        if tty in INGREDIENT:
            continue
        found = _ingredients_of(rxcui, ttys, links)
        if found:
            rows.append((rxcui, "\n".join(sorted(names[i] for i in found))))
    _write(rows)
    return len(ttys), len(rows)


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


def _write(rows: Iterable[tuple[str, str]]) -> None:
    """Write the index under a temporary name and move it into place: never half-written."""
    global _connection
    target = path()
    os.makedirs(os.path.dirname(target), exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".build-", suffix=".sqlite")
    os.close(handle)
    try:
        connection = sqlite3.connect(temporary)
        connection.execute("CREATE TABLE ingredients (rxcui TEXT PRIMARY KEY, names TEXT)")
        connection.executemany("INSERT OR REPLACE INTO ingredients VALUES (?, ?)", rows)
        connection.commit()
        connection.close()
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    _connection = None
