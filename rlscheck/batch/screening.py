"""Screen many people: JSONL or CSV in, one JSON line out per non-empty input line.

Records stream, so memory stays flat however long the input. A record that cannot be read
becomes an error line; it never stops the run and is never skipped. Each distinct input
string is resolved once per run, and what each distinct input adds to a result is worked
out once.
"""

import csv
import itertools
import json
import math

import orjson

from rlscheck.model import Input
from rlscheck.document import matched_evidence
from rlscheck.rules.engine import assess
from rlscheck.errors import RecordError, UsageError
from rlscheck.resolve.labs import parse_lab, split_lab
from rlscheck.resolve.names import Resolver
from rlscheck.textsafe import clean_input, safe

LIST_FIELDS = {"meds": "medication", "conditions": "condition", "substances": "substance",
               "withdrawal": "withdrawal", "risks": "risk-factor"}
FIELDS = ("id", *LIST_FIELDS, "labs", "trimester", "fhir")
FIELD_SET = frozenset(FIELDS)
MAX_LINE = 1024 * 1024
MAX_VALUES = 10_000


def _dumps(value) -> bytes:
    """Compact UTF-8 JSON. What orjson refuses (integers beyond 64 bits, lone surrogates in an
    id) the standard library writes as ASCII with escapes, so the line stays valid UTF-8."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


class Record:
    """One input line: its number, and its data without `id`, or why it could not be read."""

    __slots__ = ("line", "data", "error", "record_id")

    def __init__(self, line, data=None, error="", record_id=None):
        self.line, self.data, self.error, self.record_id = line, data, error, record_id


def _decode(raw):
    """Lines may mix encodings: UTF-8 (with or without BOM) first, Latin-1 as the fallback."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _with_id(number, data):
    """The record, its `id` taken out of the data (the rest decides the result)."""
    if not isinstance(data, dict):
        return Record(number, error=f"a record must be a JSON object, not {type(data).__name__}")
    record_id = data.pop("id", None)
    if not _plain_id(record_id):
        return Record(number, error="'id' must be text or a number")
    return Record(number, data, "", record_id)


def _finite_or_text(text):
    """A JSON number too large for a float (1e400), like NaN or Infinity, stays the text it
    was: an id keeps what was written, and a value elsewhere is refused by its own check."""
    value = float(text)
    return value if math.isfinite(value) else text


def read_jsonl(lines, start=1):
    """Records from raw lines (bytes), numbered from `start`."""
    for number, raw in enumerate(lines, start=start):
        if len(raw) > MAX_LINE:
            yield Record(number, error=f"line is longer than {MAX_LINE} bytes")
            continue
        try:
            data = orjson.loads(raw)
        except ValueError:
            pass  # blank, a BOM, Latin-1, or broken: the careful path below decides
        else:
            yield _with_id(number, data)
            continue
        if not raw.strip():  # blank: only ASCII whitespace
            continue
        try:
            data = json.loads(_decode(raw).strip(), parse_float=_finite_or_text, parse_constant=str)
        except (ValueError, RecursionError) as error:
            yield Record(number, error=f"invalid JSON: {safe(error)}")
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
    lines = (_decode(raw) for raw in stream)
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
            if name not in FIELD_SET:
                continue
            if name in LIST_FIELDS or name == "labs":
                separator = list_delimiter if list_delimiter in cell and ";" not in cell else ";"
                data[name] = _cell_values(cell, separator)
            elif cell.strip():
                data[name] = cell.strip()
        data.pop("id", None)
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


def _plain_id(value):
    return value is None or isinstance(value, (str, int, float)) and not isinstance(value, bool)


def plain_input(kind, value):
    return Input(kind, clean_input(value))


