"""The assessment as Rich tables for a person at a terminal (reads well at 80 columns)."""

from rlscheck.render.console import text
from rlscheck.wrapping import fill
from rlscheck.textsafe import safe


def checks_to_print(document):
    """The follow-up checks not already printed word for word as a note (a lab whose rule
    needs a second value is both: one input's note, and the check it asks for)."""
    said = {note["text"] for note in document["notes"]}
    return [check for check in document["check_next"] if check["text"] not in said]


CATEGORY_TITLES = {
    "secondary-cause": "May cause or worsen RLS",
    "withdrawal": "Withdrawal (recently stopped)",
    "aggravator": "May aggravate symptoms",
    "primary-risk-factor": "Risk factors for primary RLS",
}
CERTAINTY_STYLES = {
    "established": "bold green",
    "probable": "green",
    "possible": "yellow",
    "conflicting": "magenta",
    "weak": "dim yellow",
    "indirect": "cyan",
    "class-inference": "dim",
}


def _matched_line(matched):
    from rich.text import Text

    line = Text()
    line.append_text(text(matched["input"], "bold"))
    if matched.get("resolved") and matched["resolved"].lower() != matched["input"].lower():
        line.append(" → ")
        line.append_text(text(matched["resolved"]))
    if matched.get("via"):
        line.append(" (")
        line.append_text(text(" → ".join(matched["via"]), "italic"))
        line.append(")")
    if matched.get("source"):
        line.append_text(text(f" [{matched['source']}]", "dim"))
    if matched.get("detail"):
        line.append("\n  ")
        line.append_text(text(matched["detail"], "dim"))
    return line


def _details(finding):
    from rich.text import Text

    cell = Text()
    for matched in finding["matched"]:
        cell.append("• ")
        cell.append_text(_matched_line(matched))
        cell.append("\n")
    cell.append("Why: ", style="bold")
    cell.append_text(text(finding["explanation"]))
    cell.append("\nDiscuss: ", style="bold")
    cell.append_text(text(finding["advice"]))
    if finding.get("alternatives") or finding.get("alternatives_note"):
        cell.append("\nSafer options: ", style="bold")
        parts = ", ".join(finding.get("alternatives", []))
        note = finding.get("alternatives_note", "")
        cell.append_text(text(" ".join(part for part in (parts + "." if parts else "", note) if part)))
    cell.append("\nSources: ", style="bold")
    cell.append_text(text(", ".join(ref["id"] for ref in finding["references"]), "dim"))
    return cell


def _finding_cell(finding):
    from rich.text import Text

    cell = Text()
    cell.append_text(text(finding["title"], "bold"))
    cell.append("\n")
    cell.append_text(text(finding["certainty"], CERTAINTY_STYLES.get(finding["certainty"], "")))
    cell.append("\nevidence: ", style="dim")
    cell.append_text(text(finding["evidence"]))
    return cell


def _simple_table(title, headers, rows):
    from rich.table import Table

    table = Table(title=title, title_justify="left", title_style="bold", show_lines=False, expand=True)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*[text(cell) for cell in row])
    return table


def render(document, console):
    from rich.console import Group
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    width = max(console.width, 40)
    first_width = (width - 7) // 4  # a quarter of the room inside the borders and padding
    parts = [Rule(text("rlscheck: restless legs check", "bold")), text(document["summary"])]
    findings = document["findings"]
    for category, title in CATEGORY_TITLES.items():
        group = [finding for finding in findings if finding["category"] == category]
        if not group:
            continue
        table = Table(title=title, title_justify="left", title_style="bold", expand=True, show_lines=True)
        # Widths given, not measured: Rich would otherwise measure every word of every cell first.
        table.add_column("Finding", width=first_width, overflow="fold")
        table.add_column("What matched, why, what to discuss", width=width - first_width - 7, overflow="fold")
        for finding in group:
            table.add_row(_finding_cell(finding), _details(finding))
        parts.append(table)
    if document.get("isolated_reports"):
        rows = [(item["input"], item["resolved"], item["text"]) for item in document["isolated_reports"]]
        parts.append(_simple_table("Isolated reports — unlikely to matter (not counted as findings)",
                                   ["Input", "Recognised as", "Report"], rows))
    if document["notes"]:
        rows = [(note["input"], note["text"]) for note in document["notes"]]
        parts.append(_simple_table("Notes", ["Input", "Note"], rows))
    for covered, title in ((True, "Not linked to RLS"), (False, "Not in rlscheck's knowledge base (not checked)")):
        rows = [(item["input"], item["kind"], item.get("resolved", ""), item.get("text", ""))
                for item in document["not_linked"] if item.get("covered", True) is covered]
        if rows:
            parts.append(_simple_table(title, ["Input", "Kind", "Recognised as", "Note"], rows))
    if document["unrecognized"]:
        rows = [(item["input"], item["kind"],
                 item.get("reason") or ("did you mean: " + ", ".join(item["suggestions"]) if item["suggestions"]
                                        else "no close match; check the spelling"))
                for item in document["unrecognized"]]
        parts.append(_simple_table("Not recognised (nothing was guessed)", ["Input", "Kind", "Suggestion"], rows))
    console.print(Group(*parts))
    checks = checks_to_print(document)
    if checks:
        console.print(text("What to check next", "bold"))
        for check in checks:
            wrapped = fill(safe(check["text"]), width, first="• ", rest="  ")
            console.print(Text(wrapped), soft_wrap=True)
    cited = {}
    for finding in findings + document.get("isolated_reports", []):
        for ref in finding["references"]:
            cited.setdefault(ref["id"], ref)
    if cited:
        # Left to the terminal to wrap: long URLs stay whole and copyable.
        references = Text()
        references.append("References\n", style="bold")
        for ref in cited.values():
            year = f" ({ref['year']})" if ref.get("year") else ""
            url = f" {ref['url']}" if ref.get("url") else ""
            references.append_text(text(f"{ref['id']}: {ref['title']}{year}{url}", "dim"))
            references.append("\n")
        console.print(references, soft_wrap=True, end="")
    console.print(Text(fill(safe(document["disclaimer"]), width), style="italic"), soft_wrap=True)
