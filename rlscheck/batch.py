"""Screen many people: JSONL or CSV in, one JSON line out per non-empty input line.

Records stream one at a time, so memory stays flat however long the input. A record that
cannot be read becomes an error line; it never stops the run and is never skipped. Each
distinct input string is resolved once per run, and identical records are assessed once.
"""

import csv
import json
from collections import OrderedDict
from dataclasses import dataclass

from rlscheck.engine import Input, assess
from rlscheck.errors import UsageError
from rlscheck.labs import parse_lab, split_lab
from rlscheck.resolve import Resolver
from rlscheck.textsafe import clean_input, safe

LIST_FIELDS = {"meds": "medication", "conditions": "condition", "substances": "substance",
               "withdrawal": "withdrawal", "risks": "risk-factor"}
FIELDS = ("id", *LIST_FIELDS, "labs", "trimester")
MAX_LINE = 1024 * 1024

try:  # orjson reads and writes JSON several times faster than the standard library
    import orjson
except ImportError:  # pragma: no cover - a dependency; batch still works without it
    orjson = None


def _dumps(value):
    """Compact UTF-8 JSON text; falls back to the standard library for what orjson refuses
    (integers beyond 64 bits)."""
    if orjson is not None:
        try:
            return orjson.dumps(value).decode("utf-8")
        except TypeError:
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _loads(text):
    if orjson is not None:
        try:
            return orjson.loads(text)
        except ValueError:
            pass  # let the standard library decide, and word the error
    return json.loads(text)
MAX_VALUES = 10_000


class RecordError(Exception):
    pass


@dataclass
class Record:
    line: int
    data: dict = None
    error: str = ""
    record_id: object = None


