"""Command-line interface. Imports click alone; every command imports what it needs when it runs."""

import os
import sys

import click

from rlscheck import __version__

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
ASSESS_KINDS = {"med": "medication", "condition": "condition", "substance": "substance",
                "withdrawal": "withdrawal", "risk": "risk-factor"}


def _kb(extra=()):
    from rlscheck import kb

    return kb.load(extra)


class NameType(click.ParamType):
    """Free text, completed from the knowledge base's names with a short description each."""

    name = "name"

    def __init__(self, index):
        self.index = index

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        try:
            items = _kb().completions.get(self.index, [])
        except Exception:  # completion must never print a traceback into the shell
            return []
        prefix = incomplete.casefold()
        out, seen = [], set()
        for value, help_text in items:
            if value.casefold().startswith(prefix) and value.casefold() not in seen:
                seen.add(value.casefold())
                out.append(CompletionItem(value, help=help_text))
        return sorted(out, key=lambda item: item.value.casefold())[:100]


class AnyNameType(NameType):
    def shell_complete(self, ctx, param, incomplete):
        items = []
        for index in ("medication", "condition", "substance", "risk-factor", "lab"):
            self.index = index
            items += super().shell_complete(ctx, param, incomplete)
        return sorted(items, key=lambda item: item.value.casefold())[:100]


def color_option(function):
    return click.option("--color", type=click.Choice(["auto", "always", "never"], case_sensitive=False),
                        default="auto", show_default=True,
                        help="Colour in tables; auto follows the terminal, NO_COLOR and FORCE_COLOR.")(function)


def format_option(*choices, default="table"):
    return click.option("--format", "-f", "output_format", type=click.Choice(choices, case_sensitive=False),
                        default=default, show_default=True, help="Output format.")


def kb_option(function):
    return click.option("--kb", "kb_files", multiple=True, metavar="FILE",
                        help="An extra knowledge-base YAML file merged over the shipped one (repeatable).")(function)


