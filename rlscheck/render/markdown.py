"""The assessment as a Markdown report a person can print and bring to an appointment."""

from __future__ import annotations

import re
from typing import Any

from rlscheck.render.table import Paragraphs, References, _by_category, checks_to_print
from rlscheck.textsafe import safe

# Characters that can start emphasis, links, code, HTML or tables inside a line. Our text never
# begins a line, so heading and list markers need no escape; the raw file stays readable.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md(value: object) -> str:
    """Text with control characters escaped and Markdown punctuation made literal."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", safe(value).replace("\n", " "))


def _matched(matched: dict[str, Any]) -> str:
    line = f"**{md(matched['input'])}**"
    if matched.get("resolved") and matched["resolved"].lower() != matched["input"].lower():
        line += f" → {md(matched['resolved'])}"
    if matched.get("via"):
        line += f" ({md(' → '.join(matched['via']))})"
    if matched.get("source"):
        line += f" — from {md(matched['source'])}"
    if matched.get("detail"):
        line += f". {md(matched['detail'])}"
    return line


def render(document: dict[str, Any]) -> str:
    """The report for an assessment document (schema_version 1)."""
    references, paragraphs = References(), Paragraphs(document)
    out = ["# Restless legs: possible contributors", "", md(document["summary"]), ""]
    inputs = [m["input"] for finding in document["findings"] for m in finding["matched"]]
    inputs += [item["input"] for section in ("isolated_reports", "notes", "not_linked", "unrecognized")
               for item in document.get(section, [])]
    if inputs:
        out += ["## What was checked", "", "Inputs: " + ", ".join(md(i) for i in dict.fromkeys(inputs)), ""]
    for title, group in _by_category(document["findings"]):
        out += [f"## {title}", ""]
        for finding in group:
            out += [f"### {md(finding['title'])}", ""]
            out += [f"- **How sure:** {md(finding['certainty'])} (best evidence: {md(finding['evidence'])})"]
            details = [m.get("detail") for m in finding["matched"]]
            for position, matched in enumerate(finding["matched"]):
                # A detail shared by several matches (one ingredient, several products) once, at the last.
                shown = matched if matched.get("detail") not in details[position + 1:] else dict(matched, detail="")
                out += [f"- **Matched:** {_matched(shown)}"]
            out += [f"- **Why:** {_once(paragraphs, finding['explanation'])}",
                    f"- **To discuss:** {_once(paragraphs, finding['advice'])}"]
            if finding.get("alternatives") or finding.get("alternatives_note"):
                names = ", ".join(md(a) for a in finding.get("alternatives", []))
                note = md(finding.get("alternatives_note", ""))
                out += [f"- **Safer options:** {names}{'. ' if names and note else ''}{note}"]
            out += [f"- **Sources:** {references.cite(finding['references'])}", ""]
    if document.get("isolated_reports"):
        out += ["## Isolated reports — unlikely to matter", "",
                "A single spontaneous report is not evidence of a link; these are not counted as findings.", ""]
        out += [f"- **{md(n['input'])}** ({md(n['resolved'])}): {md(n['text'])}"
                + (f" Sources: {references.cite(n['references'])}" if n.get("references") else "")
                for n in document["isolated_reports"]] + [""]
    if document["notes"]:
        out += ["## Notes", ""] + [f"- **{md(n['input'])}**: {md(n['text'])}" for n in document["notes"]] + [""]
    for covered, heading in ((True, "Not linked to RLS"), (False, "Not checked: no source in rlscheck's knowledge base covers it")):
        group = [n for n in document["not_linked"] if n.get("covered", True) is covered]
        if group:
            out += [f"## {heading}", ""]
            out += [f"- **{md(n['input'])}** ({md(n['kind'])}): {md(n.get('resolved', ''))}. {md(n.get('text', ''))}"
                    for n in group] + [""]
    if document["unrecognized"]:
        out += ["## Not recognised", ""]
        for item in document["unrecognized"]:
            hint = item.get("reason") or (
                "did you mean " + ", ".join(md(s) for s in item["suggestions"]) + "?" if item["suggestions"]
                else "check the spelling")
            out += [f"- **{md(item['input'])}** ({md(item['kind'])}): {hint}"]
        out += [""]
    checks = checks_to_print(document)
    if checks:
        out += ["## What to check next", ""] + [f"- {md(c['text'])}" for c in checks] + [""]
    if references.numbers:
        out += ["## References", ""]
        out += [f"{number}. {_reference(ref)}" for number, ref in references.numbers.values()] + [""]
    out += ["---", "", f"*{md(document['disclaimer'])}*", ""]
    return "\n".join(out)


def _once(paragraphs: Paragraphs, body: str) -> str:
    """A paragraph the report repeats: marked where first printed, referred to after."""
    mark, body = paragraphs.show(body)  # type: ignore[assignment]  # None: printed before
    return f"{mark}{md(body)}" if body else f"*{mark}*"


def _reference(ref: dict[str, Any]) -> str:
    year = f" ({ref['year']})" if ref.get("year") else ""
    title = md(ref["title"]) + year
    return f"[{title}](<{safe(ref['url']).replace('>', '%3E')}>)" if ref.get("url") else title