def _decode(raw):
    """Lines may mix encodings: UTF-8 (with or without BOM) first, Latin-1 as the fallback."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_jsonl(stream):
    for number, raw in enumerate(stream, start=1):
        if len(raw) > MAX_LINE:
            yield Record(number, error=f"line is longer than {MAX_LINE} bytes")
            continue
        if not raw.strip():  # blank: only ASCII whitespace
            continue
        text = _decode(raw).strip()
        try:
            data = _loads(text)
        except (ValueError, RecursionError) as error:
            yield Record(number, error=f"invalid JSON: {safe(error)}")
            continue
        if not isinstance(data, dict):
            yield Record(number, error=f"a record must be a JSON object, not {type(data).__name__}")
            continue
        yield Record(number, data=data, record_id=data.get("id") if _plain_id(data.get("id")) else None)


def read_csv(stream):
    lines = (_decode(raw) for raw in stream)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise UsageError(f"cannot read the CSV header: {safe(error)}") from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    unknown = [name for name in header if name not in FIELDS]
    if unknown or not header:
        names = ", ".join(f"'{safe(name)}'" for name in unknown)
        raise UsageError(f"unknown CSV column(s) {names}; "
                         f"columns are: {', '.join(FIELDS)}")
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
        if len(row) != len(header):
            yield Record(reader.line_num, error=f"row has {len(row)} cells; the header has {len(header)}")
            continue
        data = {}
        for name, cell in zip(header, row):
            if name in LIST_FIELDS:
                data[name] = [part for part in cell.split(";") if part.strip()]
            elif name == "labs":
                data[name] = [part for part in cell.split(";") if part.strip()]
            elif cell.strip():
                data[name] = cell.strip()
        yield Record(reader.line_num, data=data, record_id=data.get("id"))


def _plain_id(value):
    return value is None or isinstance(value, (str, int, float)) and not isinstance(value, bool)


def record_inputs(kb, data, parse=parse_lab):
    """(inputs, labs, trimester) of one record, or RecordError naming what is wrong."""
    unknown = [key for key in data if key not in FIELDS]
    if unknown:
        names = ", ".join(f"'{safe(key)}'" for key in unknown)
        raise RecordError(f"unknown field(s) {names}; fields are: {', '.join(FIELDS)}")
    if not _plain_id(data.get("id")):
        raise RecordError("'id' must be text or a number")
    inputs = []
    for field, kind in LIST_FIELDS.items():
        values = data.get(field, [])
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise RecordError(f"{field!r} must be a list of text")
        if len(values) > MAX_VALUES:
            raise RecordError(f"{field!r} has more than {MAX_VALUES} values")
        inputs += [Input(kind, clean_input(value)) for value in values]
    labs = []
    given = data.get("labs", {})
    try:
        if isinstance(given, dict):
            for name, value in given.items():
                if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                    raise RecordError(f"lab '{safe(name)}' must be a number or text like '15%'")
                labs.append(parse(kb, f"{name}={value}", str(name), str(value)))
        elif isinstance(given, list) and all(isinstance(v, str) for v in given):
            for item in given:
                name, value = split_lab(item)
                labs.append(parse(kb, item, name, value))
        else:
            raise RecordError("'labs' must be an object like {\"ferritin\": 40} or a list like [\"ferritin=40\"]")
    except UsageError as error:
        raise RecordError(str(error)) from None
    trimester = data.get("trimester", 0)
    if trimester in ("", None):
        trimester = 0
    try:
        trimester = int(trimester)
    except (TypeError, ValueError):
        raise RecordError("'trimester' must be 1, 2 or 3") from None
    if trimester not in (0, 1, 2, 3):
        raise RecordError("'trimester' must be 1, 2 or 3")
    return inputs, labs, trimester


STATIC_FINDING_FIELDS = ("id", "kind", "category", "title", "relation", "certainty", "explanation", "evidence",
                         "evidence_detail", "advice", "alternatives", "alternatives_note", "references")




class Screener:
    """Assess records one by one, reusing the resolution of every input string seen before,
    and the encoded JSON of every finding's fixed part (explanation, advice, references)."""

    def __init__(self, kb, memo_size=2_000):
        self.kb = kb
        self.resolver = Resolver(kb)
        self.memo = OrderedDict()
        self.memo_size = memo_size
        self.fragments = {}
        self.labs = {}
        self.contributions = {}

    def _parse_lab(self, kb, text, name, value):
        key = (text, name, value)
        if key not in self.labs:
            try:
                self.labs[key] = parse_lab(kb, text, name, value)
            except UsageError as error:
                self.labs[key] = error
            if len(self.labs) > 50_000:
                self.labs.clear()
        result = self.labs[key]
        if isinstance(result, UsageError):
            raise result
        return result

    def _encode(self, document):
        """JSON of a document; a finding's fields other than `matched` are encoded once per run."""
        findings = []
        for finding in document["findings"]:
            key = (finding["id"], finding["certainty"], tuple(r["id"] for r in finding["references"]))
            static = self.fragments.get(key)
            if static is None:
                static = _dumps({k: finding[k] for k in STATIC_FINDING_FIELDS if k in finding})[1:-1]
                if len(self.fragments) < 20_000:
                    self.fragments[key] = static
            findings.append('{"matched":' + _dumps(finding["matched"]) + "," + static + "}")
        rest = _dumps({key: value for key, value in document.items() if key != "findings"})
        return rest[:-1] + ',"findings":[' + ",".join(findings) + "]}"

    def line(self, record):
        """(output line, had findings, was an error)."""
        head = {"id": record.record_id, "line": record.line}
        if record.error:
            return _dumps({**head, "error": record.error}), False, True
        try:
            inputs, labs, trimester = record_inputs(self.kb, record.data, self._parse_lab)
        except RecordError as error:
            return _dumps({**head, "error": str(error)}), False, True
        key = (tuple((i.kind, i.text) for i in inputs), tuple(lab.text for lab in labs), trimester)
        cached = self.memo.get(key)
        if cached is None:
            document = assess(self.kb, inputs, labs, trimester, self.resolver, self.contributions)
            document.pop("disclaimer", None)
            cached = (self._encode(document)[1:], bool(document["findings"]))
            self.memo[key] = cached
            if len(self.memo) > self.memo_size:
                self.memo.popitem(last=False)
        else:
            self.memo.move_to_end(key)
        prefix = _dumps(head)[:-1]
        return f"{prefix},{cached[0]}", cached[1], False


def run(kb, records, out, progress=None):
    """Write one line per record; returns (records, with findings, errors)."""
    screener = Screener(kb)
    total = found = errors = 0
    for record in records:
        text, had_findings, was_error = screener.line(record)
        out.write(text + "\n")
        total += 1
        found += had_findings
        errors += was_error
        if progress and total % 1000 == 0:
            progress(total)
    if progress:
        progress(total)
    out.flush()
    return total, found, errors
