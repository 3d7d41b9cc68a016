"""Screen many records, sharing work between them: each distinct input string is resolved
once per run, and what each distinct input adds to a result is worked out once. A record that
cannot be read becomes an error line; it never stops the run and is never skipped."""

import json

from rlscheck.rules.engine import assess
from rlscheck.errors import RecordError, UsageError
from rlscheck.inputs.records import plain_input, record_inputs
from rlscheck.resolve.labs import parse_lab
from rlscheck.resolve.names import Resolver


def _dumps(value) -> bytes:
    """Compact UTF-8 JSON and a newline. What orjson refuses (integers beyond 64 bits, lone surrogates in an
    id) the standard library writes as ASCII with escapes, so the line stays valid UTF-8."""
    import orjson

    try:
        return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii") + b"\n"


ENCODED_MOST = 512  # finding entries kept with their JSON (a few kB each); more would mostly add memory


class Screener:
    """Assess records one by one. Reused within a run: the resolution of every input string
    and what each distinct input adds to a document."""

    def __init__(self, kb, output_format="jsonl"):
        self.kb = kb
        self.output_format = output_format
        self.resolver = Resolver(kb)
        self.labs = {}
        self.inputs = {}
        self.contributions = {}
        self.encoded = {}  # id of a finding entry -> (the entry, its JSON)

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

    def document(self, data, extract=None):
        """The whole document (with disclaimer) for a record's data without `id`: the batch
        shape, whose "fhir" holds parsed FHIR resources or Bundles, or itself a FHIR resource or
        Bundle. `extract` adds what was already read from FHIR files (`assess --fhir`).
        RecordError when it cannot be read."""
        return self._document(data, "record", extract)

    def _document(self, data, label, extract=None):
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
        document = assess(self.kb, inputs, labs, trimester, self.resolver, self.contributions)
        if extract is not None:
            from rlscheck.inputs import fhir

            fhir.annotate(document, extract, other_inputs, self.kb.primary_rls)
        return document

    def _read_fhir(self, documents, label, into=None):
        import orjson

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
        label = f"line {record.line}" if record.record_id is None else f"record {record.record_id}"
        try:
            document = self._document(record.data, label)
        except RecordError as error:
            return {"error": str(error)}, False, True
        del document["disclaimer"]
        return document, bool(document["findings"]), False

    def line(self, record):
        """(the record's output line as bytes, had findings, was an error)."""
        body = {"error": record.error} if record.error else None
        if body is None:
            body, had_findings, was_error = self._body(record)
        else:
            had_findings, was_error = False, True
        if self.output_format == "csv":
            from rlscheck.render import csvout

            return csvout.rows(record.record_id, record.line, body), had_findings, was_error
        return self._encode(_keyed(record) | body), had_findings, was_error

    def _encode(self, line):
        """The output line. A finding that one input brings on its own is the same (unchanged)
        entry in every record with that input: it is encoded once and its JSON reused, which
        saves most of the encoding (a document is mostly its findings' texts and sources)."""
        if not line.get("findings"):
            return _dumps(line)
        import orjson  # here, not at the top: one person's assessment never encodes a batch line

        try:
            return orjson.dumps(dict(line, findings=[self._encoded(entry) for entry in line["findings"]]),
                                option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # a user's text that orjson refuses: the whole line the other way
            return _dumps(line)

    def _encoded(self, entry):
        import orjson

        found = self.encoded.get(id(entry))
        if found is None or found[0] is not entry:  # holding the entry keeps its id from being reused
            if len(self.encoded) >= ENCODED_MOST:
                self.encoded.clear()
            found = self.encoded[id(entry)] = (entry, orjson.Fragment(orjson.dumps(entry)))
        return found[1]


def _keyed(record):
    """The start of an output line: its id and line number; the id alone for a record read from
    an input without lines (Parquet, OMOP, a data frame)."""
    if record.line is None:
        return {"id": record.record_id}
    return {"id": record.record_id, "line": record.line}
