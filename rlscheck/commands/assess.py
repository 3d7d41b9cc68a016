"""`rlscheck assess`: one person's situation."""

import io
import os
import sys

import click

from rlscheck.commands.options import (CONTEXT, Command, FileName, LabName, NameType, color_option, format_option,
                                      kb_option, load_kb)
from rlscheck.errors import RecordError, UsageError
from rlscheck.textsafe import safe


@click.command(cls=Command, context_settings=CONTEXT)
@click.option("--med", "-m", "meds", multiple=True, type=NameType("medication"),
              help="A medication taken now: generic, brand, salt, dose or class ('Paxil CR', 'SSRI').")
@click.option("--condition", "-c", "conditions", multiple=True, type=NameType("condition"),
              help="A condition by name, synonym, abbreviation or ICD-10-CM code (pregnant, ESRD, E11.42).")
@click.option("--substance", "-s", "substances", multiple=True, type=NameType("substance"),
              help="alcohol, caffeine, coffee, smoking, nicotine, ...")
@click.option("--withdrawal", "-w", "withdrawals", multiple=True, type=NameType("medication"),
              help="A drug or class recently stopped or being tapered.")
@click.option("--risk", "-r", "risks", multiple=True, type=NameType("risk-factor"),
              help="A risk factor: family history, stress, fatigue, sleep loss, immobility, ...")
@click.option("--lab", "labs", multiple=True, type=LabName(), metavar="NAME=VALUE[ UNIT]",
              help="A lab result: ferritin=40, 'ferritin=40 ug/L', tsat=15%, egfr=12, 'b12=150 pg/mL'.")
@click.option("--meds-file", "meds_files", multiple=True, type=FileName(),
              help="A file of medications, one a line ('-' reads stdin); blank lines and # comments ignored.")
@click.option("--fhir", "fhir_files", multiple=True, type=FileName(),
              help="A FHIR R4 Bundle, resource or NDJSON file ('-' reads stdin); its medications, conditions and "
                   "lab results join the inputs.")
@click.option("--trimester", type=click.IntRange(1, 3), help="Pregnancy trimester (1-3); implies pregnancy.")
@format_option("table", "json", "markdown")
@click.option("--details", "-d", is_flag=True,
              help="Tables: the full explanation, advice, safer options and sources of each finding.")
@click.option("--output", "-o", type=FileName(),
              help="Write the report to this file (written whole, once the run has finished).")
@kb_option
@click.option("--strict", is_flag=True, help="An unrecognized input, or a lab result that cannot be used, is an error (exit 2).")
@click.option("--fail-on-findings", is_flag=True, help="Exit 1 when anything was found.")
@color_option
def assess(meds, conditions, substances, withdrawals, risks, labs, meds_files, fhir_files, trimester, output_format,
           details, output, kb_files, strict, fail_on_findings, color):
    """Check one person's medications, conditions, habits and labs.

    \b
    Examples:
      rlscheck assess --med paroxetine --condition pregnancy
      rlscheck assess -m "Zoloft 50 mg" -m "Tylenol PM" -w lorazepam \\
          --lab ferritin=40
      rlscheck assess -c E11.42 -c ESRD --lab egfr=12 -f markdown -o visit.md
      rlscheck assess --fhir patient.json --format json | jq '.findings[].title'

    Exit codes: 0 ran, 1 findings with --fail-on-findings, 2 usage error, 3 knowledge base error.
    """
    if meds_files:
        meds = tuple(meds) + tuple(_read_meds_files(meds_files))
    kb = load_kb(kb_files)
    if not (meds or conditions or substances or withdrawals or risks or labs or fhir_files or trimester):
        raise UsageError("nothing to assess: give at least one --med, --condition, --substance, --withdrawal, "
                         "--risk, --lab, --meds-file or --fhir (see rlscheck assess --help)")
    record = {"meds": list(meds), "conditions": list(conditions), "substances": list(substances),
              "withdrawal": list(withdrawals), "risks": list(risks), "labs": list(labs), "trimester": trimester}
    extract = None
    if fhir_files:
        from rlscheck.inputs import fhir

        extract = fhir.read_files(kb, fhir_files)
    from rlscheck.api import Screener

    try:
        document = Screener(kb).assess(record, fhir_extract=extract)
    except RecordError as error:
        raise UsageError(str(error)) from None
    if strict and extract is not None and extract.empty_reason:
        raise UsageError(f"--strict: {extract.empty_reason}")
    partly = [note for note in document["notes"] if note.get("relation") == "unrecognized-part"]
    if strict and (document["unrecognized"] or partly):
        names = [safe(item["input"]) + (f" (did you mean {', '.join(item['suggestions'])}?)"
                                        if item["suggestions"] else "") for item in document["unrecognized"]]
        names += [f"{safe(note['input'])} (partly: {safe(note['text'])})" for note in partly]
        raise UsageError(f"unrecognized input(s) with --strict: {'; '.join(names)}")
    unusable = [note for note in document["notes"] if note.get("relation") == "skipped" and note.get("kind") == "lab"]
    if strict and unusable:
        names = [f"{safe(note['input'])} ({safe(note['text'].rstrip('.'))})" for note in unusable]
        raise UsageError(f"lab result(s) that could not be used, with --strict: {'; '.join(names)}")
    if output and output != "-":
        write_whole(output, _document_text(document, output_format, color, details, to_file=True),
                    inputs=tuple(meds_files) + tuple(fhir_files))
    elif output_format == "table":
        from rlscheck.render import table
        from rlscheck.render.console import make_console

        table.render(document, make_console(color), details)
    else:
        sys.stdout.write(_document_text(document, output_format, color, details))
    return 1 if fail_on_findings and document["findings"] else 0


def _document_text(document, output_format, color, details, to_file=False):
    """The report as text; in a file, as it would be in a pipe (compact JSON, no colour unless
    asked for)."""
    if output_format == "json":
        from rlscheck.render import jsonout

        return jsonout.render(document, pretty=False if to_file else None)
    if output_format == "markdown":
        from rlscheck.render import markdown

        return markdown.render(document)
    from rlscheck.render import table
    from rlscheck.render.console import make_console

    out = io.StringIO()
    table.render(document, make_console("never" if color == "auto" else color, file=out), details)
    return out.getvalue()


def write_whole(path, content, inputs=()):
    """Write content to path as batch writes its output (`pipeline.Output`): a regular file
    through a temporary file renamed over it at the end (never half-written, its mode and a
    link to it kept), a device or pipe directly. Refuses a path that is one of the inputs."""
    from rlscheck.batch import pipeline

    for given in inputs:
        try:
            if os.path.samefile(given, path):
                raise UsageError(f"'{safe(path)}' is also an input: choose another output file")
        except OSError:  # either does not exist (yet)
            continue
    try:
        out = pipeline.Output(path)
    except OSError as error:
        raise UsageError(f"cannot write '{safe(path)}': {error.strerror or error}") from None
    with out:
        out.file.write(content.encode("utf-8", "surrogateescape"))
        out.commit()


def _read_meds_files(paths):
    from rlscheck.inputs.files import decode, read_bounded
    from rlscheck.resolve.medline import read_list

    items = []
    for path in paths:
        raw = read_bounded(path, MAX_MEDS_FILE, "medication file")
        if b"\x00" in raw:
            raise UsageError(f"medication file '{safe(path)}' is not text (it holds NUL bytes): "
                             "give one medication a line")
        items += read_list(decode(raw).splitlines())
    return items


MAX_MEDS_FILE = 1024 * 1024
