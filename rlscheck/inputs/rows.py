"""Rows of columnar data (Parquet read through DuckDB, Arrow batches from Spark, pandas frames)
as batch records.

Columnar storage hands values over in shapes JSON never has: nulls for absent values, maps as
lists of (key, value) pairs or {"key": [...], "value": [...]}, NumPy arrays and scalars, floats
for whole numbers. Each is turned into the batch record shape (see `rlscheck.api`), so a row
gives the same document as the same person written as a JSON line. Columns that are not record
fields are not read; `unused_columns` names them so a caller can say so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import orjson

from rlscheck.inputs.records import FIELDS, LIST_FIELDS, Record

ID_COLUMNS = ("id", "person_id")
RECORD_COLUMNS = tuple(name for name in FIELDS if name != "id")


def id_column_of(columns, requested=None):
    """The column holding the person's id: `requested`, else `id`, else `person_id`, else None."""
    if requested:
        if requested not in columns:
            raise KeyError(requested)
        return requested
    return next((name for name in ID_COLUMNS if name in columns), None)


def unused_columns(columns, id_column):
    return [name for name in columns if name != id_column and name not in RECORD_COLUMNS]


_WHOLE = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
          "UHUGEINT"}
_TEXT_OR_WHOLE = _WHOLE | {"VARCHAR"}


def record_shaped(column_types, id_column=None):
    """Whether rows with these columns (name: DuckDB type), written as JSON objects, are batch
    records as they are: an id of text or a whole number, lists of text or one text, labs as a
    map or struct of text or whole numbers or a list of 'name=value', a trimester of text or a
    whole number. Nulls need no work (a record reads them as absent); anything else (floats,
    JSON text, other types) goes through `record_of`."""
    for name, kind in column_types.items():
        if name in (id_column, "trimester"):
            shaped = kind in _TEXT_OR_WHOLE
        elif name in LIST_FIELDS:
            shaped = kind in ("VARCHAR", "VARCHAR[]")
        else:
            shaped = name == "labs" and (kind == "VARCHAR[]" or _flat_map(kind))
        if not shaped:
            return False
    return True


def _flat_map(kind):
    """A MAP(VARCHAR, text or whole) or STRUCT of text or whole members (no nesting)."""
    if kind.startswith("MAP(") and kind.endswith(")"):
        key, _, value = kind[4:-1].partition(", ")
        return key == "VARCHAR" and value in _TEXT_OR_WHOLE
    if kind.startswith("STRUCT(") and kind.endswith(")") and "(" not in kind[7:-1]:
        return all(member.rsplit(" ", 1)[-1] in _TEXT_OR_WHOLE and " " in member
                   for member in kind[7:-1].split(", "))
    return False


def plain(value):
    """A value with NumPy/pandas types, tuples and NaN made plain Python (NaN and NA: None)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    tolist = getattr(value, "tolist", None)  # NumPy arrays and scalars
    if tolist is not None:
        return plain(tolist())
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    return value


def _whole(value):
    """40.0 stored as a float is the number 40: written as JSON would write it."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


def _labs(value):
    """Labs as an object {name: value} or a list of 'name=value' texts; nulls are absent."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("{", "[")):
            try:
                value = orjson.loads(text)
            except ValueError:
                return [value]  # read as one 'name=value' text; a wrong one is reported as such
        else:
            return [value] if text else None
    if isinstance(value, Mapping):
        if set(value) == {"key", "value"} and isinstance(value["key"], list):  # a map as two lists
            value = dict(zip(value["key"], value["value"]))
        return {str(name): _whole(item) for name, item in value.items() if item is not None} or None
    if isinstance(value, list):
        if value and all(isinstance(item, list) and len(item) == 2 for item in value if item is not None):
            return {str(item[0]): _whole(item[1]) for item in value if item is not None and item[1] is not None} or None
        if value and all(isinstance(item, Mapping) and set(item) == {"key", "value"} for item in value):
            return {str(item["key"]): _whole(item["value"]) for item in value if item["value"] is not None} or None
        return [item for item in value if item is not None] or None
    return value  # a wrong type: the record reports it


_KINDS = {**{name: "list" for name in LIST_FIELDS}, "labs": "labs", "trimester": "number", "fhir": "fhir"}


def record_of(row: Mapping, id_column=None, line=None) -> Record:
    """A batch Record from one row (a mapping of column to value); columns that are not
    record fields are ignored. A value that cannot be read makes an error record."""
    try:
        record_id = _whole(plain(row.get(id_column))) if id_column else None
        if record_id is not None and not isinstance(record_id, (str, int, float)):
            return Record(line, error="'id' must be text or a number", record_id=str(record_id))
        data = {}
        for name, value in row.items():
            kind = _KINDS.get(name)
            if kind is None or value is None:
                continue
            if kind == "list":
                if type(value) is not list or not all(type(item) is str for item in value):  # noqa: E721
                    value = plain(value)
                    if isinstance(value, list):
                        value = [item for item in value if item is not None]
                if not value:
                    continue
            elif kind in ("labs", "number"):
                value = _labs(plain(value)) if kind == "labs" else _whole(plain(value))
                if value is None:
                    continue
            else:
                value = plain(value)
                if isinstance(value, str):
                    try:
                        value = orjson.loads(value)
                    except ValueError:
                        return Record(line, error="'fhir' is not valid JSON", record_id=record_id)
            data[name] = value
        return Record(line, data, "", record_id)
    except Exception as error:  # any value a row may hold: an error record, never a failed run
        return Record(line, error=f"cannot read this row: {type(error).__name__}")
