"""CSV output is safe in spreadsheets: one row per record, no cell run as a formula."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import rlscheck
from rlscheck.render.csvout import FORMULA_START, csv_cell, csv_text

HOSTILE = """
drugs:
  - id: drug.hostile
    name: "\\r=HYPERLINK(\\"http://x\\")"
    classes: [drug.ssri]
    relation: cause-class
    evidence: [CLS]
    references: [BMJBP]
    brands: ["@SUM(A1)", "\\tcmd", "+1", "-2", "a\\u2028b", "x\\u0085y"]
"""


def parse(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def test_a_name_starting_with_a_carriage_return_stays_in_its_row(tmp_path):
    extra = tmp_path / "hostile.yaml"
    extra.write_text(HOSTILE, encoding="utf-8")
    result = rlscheck("meds", "--kb", extra, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = parse(result.stdout)
    assert all(len(row) == len(rows[0]) for row in rows)
    for row in rows:
        for cell in row:
            assert cell[:1] not in FORMULA_START or cell == "", cell
    hostile = [row for row in rows if "HYPERLINK" in row[0]]
    assert hostile == [[
        "'\r=HYPERLINK(\"http://x\")", "SSRI; antidepressant", "cause-class", "class inference",
        "@SUM(A1); \tcmd; +1; -2; a\u2028b; x\u0085y".join(["'", ""])]]


def test_empty_cells_stay_empty():
    assert csv_cell("") == "" and csv_cell(None) == "" and csv_cell([]) == ""
    assert csv_text(["a", "b"], [["", None]]) == "a,b\n,\n"
    assert rlscheck("conditions", "--format", "csv").stdout.count(",'") == 0


@pytest.mark.slow
@given(st.lists(st.lists(st.one_of(st.text(), st.none()), min_size=1, max_size=5), max_size=5))
def test_any_cells_read_back_as_written_and_never_as_formulas(rows):
    width = max((len(row) for row in rows), default=1)
    rows = [row + [""] * (width - len(row)) for row in rows]
    columns = [f"c{n}" for n in range(width)]
    parsed = parse(csv_text(columns, rows))
    assert len(parsed) == len(rows) + 1
    for given_row, read_row in zip(rows, parsed[1:]):
        assert len(read_row) == width
        for value, cell in zip(given_row, read_row):
            text = value or ""
            assert cell == ("'" + text if text[:1] in FORMULA_START and text else text)
