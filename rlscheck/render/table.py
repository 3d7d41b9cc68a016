"""The assessment for a person at a terminal: a compact review that fits one screen, or with
`--details` the full explanation, advice, safer options and numbered references.

Colour follows meaning and never carries it alone: every certainty is also written out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Dict

from rlscheck.render.console import text
from rlscheck.textsafe import safe

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

Document = Dict[str, Any]  # an assessment document (rlscheck/schemas/assess.schema.json)

def checks_to_print(document: Document) -> list[dict[str, Any]]:
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
# Causes in red or yellow by how sure the link is; weak or conflicting evidence dim.
CERTAINTY_STYLES = {
    "established": "bold red",
    "probable": "red",
    "possible": "yellow",
    "conflicting": "dim",
    "weak": "dim",
    "indirect": "dim",
    "class-inference": "dim",
}
SAFE_STYLE = "green"  # treatments and safer options
NOTE_STYLES = {"treatment": SAFE_STYLE, "augmentation": "yellow"}
_CHAIN_STEPS = ("brand of ", "ingredient of ", "listed ingredient")


def render(document: Document, console: Console, details: bool = False) -> None:
    """Print the document on a Rich console."""
    (_details if details else _compact)(document, console)


# -- compact review -------------------------------------------------------------------------


def _compact(document: Document, console: Console) -> None:
    from rich.rule import Rule
    from rich.table import Table

    width = console.width
    certainty_width = max((len(finding["certainty"]) for finding in document["findings"]), default=0)
    console.print(Rule(text("rlscheck: restless legs check", "bold")))
    console.print(text(document["summary"]))
    for title, group in _by_category(document["findings"]):
        _heading(console, title)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=certainty_width, no_wrap=True)
        grid.add_column()
        for finding in group:
            line = text(finding["title"], "bold")
            matched = _matched_summary(finding)
            if matched.casefold() != finding["title"].casefold():
                line.append(": ")
                line.append_text(text(matched))
            reason = _first_sentence(finding["explanation"])
            room = width - certainty_width - 1
            line.append("\n")
            line.append_text(text(_shorten(reason, room), "dim"))
            grid.add_row(text(finding["certainty"], CERTAINTY_STYLES.get(finding["certainty"], "")), line)
        console.print(grid)
    _compact_list(console, "Also worth knowing", [
        (note["input"], _first_sentence(note["text"]), NOTE_STYLES.get(note.get("relation"), ""))
        for note in document["notes"] if note.get("relation") != "skipped"])
    _compact_list(console, "Isolated reports, unlikely to matter (not counted as findings)", [
        (item["input"], _first_sentence(item.get("text", "")), "dim") for item in document.get("isolated_reports", [])])
    _checks(console, document)
    _inputs_left(console, document)
    if document["findings"]:
        console.print()
        console.print(text("Why, what to discuss, safer options and sources: add --details.", "dim"))
    _disclaimer(console, document)


def _compact_list(console: Console, title: str, rows: Sequence[tuple[str, str, str]]) -> None:
    """One line each: the input in bold, then as much of the text as fits."""
    from rich.text import Text

    if not rows:
        return
    _heading(console, title)
    for name, body, style in rows:
        line = Text()
        line.append_text(text(name, "bold " + style if style else "bold"))
        line.append(": ")
        line.append_text(text(_shorten(body, max(console.width - len(line), 20)), style))
        console.print(line)


def _inputs_left(console: Console, document: Document, details: bool = False) -> None:
    """Skipped, not linked, not covered and not recognised inputs, each named on a line of its
    kind (nothing is dropped)."""
    from rich.text import Text

    not_linked = document["not_linked"]
    lines = [
        # The details list skipped records, with why, among the notes.
        ("Skipped, not assessed", [note["input"] for note in document["notes"]
                                   if note.get("relation") == "skipped" and not details]),
        ("Not linked to RLS", [_named(item) for item in not_linked if item.get("covered", True)]),
        ("Not checked: no source in rlscheck's knowledge base covers it",
         [_named(item) for item in not_linked if not item.get("covered", True)]),
        ("Not recognised (nothing was guessed)", [_unrecognized(item) for item in document["unrecognized"]]),
    ]
    lines = [(label, names) for label, names in lines if names]
    if lines:
        console.print()
    for label, names in lines:
        console.print(Text.assemble((label + ": ", "bold"), text("; ".join(dict.fromkeys(names)))))


def _named(item: dict[str, Any]) -> str:
    resolved = item.get("resolved") or ""
    text = item.get("text", "")
    if item.get("kind") == "condition" and ": not in rlscheck" in text:  # a code's official description
        described = text.split(": not in rlscheck", 1)[0]
        if described.casefold() not in (item["input"].casefold(), resolved.casefold()):
            resolved = described if resolved.casefold() == item["input"].casefold() else f"{resolved} {described}"
    same = not resolved or resolved.casefold() == item["input"].casefold()
    return item["input"] if same else f"{item['input']} ({resolved})"


def _unrecognized(item: dict[str, Any]) -> str:
    if item.get("reason"):
        return f"{item['input']}: {item['reason']}"
    if item["suggestions"]:
        return f"{item['input']}: did you mean {', '.join(item['suggestions'])}?"
    return f"{item['input']}: no close match, check the spelling"


def _matched_summary(finding: dict[str, Any]) -> str:
    """What matched, input → generic (classes), one group per generic: 'Benadryl, Tylenol PM →
    diphenhydramine'."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for matched in finding["matched"]:
        resolved = matched.get("resolved") or matched["input"]
        groups.setdefault(resolved, []).append(matched)
    parts = []
    for resolved, group in groups.items():
        inputs = list(dict.fromkeys(m["input"] for m in group))
        part = ", ".join(inputs)
        if finding["kind"] in ("medication", "withdrawal") and group[0].get("kind", finding["kind"]) in (
                "medication", "withdrawal"):
            if any(i.casefold() != resolved.casefold() for i in inputs):
                part += f" → {resolved}"
            classes = [step for step in group[0].get("via", [])[:-1] if not step.startswith(_CHAIN_STEPS)]
            if classes:
                part += f" ({' → '.join(classes)})"
        parts.append(part)
    return "; ".join(parts)