def record_inputs(kb, data, parse=parse_lab, make_input=plain_input):
    """(inputs, labs, trimester) of one record, or RecordError naming what is wrong."""
    if not FIELD_SET.issuperset(data):
        names = ", ".join(f"'{safe(key)}'" for key in data if key not in FIELD_SET)
        raise RecordError(f"unknown field(s) {names}; fields are: {', '.join(FIELDS)}")
    inputs = []
    for field, values in data.items():
        kind = LIST_FIELDS.get(field)
        if kind is None or values is None:
            continue  # labs and trimester: below; null means absent
        if isinstance(values, str):
            values = (values,)
        elif not isinstance(values, list):
            raise RecordError(f"{field!r} must be a list of text")
        elif len(values) > MAX_VALUES:
            raise RecordError(f"{field!r} has more than {MAX_VALUES} values")
        for value in values:
            if value is None:
                continue  # a null in a list is absent too
            if not isinstance(value, str):
                raise RecordError(f"{field!r} must be a list of text")
            if kind in ("medication", "withdrawal") and ("," in value or ";" in value):
                from rlscheck.resolve.medline import split_list  # 'Zoloft, metformin': two medicines

                inputs += [make_input(kind, item) for item in split_list(value)]
            else:
                inputs.append(make_input(kind, value))
    labs = _record_labs(kb, data["labs"], parse) if data.get("labs") is not None else []
    trimester = _record_trimester(data["trimester"]) if "trimester" in data else 0
    return inputs, labs, trimester


def _record_labs(kb, given, parse):
    labs = []
    try:
        if isinstance(given, dict):
            for name, value in given.items():
                if value is None:
                    continue  # a lab given as null was not measured
                if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                    raise RecordError(f"lab '{safe(name)}' must be a number or text like '15%'")
                labs.append(parse(kb, f"{name}={value}", str(name), str(value)))
        elif isinstance(given, list) and all(v is None or isinstance(v, str) for v in given):
            for item in given:
                if item is None:
                    continue
                name, value = split_lab(item)
                labs.append(parse(kb, item, name, value))
        else:
            raise RecordError("'labs' must be an object like {\"ferritin\": 40} or a list like [\"ferritin=40\"]")
    except UsageError as error:
        raise RecordError(str(error)) from None
    return labs


def _record_trimester(given):
    """1-3; null or an empty CSV cell is absent. 0 is refused, as the CLI refuses --trimester 0."""
    if given in ("", None):
        return 0
    if isinstance(given, bool) or isinstance(given, float) and not given.is_integer():
        raise RecordError("'trimester' must be 1, 2 or 3")
    try:
        trimester = int(given)
    except (TypeError, ValueError):
        raise RecordError("'trimester' must be 1, 2 or 3") from None
    if trimester not in (1, 2, 3):
        raise RecordError("'trimester' must be 1, 2 or 3")
    return trimester


