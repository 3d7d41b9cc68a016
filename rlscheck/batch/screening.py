"""Screen many records, sharing work between them: each distinct input string is resolved
once per run, and what each distinct input adds to a result is worked out once. A record that
cannot be read becomes an error line; it never stops the run and is never skipped."""

import json

import orjson

from rlscheck.document import matched_evidence
from rlscheck.rules.engine import assess
from rlscheck.errors import RecordError, UsageError
from rlscheck.inputs.records import plain_input, record_inputs
from rlscheck.resolve.labs import parse_lab
from rlscheck.resolve.names import Resolver

def _dumps(value) -> bytes:
    """Compact UTF-8 JSON. What orjson refuses (integers beyond 64 bits, lone surrogates in an
    id) the standard library writes as ASCII with escapes, so the line stays valid UTF-8."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


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
