"""The page for people: a plain HTML form (no JavaScript), and the report shown as the Markdown
renderer writes it, turned into HTML. Nothing typed is stored or sent anywhere else."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

MED_FIELDS = 6
CONDITION_FIELDS = 4
LABS = (("ferritin", "Ferritin", "ng/mL"), ("tsat", "Transferrin saturation", "%"),
        ("hemoglobin", "Haemoglobin", "g/dL"), ("egfr", "eGFR", "mL/min/1.73 m²"),
        ("b12", "Vitamin B12", "pg/mL"), ("magnesium", "Magnesium", "mg/dL"))
MAX_VALUES = 60
MAX_VALUE_LENGTH = 200

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:52rem;margin:0 auto;padding:1rem;
line-height:1.5;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}fieldset{border:1px solid #888;border-radius:6px;margin:0 0 1rem;padding:.5rem 1rem 1rem}
legend{font-weight:600;padding:0 .3rem}label{display:block;margin:.4rem 0 .1rem}
input,textarea{font:inherit;padding:.3rem;border:1px solid #555;border-radius:4px;width:100%;box-sizing:border-box}
.grid,.labs{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:0 1rem}
button{font:inherit;padding:.5rem 1.2rem;border-radius:4px;border:2px solid #0b3d91;background:#0b3d91;color:#fff}
button:focus,input:focus,textarea:focus{outline:3px solid #f5a623;outline-offset:1px}
.report{border-bottom:3px solid #0b3d91;margin-bottom:1.5rem}.report h1{font-size:1.4rem}.error{color:#a00000;font-weight:600}
.disclaimer{font-style:italic}.hint{color:#444;font-size:.95rem}
@media print{form,.noprint{display:none}body{max-width:none}.report{border:none}}
"""


def parse_form(body: bytes) -> dict:
    """The submitted form as {field: [values]}: bounded in count and length; None when it has
    more fields than this form has."""
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=False, max_num_fields=MAX_VALUES)
    except ValueError:
        return None
    return {k: [v.strip()[:MAX_VALUE_LENGTH] for v in vs if v.strip()] for k, vs in fields.items()}


def record_from_form(fields: dict) -> dict:
    lines = lambda key: [line.strip() for value in fields.get(key, []) for line in value.splitlines() if line.strip()]
    record = {"meds": fields.get("med", []) + lines("more_meds"),
              "conditions": fields.get("condition", []) + lines("more_conditions"),
              "substances": lines("substances"), "withdrawal": lines("withdrawal"), "risks": lines("risks"),
              "labs": {key: fields[key][0] for key, _, _ in LABS if fields.get(key)}}
    return {k: v for k, v in record.items() if v}


class Page:
    """Renders the form (with completion lists built once from the knowledge base) and reports."""

    def __init__(self, kb):
        self._datalists = "\n".join(
            f'<datalist id="{name}-names">' + "".join(f'<option value="{escape(n)}">' for n in _names(kb, index))
            + "</datalist>"
            for name, index in (("med", "medication"), ("condition", "condition")))

    def render(self, fields=None, report_html="", error="") -> str:
        fields = fields or {}
        value = lambda key, i=0: escape(fields[key][i] if len(fields.get(key, [])) > i else "")
        grid = lambda name, label, count: '<div class="grid">' + "".join(
            f'<label for="{name}{i}">{label} {i + 1}</label>'
            f'<input id="{name}{i}" name="{name}" list="{name}-names" autocomplete="off" value="{value(name, i)}">'
            for i in range(count)) + "</div>"
        labs = "".join(
            f'<div><label for="lab-{key}">{label} ({escape(unit)})</label>'
            f'<input id="lab-{key}" name="{key}" inputmode="decimal" value="{value(key)}"></div>'
            for key, label, unit in LABS)
        textarea = lambda key, label, hint: (
            f'<label for="{key}">{label}</label><textarea id="{key}" name="{key}" rows="2" '
            f'aria-describedby="{key}-hint">{value(key)}</textarea><div id="{key}-hint" class="hint">{hint}</div>')
        error_html = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
        report = (f'<section class="report" aria-label="Report">{report_html}'
                  f'<p class="noprint">Print this page to bring the report to an appointment. Change the entries '
                  f'below and check again, or <a href="/">start again</a>.</p></section>'
                  if report_html else "")
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>rlscheck: restless legs contributors</title><link rel="stylesheet" href="/static/page.css"></head>
<body><main>
{report}
<h1 class="noprint">Restless legs: what might be making it worse?</h1>
<p class="noprint">Enter medications, conditions and lab results. rlscheck lists those that may cause or worsen
restless legs syndrome, with the evidence and sources. What you enter is checked on this server and is not
stored.</p>
{error_html}
<form method="post" action="/" novalidate>
<fieldset><legend>Medications taken now</legend>{grid("med", "Medication", MED_FIELDS)}
{textarea("more_meds", "More medications", "One a line; brand or generic names, with or without a dose.")}
{textarea("withdrawal", "Stopped recently or being tapered", "One a line.")}</fieldset>
<fieldset><legend>Conditions</legend>{grid("condition", "Condition", CONDITION_FIELDS)}
{textarea("more_conditions", "More conditions", "One a line; names or ICD-10-CM codes.")}</fieldset>
<fieldset><legend>Habits and risk factors</legend>
{textarea("substances", "Substances", "One a line: alcohol, caffeine, smoking, ...")}
{textarea("risks", "Risk factors", "One a line: family history, sleep loss, ...")}</fieldset>
<fieldset><legend>Lab results (leave blank if unknown)</legend><div class="labs">{labs}</div></fieldset>
<button type="submit">Check</button>
</form>
{self._datalists}
</main></body></html>
"""


def _names(kb, index):
    names = {}  # casefolded -> the first spelling given
    for name, _ in kb.completions(index):
        names.setdefault(name.casefold(), name)
    return sorted(names.values(), key=str.casefold)


def report_html(document) -> str:
    """The Markdown report as HTML: raw HTML in the Markdown is escaped, unsafe link schemes
    are refused by the converter."""
    from markdown_it import MarkdownIt

    from rlscheck.render import markdown

    return MarkdownIt("commonmark", {"html": False}).render(markdown.render(document))
