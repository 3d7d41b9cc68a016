"""Lists of medications or conditions, and `show` records, as table, CSV or Markdown."""

from rlscheck.render.console import text
from rlscheck.render.markdown import md

MEDICATION_COLUMNS = ("name", "classes", "relation", "evidence", "brands")
CONDITION_COLUMNS = ("name", "kind", "relation", "certainty", "evidence", "icd10")


def _cell(value):
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def csv_text(records, columns):
    from rlscheck.render.csvout import csv_text as rows_text

    return rows_text(columns, ([record.get(col) for col in columns] for record in records))


def markdown_text(title, records, columns):
    lines = [f"# {md(title)}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for record in records:
        lines.append("| " + " | ".join(md(_cell(record.get(col))) for col in columns) + " |")
    return "\n".join(lines) + "\n"


def table(console, title, records, columns, footer=""):
    from rich.table import Table

    grid = Table(title=title, title_justify="left", title_style="bold", expand=True)
    for column in columns:
        grid.add_column(column.capitalize(), overflow="fold")
    for record in records:
        grid.add_row(*[text(_cell(record.get(col))) for col in columns])
    console.print(grid)
    if footer:
        console.print(text(footer, "italic"))


def show_table(console, term, records, disclaimer):
    from rich.table import Table
    from rich.text import Text

    from rlscheck.textsafe import safe

    for record in records:
        grid = Table(title=f"{safe(record['name'])} ({record['kind']})", title_justify="left", title_style="bold",
                     show_header=False, expand=True)
        grid.add_column("Field", style="bold", ratio=1, overflow="fold")
        grid.add_column("Value", ratio=4, overflow="fold")
        for key, value in record.items():
            if key in ("name", "kind") or value in (None, [], "", {}):
                continue
            if key == "references":
                lines = [f"{r['id']}: {r['title']}" + (f" {r['url']}" if r.get("url") else "") for r in value]
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
            grid.add_row(text(key.replace("_", " ")), Text("\n".join(safe(line) for line in lines)))
        console.print(grid)
    console.print(text(disclaimer, "italic"))
