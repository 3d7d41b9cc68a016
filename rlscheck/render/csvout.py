"""CSV for spreadsheets, the one way every CSV output of rlscheck is written.

Every cell is guarded: one that a spreadsheet would run as a formula (starting with `=`,
`+`, `-`, `@`, a tab, a carriage return or a newline) gets a leading `'`, and one holding a
comma, a quote or any control character (a carriage return would split the row) is quoted.
An empty cell stays empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_START = frozenset("=+-@\t\r\n")


def _needs_quotes(text: str) -> bool:
    return any(c in ',"' or c < " " or "\x7f" <= c <= "\x9f" or c in "\u2028\u2029" for c in text)


def csv_cell(value: object) -> str:
    """One cell: None is empty, a list is joined with '; ', anything else is its text."""
    if value is None:
        text = ""
    elif isinstance(value, (list, tuple)):
        text = "; ".join("" if item is None else str(item) for item in value)
    else:
        text = str(value)
    if text[:1] in FORMULA_START and text:
        text = "'" + text
    return '"' + text.replace('"', '""') + '"' if _needs_quotes(text) else text


def csv_line(values: Iterable[object]) -> str:
    """A row of cells, ending with a newline (a row of one empty cell is `""`, not a blank line)."""
    line = ",".join(csv_cell(value) for value in values)
    return (line or '""') + "\n"


def csv_text(columns: Iterable[object], rows: Iterable[Iterable[object]]) -> str:
    """A header row and the rows (each a sequence of values in column order)."""
    return csv_line(columns) + "".join(csv_line(row) for row in rows)


# -- batch results: one row per person and finding ---------------------------------------------

BATCH_COLUMNS = ("id", "line", "finding_id", "finding", "category", "certainty", "evidence", "matched", "sources",
                 "not_assessed", "unrecognized", "summary", "error")


def header() -> bytes:
    return csv_line(BATCH_COLUMNS).encode("utf-8", "surrogateescape")


def rows(record_id: object, line: int, body: Mapping[str, Any]) -> bytes:
    """The rows of one record's result (a document without disclaimer, or {"error": ...}). A
    person with no finding still has one row (its summary), so no one is lost."""
    base = {"id": record_id, "line": line}
    if "error" in body:
        return _encode([dict(base, error=body["error"])])
    skipped = [f"{note['input']}: {note['text']}" for note in body["notes"]
               if note.get("relation") in ("skipped", "not-read", "empty", "outcome")]
    shared = dict(base, unrecognized=[item["input"] for item in body["unrecognized"]], not_assessed=skipped,
                  summary=body["summary"])
    if not body["findings"]:
        return _encode([shared])
    return _encode([dict(shared, finding_id=finding["id"], finding=finding["title"], category=finding["category"],
                         certainty=finding["certainty"], evidence=finding["evidence"],
                         matched=[m["input"] for m in finding["matched"]],
                         sources=[m["source"] for m in finding["matched"] if m.get("source")])
                    for finding in body["findings"]])


def _encode(records: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(csv_line([record.get(column) for column in BATCH_COLUMNS]) for record in records).encode(
        "utf-8", "surrogateescape")