def _first_sentence(paragraph: object) -> str:
    paragraph = " ".join(str(paragraph).split())
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[:end + 1]


def _shorten(line: str, width: int) -> str:
    """The line cut at a word boundary to fit width, marked with '…' when cut."""
    if len(line) <= width:
        return line
    cut = line.rfind(" ", 0, width)
    return (line[:cut] if cut > 0 else line[:width - 1]).rstrip(" ,;:") + "…"


def _by_category(findings: Iterable[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for category, title in CATEGORY_TITLES.items():
        group = [finding for finding in findings if finding["category"] == category]
        if group:
            yield title, group


def _bullet(body: str | Text, indent: int = 0, mark: str = "•") -> Table:
    """A bulleted paragraph whose wrapped lines hang under its first word."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 1, 0, 0))
    if indent:
        grid.add_column(width=indent - 1)
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row(*([""] if indent else []), mark, text(body) if isinstance(body, str) else body)
    return grid


def _checks(console: Console, document: Document, references: References | None = None) -> None:
    """The follow-up checks, as bullets (with their sources when references are given)."""
    checks = checks_to_print(document)
    if checks:
        _heading(console, "What to check next")
        for check in checks:
            console.print(_bullet(check["text"] + (references.after(check) if references else "")))


def _heading(console: Console, title: str) -> None:
    console.print()
    console.print(text(title, "bold underline"))


def _disclaimer(console: Console, document: Document) -> None:
    console.print()
    console.print(text(document["disclaimer"], "italic"))


# -- details ----------------------------------------------------------------------------------


class References:
    """Sources numbered in order of first citation; each printed once, below."""

    def __init__(self) -> None:
        self.numbers: dict[str, tuple[int, dict[str, Any]]] = {}

    def cite(self, refs: Iterable[dict[str, Any]]) -> str:
        return " ".join(f"[{self.numbers.setdefault(ref['id'], (len(self.numbers) + 1, ref))[0]}]" for ref in refs)

    def after(self, item: dict[str, Any]) -> str:
        """' [1] [2]' citing an item's references, to follow its text; '' when it has none."""
        return f" {self.cite(item['references'])}" if item.get("references") else ""

    def print(self, console: Console) -> None:
        from rich.text import Text

        if not self.numbers:
            return
        _heading(console, "References")
        for number, ref in self.numbers.values():
            year = f" ({ref['year']})" if ref.get("year") and str(ref["year"]) not in ref["title"] else ""
            console.print(_bullet(f"{ref['title']}{year}", mark=f"[{number}]"))
            if ref.get("url"):
                # Printed whole, never folded, so it can be clicked (OSC 8 where supported) or copied.
                url = safe(ref["url"])
                console.print(Text("    ").append(url, style=f"link {url}" if console.is_terminal else ""),
                              soft_wrap=True, overflow="ignore", crop=False)


def _details(document: Document, console: Console) -> None:
    from rich.rule import Rule
    from rich.text import Text

    references = References()
    console.print(Rule(text("rlscheck: restless legs check", "bold")))
    console.print(text(document["summary"]))
    paragraphs = Paragraphs(document)
    for title, group in _by_category(document["findings"]):
        _heading(console, title)
        for finding in group:
            console.print()
            console.print(Text.assemble(text(finding["title"], "bold"), " — ",
                                        text(finding["certainty"], CERTAINTY_STYLES.get(finding["certainty"], "")),
                                        text(f" (best evidence: {finding['evidence']})", "dim")))
            _details_matched(console, finding, paragraphs)
            _field(console, "Why", finding["explanation"], paragraphs=paragraphs)
            _field(console, "Discuss", finding["advice"], paragraphs=paragraphs)
            if finding.get("alternatives") or finding.get("alternatives_note"):
                names = ", ".join(finding.get("alternatives", []))
                body = " ".join(part for part in (names + "." if names else "", finding.get("alternatives_note", ""))
                                if part)
                _field(console, "Safer options", body, SAFE_STYLE)
            if finding["references"]:
                _field(console, "Sources", references.cite(finding["references"]))
    if document["notes"]:
        _heading(console, "Also worth knowing")
        for note in document["notes"]:
            _field(console, note["input"], note["text"] + references.after(note),
                   NOTE_STYLES.get(note.get("relation"), ""), indent=0, paragraphs=paragraphs)
    if document.get("isolated_reports"):
        _heading(console, "Isolated reports, unlikely to matter (not counted as findings)")
        for item in document["isolated_reports"]:
            _field(console, item["input"], item.get("text", "") + references.after(item), "dim", indent=0)
    _checks(console, document, references)
    _inputs_left(console, document, details=True)
    references.print(console)
    _disclaimer(console, document)


def _details_matched(console: Console, finding: dict[str, Any], paragraphs: Paragraphs) -> None:
    """Each match on its own line; a detail shared by several matches (the same ingredient in
    several products) printed once, after the last of them."""
    from rich.text import Text

    matched = finding["matched"]
    for position, item in enumerate(matched):
        line = Text()
        line.append_text(text(item["input"], "bold"))
        resolved = item.get("resolved")
        if resolved and resolved.casefold() != item["input"].casefold():
            line.append(" → ")
            line.append_text(text(resolved))
        if item.get("via"):
            line.append_text(text(f" ({' → '.join(item['via'])})", "italic"))
        if item.get("source"):
            line.append_text(text(f" [{item['source']}]", "dim"))
        console.print(_bullet(line, 2))
        detail = item.get("detail")
        later = [other.get("detail") for other in matched[position + 1:]]
        if detail and detail not in later:
            _field(console, None, detail, "dim", 4, paragraphs)


def _field(console: Console, label: str | None, body: str, style: str = "", indent: int = 2,
           paragraphs: Paragraphs | None = None) -> None:
    """'Label: body' (no label: the body alone), indented; a repeated paragraph once."""
    from rich.text import Text

    line = Text()
    if label:
        line.append_text(text(label + ": ", "bold " + style if style else "bold"))
    mark, body = paragraphs.show(body) if paragraphs else ("", body)  # type: ignore[assignment]  # None: printed before
    line.append_text(text(mark, "dim"))
    if body:
        line.append_text(text(body, style))
    _indented(console, line, indent)


class Paragraphs:
    """Long paragraphs the report would repeat (several products with one ingredient, the
    default advice of several findings): marked ¶N where first printed, referred to after."""

    def __init__(self, document: Document) -> None:
        self.counts: Counter[str] = Counter(note["text"] for note in document["notes"])
        for finding in document["findings"]:
            details = {item.get("detail") for item in finding["matched"]} - {None, ""}
            self.counts.update([finding["explanation"], finding["advice"], *details])
        self.marks: dict[str, str] = {}

    def show(self, body: str) -> tuple[str, str | None]:
        """(mark, body to print, or None when printed before)."""
        if len(body) < 80 or self.counts[body] < 2:
            return "", body
        if body in self.marks:
            return f"as {self.marks[body]} above", None
        self.marks[body] = f"¶{len(self.marks) + 1}"
        return self.marks[body] + " ", body


def _indented(console: Console, renderable: RenderableType, indent: int) -> None:
    from rich.padding import Padding

    console.print(Padding(renderable, (0, 0, 0, indent), expand=False) if indent else renderable)