class Cli(click.Group):
    """The root group: every failure becomes one message on stderr and the contract's exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        def run():
            return super(Cli, self).main(args, prog_name or "rlscheck", complete_var, standalone_mode=False, **extra)

        if not standalone_mode:
            return run()
        sys.exit(_exit_code(run))


@click.group(cls=Cli, context_settings=CONTEXT)
@click.version_option(__version__, "--version", "-V", prog_name="rlscheck", message="%(prog)s %(version)s")
def cli():
    """Check medications, conditions, habits and lab results for known secondary causes of
    restless legs syndrome (RLS), with the evidence and sources behind each.

    \b
    Examples:
      rlscheck assess --med paroxetine --condition pregnancy
      rlscheck assess -m Zoloft -m Benadryl --lab ferritin=40 --format json
      rlscheck meds --class antidepressant
      rlscheck show Benadryl

    rlscheck informs; it does not diagnose. Never stop a medicine without asking your
    doctor or pharmacist.
    """


@cli.command(context_settings=CONTEXT)
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
@click.option("--lab", "labs", multiple=True, metavar="NAME=VALUE[ UNIT]",
              help="A lab result: ferritin=40, 'ferritin=40 ug/L', tsat=15%, egfr=12, 'b12=150 pg/mL'.")
@click.option("--fhir", "fhir_files", multiple=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="A FHIR R4 Bundle or resource ('-' reads stdin); its medications and conditions join the inputs.")
@click.option("--trimester", type=click.IntRange(1, 3), help="Pregnancy trimester (1-3); implies pregnancy.")
@format_option("table", "json", "markdown")
@kb_option
@click.option("--strict", is_flag=True, help="An unrecognized input is an error (exit 2).")
@click.option("--fail-on-findings", is_flag=True, help="Exit 1 when anything was found.")
@color_option
def assess(meds, conditions, substances, withdrawals, risks, labs, fhir_files, trimester, output_format,
           kb_files, strict, fail_on_findings, color):
    """Check one person's medications, conditions, habits and labs.

    \b
    Examples:
      rlscheck assess --med paroxetine --condition pregnancy
      rlscheck assess -m "Zoloft 50 mg" -m "Tylenol PM" -w lorazepam --lab ferritin=40
      rlscheck assess -c E11.42 -c ESRD --lab "egfr=12" --format markdown > visit.md
      rlscheck assess --fhir patient.json --format json | jq '.findings[].title'

    Exit codes: 0 ran, 1 findings with --fail-on-findings, 2 usage error, 3 knowledge base error.
    """
    from rlscheck.engine import Input, assess as run_assess
    from rlscheck.labs import parse_lab
    from rlscheck.textsafe import clean_input

    inputs = []
    for option, values in (("med", meds), ("condition", conditions), ("substance", substances),
                           ("withdrawal", withdrawals), ("risk", risks)):
        inputs += [Input(ASSESS_KINDS[option], clean_input(value)) for value in values]
    kb = _kb(kb_files)
    parsed_labs = [parse_lab(kb, clean_input(lab)) for lab in labs]
    if fhir_files:
        from rlscheck import fhir

        for path in fhir_files:
            inputs += fhir.inputs_from(fhir.read_source(path), path)
    if trimester and not any(i.kind == "condition" and "pregn" in i.text.lower() for i in inputs):
        inputs.append(Input("condition", "pregnancy", "--trimester"))
    document = run_assess(kb, inputs, parsed_labs, trimester or 0)
    if strict and document["unrecognized"]:
        from rlscheck.errors import UsageError
        from rlscheck.textsafe import safe

        names = "; ".join(
            safe(item["input"]) + (f" (did you mean {', '.join(item['suggestions'])}?)" if item["suggestions"] else "")
            for item in document["unrecognized"])
        raise UsageError(f"unrecognized input(s) with --strict: {names}")
    _emit_document(document, output_format, color)
    return 1 if fail_on_findings and document["findings"] else 0


def _emit_document(document, output_format, color):
    if output_format == "json":
        from rlscheck.render import jsonout

        sys.stdout.write(jsonout.render(document))
    elif output_format == "markdown":
        from rlscheck.render import markdown

        sys.stdout.write(markdown.render(document))
    else:
        from rlscheck.render import table
        from rlscheck.render.console import make_console

        table.render(document, make_console(color))


@cli.command(context_settings=CONTEXT)
@click.option("--class", "class_name", type=NameType("medication"), help="Only this class (SSRI, beta blocker, ...).")
@click.option("--all", "include_all", is_flag=True, help="Also list treatments, neutral and unsupported drugs.")
@format_option("table", "json", "csv", "markdown")
@kb_option
@color_option
def meds(class_name, include_all, output_format, kb_files, color):
    """List medications linked to RLS, with classes and brand names.

    \b
    Examples:
      rlscheck meds --class antidepressant
      rlscheck meds --format csv > rls-meds.csv
      rlscheck meds --class "beta blocker" --format json | jq '.medications[].name'
    """
    from rlscheck import catalog

    kb = _kb(kb_files)
    class_id = _class_id(kb, class_name) if class_name else None
    records = catalog.medications(kb, class_id, include_all)
    title = "Medications linked to RLS" + (f": {class_name}" if class_name else "")
    _emit_list(kb, "medications", title, records, ("name", "classes", "relation", "evidence", "brands"),
               output_format, color)


def _class_id(kb, class_name):
    from rlscheck.errors import UsageError
    from rlscheck.normalize import name_key, singular
    from rlscheck.resolve import Resolver
    from rlscheck.textsafe import safe

    key = name_key(class_name)
    for candidate in (key, singular(key)):
        for entry_id, _ in kb.lookup("medication", candidate or ""):
            if kb.get(entry_id)["kind"] == "class":
                return entry_id
    suggestions = [s for s in Resolver(kb).suggest("medication", class_name)]
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
    raise UsageError(f"'{safe(class_name)}' is not a drug class in the knowledge base.{hint}")


def _emit_list(kb, key, title, records, columns, output_format, color):
    from rlscheck.render import listing

    if output_format == "json":
        from rlscheck.engine import SCHEMA_VERSION
        from rlscheck.render import jsonout

        sys.stdout.write(jsonout.render({"schema_version": SCHEMA_VERSION, "rlscheck_version": __version__,
                                         key: records, "disclaimer": kb.disclaimer}))
    elif output_format == "csv":
        sys.stdout.write(listing.csv_text(records, columns))
    elif output_format == "markdown":
        sys.stdout.write(listing.markdown_text(title, records, columns) + "\n*" + kb.disclaimer + "*\n")
    else:
        from rlscheck.render.console import make_console

        listing.table(make_console(color), title, records, columns, kb.disclaimer)


@cli.command(context_settings=CONTEXT)
@click.option("--all", "include_all", is_flag=True, help="Also list associations and conditions with no link.")
@format_option("table", "json", "csv", "markdown")
@kb_option
@color_option
def conditions(include_all, output_format, kb_files, color):
    """List conditions, substances and risk factors linked to RLS.

    \b
    Examples:
      rlscheck conditions
      rlscheck conditions --all --format csv
    """
    from rlscheck import catalog

    kb = _kb(kb_files)
    records = catalog.conditions(kb, include_all)
    _emit_list(kb, "conditions", "Conditions, substances and risk factors linked to RLS", records,
               ("name", "kind", "relation", "certainty", "evidence", "icd10"), output_format, color)


@cli.command(context_settings=CONTEXT)
@click.argument("term", type=AnyNameType("medication"))
@format_option("table", "json")
@kb_option
@color_option
def show(term, output_format, kb_files, color):
    """Show what the knowledge base knows about a drug, brand, class, condition, substance or lab.

    \b
    Examples:
      rlscheck show Benadryl
      rlscheck show SSRI
      rlscheck show E11.42 --format json
    """
    from rlscheck import catalog
    from rlscheck.errors import UsageError
    from rlscheck.resolve import Resolver
    from rlscheck.normalize import name_key
    from rlscheck.textsafe import clean_input, safe

    kb = _kb(kb_files)
    term = clean_input(term)
    resolver = Resolver(kb)
    found = []
    if term in kb.entries:
        found.append(term)
    for kind in ("medication", "condition", "substance", "risk-factor"):
        for hit in resolver.resolve(kind, term).hits:
            if hit.entry_id not in found:
                found.append(hit.entry_id)
    for entry_id, _ in kb.lookup("lab", name_key(term)):
        found.append(entry_id)
    if not found:
        suggestions = resolver.suggest("medication", term) + resolver.suggest("condition", term)
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        raise UsageError(f"'{safe(term)}' is not in the knowledge base.{hint}")
    records = [catalog.describe(kb, entry_id) for entry_id in found]
    if output_format == "json":
        from rlscheck.render import jsonout

        sys.stdout.write(jsonout.render({"term": term, "matches": records, "disclaimer": kb.disclaimer}))
    else:
        from rlscheck.render import listing
        from rlscheck.render.console import make_console

        listing.show_table(make_console(color), term, records, kb.disclaimer)


@cli.command(context_settings=CONTEXT)
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write results here instead of stdout (opened only once reading has started).")
@click.option("--input-format", type=click.Choice(["jsonl", "csv"], case_sensitive=False),
              help="Input format; default from the file name (.csv), else jsonl.")
@kb_option
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
def batch(source, output, input_format, kb_files, quiet):
    """Screen many people: one JSON line out for every non-empty line in.

    \b
    JSONL input, one person a line, every field optional:
      {"id": "p1", "meds": ["Zoloft"], "conditions": ["ESRD"], "labs": {"ferritin": 40}}
    CSV: columns id, meds, conditions, substances, withdrawal, risks, labs; several values
    in a cell are separated by ';' (labs: ferritin=40;tsat=15%).

    \b
    Examples:
      rlscheck batch patients.jsonl -o results.jsonl
      rlscheck batch patients.csv | jq -c 'select(.findings | length > 0) | .id'

    Exit codes: 0 all records read, 4 some records could not be read (each is an error line).
    """
    from rlscheck import batch as batching
    from rlscheck.errors import UsageError
    from rlscheck.textsafe import safe

    kb = _kb(kb_files)
    fmt = (input_format or ("csv" if source.lower().endswith(".csv") else "jsonl")).lower()
    try:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb")
    except OSError as error:
        raise UsageError(f"cannot read '{safe(source)}': {error.strerror or error}") from None
    with stream:
        records = batching.read_csv(stream) if fmt == "csv" else batching.read_jsonl(stream)
        first = next(records, None)  # a header problem fails here, before any output is touched
        import itertools

        records = itertools.chain([first] if first else [], records)
        show_progress = not quiet and sys.stderr.isatty()

        def progress(count):
            sys.stderr.write(f"\rrlscheck batch: {count} records")
            sys.stderr.flush()

        if output:
            try:
                out = open(output, "w", encoding="utf-8", newline="\n")
            except OSError as error:
                raise UsageError(f"cannot write '{safe(output)}': {error.strerror or error}") from None
        else:
            out = sys.stdout
        try:
            total, found, errors = batching.run(kb, records, out, progress if show_progress else None)
        finally:
            if output:
                out.close()
    if show_progress:
        sys.stderr.write("\r")
    click.echo(f"rlscheck batch: {total} records, {found} with findings, {errors} errors", err=True)
    return 4 if errors else 0


@cli.group(context_settings=CONTEXT)
def kb():
    """Knowledge-base tools."""


@kb.command("validate", context_settings=CONTEXT)
@click.argument("files", nargs=-1)
@click.option("--standalone", is_flag=True, help="Check the files alone, not merged over the shipped knowledge base.")
def kb_validate(files, standalone):
    """Check knowledge-base files and report every problem as FILE:LINE:COL.

    With no FILE, checks the shipped knowledge base. Extra files are checked as --kb uses
    them: merged over the shipped file, so they may refer to its classes and sources.

    \b
    Examples:
      rlscheck kb validate
      rlscheck kb validate my-extra.yaml
    """
    from rlscheck.kb import shipped_path
    from rlscheck.validate import check_files

    paths = list(files) if standalone and files else [str(shipped_path())] + list(files)
    _, issues = check_files(paths)
    for issue in issues:
        click.echo(issue.format())
    errors = sum(issue.level == "error" for issue in issues)
    click.echo(f"{len(paths)} file(s) checked, {errors} error(s)", err=True)
    return 3 if errors else 0


@cli.command(context_settings=CONTEXT)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell):
    """Print the shell completion script for SHELL.

    \b
    Examples:
      eval "$(rlscheck completion bash)"
      rlscheck completion fish > ~/.config/fish/completions/rlscheck.fish
    """
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)(cli, {}, "rlscheck", "_RLSCHECK_COMPLETE")
    click.echo(completer.source())


def main():
    cli.main()


def _exit_code(run):
    from rlscheck.errors import RlsError

    try:
        code = run()
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = 130
    except click.ClickException as error:
        _show_click_error(error)
        code = error.exit_code
    except RlsError as error:
        from rlscheck.textsafe import safe

        if error.exit_code == 3:
            click.echo(f"rlscheck: error: invalid knowledge base ({len(error.issues)} problem(s)):\n{error}", err=True)
        else:
            click.echo(f"rlscheck: error: {safe(error)}", err=True)
        code = error.exit_code
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except Exception as error:  # last resort: never a traceback for the user
        if os.environ.get("RLSCHECK_DEBUG"):
            raise
        from rlscheck.textsafe import safe

        click.echo(f"rlscheck: internal error ({type(error).__name__}): {safe(error)}. "
                   "Set RLSCHECK_DEBUG=1 for details.", err=True)
        code = 70
    return code if isinstance(code, int) else 0


def _show_click_error(error):
    from rlscheck.textsafe import safe

    if isinstance(error, click.UsageError) and error.ctx is not None:
        click.echo(error.ctx.get_usage(), err=True)
        click.echo(f"Try '{error.ctx.command_path} -h' for help.", err=True)
    click.echo(f"Error: {safe(error.format_message())}", err=True)
