"""Batch files as people export them: JSONL (one record a line) and CSV, read into records
(rlscheck.inputs.records.Record). A line or row that cannot be read becomes an error record;
nothing is skipped."""

import csv
import itertools
import json
import math

import orjson

from rlscheck.errors import RecordError, UsageError
from rlscheck.inputs.files import decode
from rlscheck.inputs.records import FIELD_SET, FIELDS, LIST_FIELDS, Record, patient_of, plain_id
from rlscheck.textsafe import safe

MAX_LINE = 1024 * 1024


def _with_id(number, data):
    """The record, its `id` taken out of the data (the rest decides the result)."""
    if not isinstance(data, dict):
        return Record(number, error=f"a record must be a JSON object, not {type(data).__name__}")
    record_id = data.pop("id", None)
    if not plain_id(record_id):
        return Record(number, error="'id' must be text or a number")
    try:
        record_id = patient_of(data, record_id)
    except RecordError as error:
        return Record(number, error=str(error), record_id=record_id)
    return Record(number, data, "", record_id)


def _finite_or_text(text):
    """A JSON number too large for a float (1e400), like NaN or Infinity, stays the text it
    was: an id keeps what was written, and a value elsewhere is refused by its own check."""
    value = float(text)
    return value if math.isfinite(value) else text


def _may_repeat_a_key(raw, data):
    """Whether the line may give a key twice: every key written is followed by a colon, so a
    line with no more colons than the keys read gives none twice. More colons (a repeated key,
    or a colon inside a text such as a URL) only cost the careful parse that finds out."""
    colons = raw.count(b":")
    if colons == len(data) or colons == len(data) + sum(len(v) for v in data.values() if isinstance(v, dict)):
        return False  # the keys of the record and of its labs object: the usual record, counted quickly
    return colons != _keys_in(data)


def _keys_in(value):
    """The number of object keys in a parsed JSON value, nested ones included."""
    if isinstance(value, dict):
        return len(value) + sum(_keys_in(item) for item in value.values() if isinstance(item, (dict, list)))
    return sum(_keys_in(item) for item in value if isinstance(item, (dict, list)))


def _noting_duplicates(found):
    """An object_pairs_hook that builds each object as JSON does (the last value of a key
    wins) and adds to `found` every key an object gives twice."""
    def hook(pairs):
        data = dict(pairs)
        if len(data) != len(pairs):
            seen = set()
            found.extend(key for key, _ in pairs if key in seen or seen.add(key))
        return data
    return hook


def read_jsonl(lines, start=1):
    """Records from raw lines (bytes), numbered from `start`. A record that gives a key twice
    is an error record: JSON readers keep only the last value, and a value is never dropped."""
    for number, raw in enumerate(lines, start=start):
        if len(raw) > MAX_LINE:
            yield Record(number, error=f"line is longer than {MAX_LINE} bytes")
            continue
        try:
            data = orjson.loads(raw)
        except ValueError:
            pass  # blank, a BOM, Latin-1, or broken: the careful path below decides
        else:
            if not (isinstance(data, dict) and (isinstance(data.get("id"), float) or
                                                _may_repeat_a_key(raw, data))):
                yield _with_id(number, data)
                continue
            # orjson reads an integer beyond 64 bits as a float, and keeps the last of repeated
            # keys: the careful path keeps the id exact and finds the repeated keys
        if not raw.strip():  # blank: only ASCII whitespace
            continue
        repeated = []
        try:
            data = json.loads(decode(raw).strip(), parse_float=_finite_or_text, parse_constant=str,
                              object_pairs_hook=_noting_duplicates(repeated))
        except (ValueError, RecursionError) as error:
            yield Record(number, error=f"invalid JSON: {safe(error)}")
            continue
        if repeated and isinstance(data, dict):
            names = ", ".join(f"'{safe(str(key))}'" for key in dict.fromkeys(repeated))
            record_id = data.get("id") if plain_id(data.get("id")) else None
            try:
                record_id = patient_of(data, record_id)  # a Bundle's line is keyed by its patient
            except RecordError:
                pass
            yield Record(number, error=f"key {names} given more than once in one object; JSON keeps only the "
                                       "last value, so the record is not read: give each key once (a list "
                                       "holds several values)", record_id=record_id)
            continue
        yield _with_id(number, data)


def sniff_delimiter(header_line):
    """',' ';' or tab: whichever separates the header line's names (',' on a tie)."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: (counts[delimiter], delimiter == ","))
    return best if counts[best] else ","


def read_csv(stream, warn=None):
    """Records from CSV as people export it: headers in any case, extra columns ignored
    (said once through warn), ',' ';' or tab delimiters, short rows padded (they keep their id)."""
    lines = (decode(raw) for raw in stream)  # lines may mix encodings: each decoded on its own
    first = next(lines, None)
    if first is None:
        return
    delimiter = sniff_delimiter(first)
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise UsageError(f"cannot read the CSV header: {safe(error)}") from None
    header = [name.strip().lstrip("\ufeff").strip().lower() for name in header]
    known = [name for name in header if name in FIELD_SET]
    twice = [name for name in dict.fromkeys(known) if known.count(name) > 1]
    if twice:  # one value would silently replace the other
        raise UsageError(f"CSV column(s) {', '.join(repr(name) for name in twice)} appear more than once in the "
                         "header; give each column once (a cell holds several values separated by ';')")
    unknown = [name for name in header if name not in FIELD_SET]
    if not [name for name in known if name != "id"]:
        names = ", ".join(f"'{safe(name)}'" for name in unknown)
        raise UsageError(f"no CSV column to read (unknown: {names or 'none'}); columns are: {', '.join(FIELDS)}")
    if unknown and warn:
        warn(f"CSV column(s) ignored: {', '.join(safe(name) for name in unknown)}; columns are: {', '.join(FIELDS)}")
    id_at = header.index("id") if "id" in header else None
    list_delimiter = "," if delimiter == ";" else ";"
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Record(reader.line_num, error=f"unreadable CSV row: {safe(error)}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        record_id = row[id_at].strip() or None if id_at is not None and id_at < len(row) else None
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header):]):
            yield Record(reader.line_num, error=f"row has {len(row)} cells; the header has {len(header)}",
                         record_id=record_id)
            continue
        row += [""] * (len(header) - len(row))
        data = {}
        for name, cell in zip(header, row):
            if name not in FIELD_SET or name == "id":  # the id is the record's, not its data
                continue
            if name in LIST_FIELDS or name == "labs":
                separator = list_delimiter if list_delimiter in cell and ";" not in cell else ";"
                data[name] = _cell_values(cell, separator)
            elif cell.strip():
                data[name] = cell.strip()
        yield Record(reader.line_num, data, record_id=record_id)


def _cell_values(cell, separator):
    """The values of a CSV cell. A piece that is only digits after a ',' separator is the rest of
    a decimal comma ('ferritin=8,5' in a ';'-delimited export), not a value of its own."""
    values = []
    for part in cell.split(separator):
        if separator == "," and values and part.strip()[:1].isdigit() and part.strip().replace(" ", "").isdigit():
            values[-1] += "," + part
        elif part.strip():
            values.append(part)
    return values
