"""Lists of medications or conditions, and `show` records, as table, CSV or Markdown."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Dict

from rlscheck.render.console import text
from rlscheck.render.markdown import md

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

Record = Dict[str, Any]  # a listing record (rlscheck.knowledge.catalog) or a `show` record

MEDICATION_COLUMNS = ("name", "classes", "relation", "evidence", "brands")
CONDITION_COLUMNS = ("name", "kind", "relation", "certainty", "evidence", "icd10")


def _cell(value: object) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def csv_text(records: Iterable[Record], columns: Sequence[str]) -> str:
    from rlscheck.render.csvout import csv_text as rows_text

    return rows_text(columns, ([record.get(col) for col in columns] for record in records))


def markdown_text(title: str, records: Iterable[Record], columns: Sequence[str]) -> str:
    lines = [f"# {md(title)}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(md(_cell(record.get(col))) for col in columns) + " |" for record in records]
    return "\n".join(lines) + "\n"


HEADERS = {"icd10": "ICD-10-CM", "snomed": "SNOMED CT"}
RELATION_STYLES = {"cause": "red", "cause-class": "red", "withdrawal": "yellow", "cause-weak": "dim",
                   "conflict": "dim", "indirect": "dim", "association": "dim", "treatment": "green"}


def _header(column: str) -> str:
    return HEADERS.get(column, column.replace("_", " ").capitalize())


def _styled(column: str, value: str) -> Text:
    from rlscheck.render.table import CERTAINTY_STYLES

    if column == "relation":
        return text(value, RELATION_STYLES.get(value, ""))
    if column == "certainty":
        return text(value, CERTAINTY_STYLES.get(value, ""))
    return text(value, "bold" if column == "name" else "")


def _stacked(*cells: Text) -> Text:
    from rich.text import Text

    return Text("\n").join(cell for cell in cells if cell.plain)


def _medication_rows(records: Iterable[Record], narrow: bool) -> tuple[list[str], list[list[Text]]]:
    """The drug with its brands under it, its classes, its link (under the classes if narrow)."""
    rows = []
    for record in records:
        name = _stacked(text(record["name"], "bold"), text(", ".join(record.get("brands", [])), "dim"))
        classes = text(", ".join(record["classes"]))
        link = _styled("relation", record["relation"])
        if record.get("withdrawal") and record["relation"] != "withdrawal":  # why a treatment is listed
            link.append(", ")
            link.append_text(_styled("relation", "withdrawal"))
        link = _stacked(link, text(record["evidence"], "dim"))
        rows.append([name, _stacked(classes, link)] if narrow else [name, classes, link])
    return (["Medication", "Class and link"] if narrow else ["Medication", "Class", "Link"]), rows


def _condition_rows(records: Iterable[Record], narrow: bool) -> tuple[list[str], list[list[Text]]]:
    rows = []
    for record in records:
        name = _stacked(text(record["name"], "bold"), text(record["kind"], "dim"))
        link = _stacked(_styled("certainty", record.get("certainty") or ""), _styled("relation", record["relation"]))
        evidence = text(record["evidence"])
        codes = text(", ".join(record.get("icd10", [])))
        rows.append([name, _stacked(link, text(record["evidence"], "dim")), codes] if narrow
                    else [name, link, evidence, codes])
    return (["Name", "Link", "ICD-10-CM"] if narrow else ["Name", "Link", "Evidence", "ICD-10-CM"]), rows


LAYOUTS: dict[tuple[str, ...], Callable[..., tuple[list[str], list[list[Text]]]]] = {MEDICATION_COLUMNS: _medication_rows, CONDITION_COLUMNS: _condition_rows}


def table(console: Console, title: str, records: Sequence[Record], columns: Sequence[str], footer: str = "") -> None:
    """A listing as a table as wide as the terminal, fewer columns when it is narrow."""
    layout = LAYOUTS.get(tuple(columns))
    if layout:
        headers, rows = layout(records, narrow=False)
        if fitted_widths(headers, rows, console.width) is None:
            headers, rows = layout(records, narrow=True)
    else:
        headers = [_header(column) for column in columns]
        rows = [[_styled(column, _cell(record.get(column))) for column in columns] for record in records]
    print_table(console, title, headers, rows)
    if footer:
        console.print(text(footer, "italic"))


def _words(cell: Text) -> list[int]:
    return [len(word) for line in cell.plain.splitlines() for word in line.split()] or [0]


def fitted_widths(headers: Sequence[str], rows: Sequence[Sequence[Text]], width: int) -> list[int] | None:
    """Column widths in which no word has to be split, the room within the borders shared out
    evenly (a column that needs less than its share gives the rest to the others); None when
    the longest words alone do not fit."""
    cells = [[text(header)] + [row[i] for row in rows] for i, header in enumerate(headers)]
    least = [max(max(_words(cell)) for cell in column) for column in cells]
    most = [max(max(len(line) for line in (cell.plain.splitlines() or [""])) for cell in column) for column in cells]
    room = width - (3 * len(headers) + 1)
    if sum(least) > room:
        return None
    widths = list(least)
    open_columns = [i for i in range(len(widths)) if most[i] > least[i]]
    while open_columns and sum(widths) < room:
        share = max((room - sum(widths)) // len(open_columns), 1)
        for i in list(open_columns):
            grant = min(share, most[i] - widths[i], room - sum(widths))
            widths[i] += grant
            if widths[i] >= most[i]:
                open_columns.remove(i)
    return widths


def print_table(console: Console, title: str, headers: Sequence[str], rows: Sequence[Sequence[Text]],
                show_header: bool = True) -> None:
    """A table that wraps at word boundaries; when the terminal is too narrow for its longest
    words, each row is printed as a short block instead."""
    from rich.table import Table

    widths = fitted_widths(headers if show_header else ["" for _ in headers], rows, console.width)
    if widths is None:
        return _blocks(console, title, headers, rows)
    grid = Table(title=text(title), title_justify="left", title_style="bold", show_header=show_header)
    for header, width in zip(headers, widths):
        grid.add_column(header, width=width)
    for row in rows:
        grid.add_row(*row)
    console.print(grid)


def _blocks(console: Console, title: str, headers: Sequence[str], rows: Sequence[Sequence[Text]]) -> None:
    """Each row as a short block: its first cell, then 'Header  value' lines."""
    from rich.table import Table

    console.print(text(title, "bold"))
    for row in rows:
        console.print()
        console.print(row[0])
        grid = Table.grid(padding=(0, 1, 0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        for header, cell in zip(headers[1:], row[1:]):
            if cell.plain:
                grid.add_row(header, cell)
        console.print(grid)


def show_table(console: Console, term: str, records: Iterable[Record], disclaimer: str) -> None:
    from rlscheck.render.table import References

    references = References()
    for record in records:
        rows = []
        for key, value in record.items():
            if key in ("name", "kind") or value in (None, [], "", {}):
                continue
            if key == "references":
                lines = [references.cite(value)]
            elif key == "rules":
                lines = [rule.get("threshold", "") for rule in value]
            elif key == "by_trimester":
                lines = list(value)
            elif isinstance(value, dict):
                lines = [", ".join(f"{unit} x{factor}" for unit, factor in value.items())]
            elif isinstance(value, list):
                lines = [", ".join(map(str, value))]
            else:
                lines = [str(value)]
            rows.append([text(_header(key), "bold"), _stacked(*[_styled(key, line) for line in lines])])
        print_table(console, f"{record['name']} ({record['kind']})", ["Field", "Value"], rows, show_header=False)
    references.print(console)
    console.print(text(disclaimer, "italic"))
