"""CSV for spreadsheets, the one way every CSV output of rlscheck is written.

Every cell is guarded: one that a spreadsheet would run as a formula (starting with `=`,
`+`, `-`, `@`, a tab, a carriage return or a newline) gets a leading `'`, and one holding a
comma, a quote or any control character (a carriage return would split the row) is quoted.
An empty cell stays empty.
"""

FORMULA_START = frozenset("=+-@\t\r\n")


def _needs_quotes(text):
    return any(c in ',"' or c < " " or "\x7f" <= c <= "\x9f" or c in "\u2028\u2029" for c in text)


def csv_cell(value):
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


def csv_line(values):
    """A row of cells, ending with a newline (a row of one empty cell is `""`, not a blank line)."""
    line = ",".join(csv_cell(value) for value in values)
    return (line or '""') + "\n"


def csv_text(columns, rows):
    """A header row and the rows (each a sequence of values in column order)."""
    return csv_line(columns) + "".join(csv_line(row) for row in rows)