class Screener:
    """Assess records one by one. Reused within a run: the resolution of every input string,
    what each distinct input adds to a document, and the encoded JSON of each finding an
    input brings on its own and of each finding's fixed part (explanation, advice, references)."""

    def __init__(self, kb, output_format="jsonl"):
        self.kb = kb
        self.output_format = output_format
        self.resolver = Resolver(kb)
        self.fixed_parts = {}
        self.labs = {}
        self.inputs = {}
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

    def _input(self, kind, value):
        found = self.inputs.get((kind, value))
        if found is None:
            found = self.inputs[(kind, value)] = plain_input(kind, value)
            if len(self.inputs) > 50_000:
                self.inputs.clear()
        return found

    def _encode_finding(self, found, certainty, source_ids):
        """A finding as pre-encoded JSON; the same dict `assess` builds, in fewer steps."""
        if found.encoded is not None:
            return found.encoded
        evidence = matched_evidence(found)
        key = (found.template.id, certainty, source_ids, tuple(evidence.values()))
        fixed = self.fixed_parts.get(key)
        if fixed is None:
            fields = dict(found.template.fields, certainty=certainty, references=self.kb.references(source_ids),
                          **evidence)
            del fields["matched"]
            fixed = b"," + orjson.dumps(fields)[1:]
            if len(self.fixed_parts) < 20_000:
                self.fixed_parts[key] = fixed
        encoded = orjson.Fragment(b'{"matched":' + orjson.dumps(found.matched) + fixed)
        if found.owner.shared:  # one input's finding, the same in every record with that input
            found.encoded = encoded
        return encoded

    def document(self, data, extract=None):
        """The whole document (with disclaimer) for a record's data without `id`: the batch
        shape, whose "fhir" holds parsed FHIR resources or Bundles, or itself a FHIR resource or
        Bundle. `extract` adds what was already read from FHIR files (`assess --fhir`).
        RecordError when it cannot be read."""
        return self._document(data, "record", None, extract)

    def _document(self, data, label, encode, extract=None):
        if "resourceType" in data:  # a FHIR Bundle on one line, or one patient of a Bulk Data export
            inputs, labs, trimester, extract = [], [], 0, self._read_fhir([data], label)
        else:
            inputs, labs, trimester = record_inputs(self.kb, data, self._parse_lab, self._input)
            if data.get("fhir") is not None:
                given = data["fhir"] if isinstance(data["fhir"], list) else [data["fhir"]]
                extract = self._read_fhir(given, "'fhir'", extract)
        other_inputs = bool(inputs or labs or trimester)
        if extract is not None:
            inputs, labs = inputs + extract.inputs, labs + extract.labs
        document = assess(self.kb, inputs, labs, trimester, self.resolver, self.contributions, encode)
        if extract is not None:
            from rlscheck.inputs import fhir

            fhir.annotate(document, extract, other_inputs)
        return document

    def _read_fhir(self, documents, label, into=None):
        from rlscheck.inputs import fhir

        documents = [dict(document, entry=[{"resource": orjson.loads(raw)} for raw in document["ndjson lines"]])
                     if isinstance(document, dict) and "ndjson lines" in document else document  # see bulk.py
                     for document in documents]
        try:
            return fhir.extract(self.kb, [(document, label) for document in documents], into)
        except UsageError as error:
            raise RecordError(str(error)) from None

    def _body(self, record):
        """(document without disclaimer, or {"error": ...}; had findings; was an error)."""
        encode = self._encode_finding if self.output_format == "jsonl" else None
        label = f"line {record.line}" if record.record_id is None else f"record {record.record_id}"
        try:
            document = self._document(record.data, label, encode)
        except RecordError as error:
            return {"error": str(error)}, False, True
        del document["disclaimer"]
        return document, bool(document["findings"]), False

    def line(self, record):
        """(the output line as two byte strings, had findings, was an error). The line is
        never joined here: at a few KB a line, every copy counts."""
        if self.output_format == "csv":
            from rlscheck.render import csvout

            body = {"error": record.error} if record.error else None
            if body is None:
                body, had_findings, was_error = self._body(record)
            else:
                had_findings, was_error = False, True
            return (b"", csvout.rows(record.record_id, record.line, body)), had_findings, was_error
        head = _head(record)
        if record.error:
            return (head, _members({"error": record.error})), False, True
        body, had_findings, was_error = self._body(record)
        return (head, _members(body)), had_findings, was_error


def _head(record):
    """'{"id":...,"line":N,' : the start of an output line; '{"id":...,' for a record read from
    an input without lines (Parquet, OMOP, a data frame), which is keyed by id alone."""
    if record.line is None:
        return _dumps({"id": record.record_id})[:-1] + b","
    try:
        return b'{"id":%s,"line":%d,' % (orjson.dumps(record.record_id), record.line)
    except TypeError:  # an id orjson refuses
        return _dumps({"id": record.record_id, "line": record.line})[:-1] + b","


def _members(body):
    """A JSON object's members and closing brace, then a newline: what follows the head."""
    return memoryview(orjson.dumps(body, option=orjson.OPT_APPEND_NEWLINE))[1:]
