"""The narrow findings table: one row per person, finding and matched input.

Columns: person_id, finding_id, kind, certainty, input, via (the chain from the input to the
finding, e.g. ["brand of paroxetine", "SSRI", "antidepressant"]) and error. Besides findings,
a person gets a row for each input that was not recognised (kind "unrecognized", no
finding_id) and a record that could not be read gets one row with its error, so nothing read
is lost from the table; a person with no row was read in full and nothing was found.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from rlscheck.batch import screening as batch
from rlscheck.errors import RecordError

COLUMNS = ("person_id", "finding_id", "kind", "certainty", "input", "via", "error")
VIA_SEPARATOR = " > "  # in CSV, where a cell holds text

if TYPE_CHECKING:
    from rlscheck.inputs.records import Record
    from rlscheck.knowledge.store import KnowledgeBase

Row = tuple[Any, ...]  # (person_id, finding_id, kind, certainty, input, via: list of text, error), in COLUMNS order


def rows_of(person_id: object, document: Mapping[str, Any]) -> list[Row]:
    """Table rows (tuples in COLUMNS order; via a list) of one document or error."""
    if "error" in document:
        return [(person_id, None, None, None, None, [], document["error"])]
    rows: list[Row] = [(person_id, finding["id"], finding["kind"], finding["certainty"], match["input"],
                        list(match.get("via") or ()), None)
                       for finding in document["findings"] for match in finding["matched"]]
    return rows + [(person_id, None, "unrecognized", None, item["input"], [], None)
                   for item in document.get("unrecognized", ())]


def csv_header() -> bytes:
    return (",".join(COLUMNS) + "\n").encode()


def csv_bytes(rows: Iterable[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if value is None else VIA_SEPARATOR.join(value) if index == 5 else value
                         for index, value in enumerate(row)])
    return out.getvalue().encode("utf-8")


def jsonl_bytes(rows: Iterable[Row]) -> bytes:
    return b"".join(orjson.dumps(dict(zip(COLUMNS, row)), option=orjson.OPT_APPEND_NEWLINE) for row in rows)


class Screener(batch.Screener):
    """A batch screener whose output for a record is its rows of the findings table, encoded by
    `encode` (csv_bytes, or jsonl_bytes for a file that becomes Parquet)."""

    def __init__(self, kb: KnowledgeBase, encode: Callable[[Iterable[Row]], bytes] = csv_bytes) -> None:
        super().__init__(kb)
        self.encode = encode

    def rows(self, record: Record) -> tuple[list[Row], bool, bool]:
        """(rows, had findings, was an error) of one batch Record."""
        if record.error:
            return rows_of(record.record_id, {"error": record.error}), False, True
        try:
            document = self.document(record.data)
        except RecordError as error:
            return rows_of(record.record_id, {"error": str(error)}), False, True
        return rows_of(record.record_id, document), bool(document["findings"]), False

    def line(self, record: Record) -> tuple[bytes, bool, bool]:
        rows, had_findings, was_error = self.rows(record)
        return self.encode(rows), had_findings, was_error


def write_parquet(connection: Any, rows_jsonl: str, destination: object) -> None:
    """Turn the table's rows (a JSONL file written by jsonl_bytes) into a Parquet file, every
    column typed explicitly (a column of nulls keeps its type). person_id is BIGINT when every
    id is a whole number (OMOP's person_id), else VARCHAR."""
    other_ids = connection.execute(
        f"SELECT count(*) FROM read_json('{_quote(rows_jsonl)}', format = 'newline_delimited', "
        "columns = {'person_id': 'JSON'}) "
        "WHERE person_id IS NOT NULL AND json_type(person_id) NOT IN ('BIGINT', 'UBIGINT')").fetchone()[0]
    id_type = "VARCHAR" if other_ids else "BIGINT"
    columns = {"person_id": id_type, "finding_id": "VARCHAR", "kind": "VARCHAR", "certainty": "VARCHAR",
               "input": "VARCHAR", "via": "VARCHAR[]", "error": "VARCHAR"}
    spec = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
    select = ", ".join(columns)
    connection.execute(
        f"COPY (SELECT {select} FROM read_json('{_quote(rows_jsonl)}', format = 'newline_delimited', "
        f"columns = {spec})) TO '{_quote(destination)}' (FORMAT parquet, COMPRESSION zstd)")


def _quote(path: object) -> str:
    return str(path).replace("'", "''")
