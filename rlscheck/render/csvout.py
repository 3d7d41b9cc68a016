"""Batch results as CSV for spreadsheets: one row per person and finding, flat.

A person with no finding still has one row (its summary), so no one is lost; a record that
could not be read has one row with its error. Every cell that a spreadsheet would run as a
formula (starting with =, +, -, @, a tab or a carriage return) is prefixed with an apostrophe.
"""

import csv
import io

COLUMNS = ("id", "line", "finding_id", "finding", "category", "certainty", "evidence", "matched", "sources",
           "not_assessed", "unrecognized", "summary", "error")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard(value) -> str:
    """A cell's text, made inert for spreadsheets."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def header() -> bytes:
    return _encode([COLUMNS])


def rows(record_id, line, body) -> bytes:
    """The CSV rows of one record's result (a document without disclaimer, or {"error": ...})."""
    base = {"id": record_id, "line": line}
    if "error" in body:
        return _encode([_row(base, error=body["error"])])
    unrecognized = "; ".join(item["input"] for item in body["unrecognized"])
    skipped = "; ".join(f"{note['input']}: {note['text']}" for note in body["notes"]
                        if note.get("relation") in ("skipped", "not-read", "empty", "outcome"))
    shared = dict(base, unrecognized=unrecognized, not_assessed=skipped, summary=body["summary"])
    if not body["findings"]:
        return _encode([_row(shared)])
    out = []
    for finding in body["findings"]:
        matched = finding["matched"]
        out.append(_row(shared, finding_id=finding["id"], finding=finding["title"], category=finding["category"],
                        certainty=finding["certainty"], evidence=finding["evidence"],
                        matched="; ".join(m["input"] for m in matched),
                        sources="; ".join(m["source"] for m in matched if m.get("source"))))
    return _encode(out)


def _row(base, **fields):
    merged = dict(base, **fields)
    return [guard(merged.get(column, "")) for column in COLUMNS]


def _encode(table) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(table)
    return buffer.getvalue().encode("utf-8", "surrogateescape")
