"""The public Python API: one person's record, or many, to the assessment document.

The CLI, batch, the web service and notebooks all go through these calls, so the same record
gives the same document everywhere.

A *record* is a mapping in the batch input shape (every field optional)::

    {"id": "p1",
     "meds": ["Zoloft 50 mg", "Tylenol PM"],   # medications taken now (text, as typed)
     "conditions": ["pregnancy", "N18.6"],       # names, synonyms, ICD-10-CM codes, SNOMED CT ids
     "substances": ["alcohol"], "withdrawal": ["lorazepam"], "risks": ["family history"],
     "labs": {"ferritin": 40, "tsat": "15%"},    # or ["ferritin=40 ug/L", "egfr=>60"]
     "trimester": 3,                             # 1-3; implies pregnancy
     "fhir": {...}}                              # a parsed FHIR R4 resource or Bundle, or a list

A null (None) anywhere in a record means absent: `"labs": None`, `{"tsat": None}`, `"meds": None`
or a None in a list. Lab values without a unit are read in the lab's usual unit (ferritin ng/mL, TSAT %, eGFR
mL/min/1.73 m², haemoglobin g/dL, B12 pg/mL, magnesium mg/dL). The document is described by
`rlscheck/schemas/assess.schema.json` (schema_version 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Dict

from rlscheck.errors import KnowledgeBaseError, RecordError

if TYPE_CHECKING:
    from rlscheck.knowledge.store import KnowledgeBase

Document = Dict[str, Any]  # an assessment document: see rlscheck/schemas/assess.schema.json

__all__ = ["KnowledgeBase", "KnowledgeBaseError", "RecordError", "Screener", "assess_record",
           "load_knowledge_base"]


def load_knowledge_base(extra_files: Iterable[str] = ()) -> "KnowledgeBase":
    """The shipped knowledge base with `extra_files` (paths of YAML files) merged over it, in order.

    Compiled once into the user's cache and reused while the files are unchanged. Raises
    KnowledgeBaseError (exit code 3 in the CLI) naming file and line when a file is missing,
    unreadable, unsafe or invalid.
    """
    from rlscheck.knowledge import store as kb

    return kb.load(tuple(extra_files))


def assess_record(record: Mapping[str, Any], *, kb: "KnowledgeBase | None" = None) -> Document:
    """The assessment document (a dict; schema_version 1) for one person's record.

    Raises RecordError when the record cannot be read (an unknown field, a field of the wrong
    type, a lab value that is not a number). For many records use Screener, which shares work
    between records.
    """
    return Screener(kb).assess(record)


class Screener:
    """Assess records one after another, sharing work between them: each distinct input string
    is resolved once and each distinct input's part of a document is worked out once. Not
    thread-safe; use one per thread or process. Memory is bounded (every cache is capped)."""

    def __init__(self, kb: "KnowledgeBase | None" = None):
        from rlscheck.batch.screening import Screener as Sharing

        self.kb = kb if kb is not None else load_knowledge_base()
        self._sharing = Sharing(self.kb)

    def assess(self, record: Mapping[str, Any], *, fhir_extract: Any = None) -> Document:
        """The document for one record, with `disclaimer`, and `id` when the record has one.
        `fhir_extract` adds what `rlscheck.inputs.fhir.read_files` read from FHIR files.
        Raises RecordError when the record cannot be read."""
        if not isinstance(record, Mapping):
            raise RecordError("a record must be a mapping (JSON object)")
        data = {key: value for key, value in record.items() if value not in (None, [], ())}
        from rlscheck.inputs.records import patient_of

        record_id = patient_of(data, data.pop("id", None))
        document: Document = self._sharing.document(data, fhir_extract)
        if record_id is not None:
            document = {"id": record_id, **document}
        return document

    def assess_many(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Document]:
        """One document per record, in order. A record that cannot be read gives
        {"id": ..., "error": "..."} instead of stopping the run."""
        for record in records:
            try:
                yield self.assess(record)
            except RecordError as error:
                record_id = record.get("id") if isinstance(record, Mapping) else None
                yield {"id": record_id, "error": str(error)}


def __getattr__(name: str) -> Any:
    if name == "KnowledgeBase":
        from rlscheck.knowledge.store import KnowledgeBase

        return KnowledgeBase
    raise AttributeError(name)
