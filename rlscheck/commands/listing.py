"""`rlscheck meds`, `conditions` and `show`: what the knowledge base knows."""

import sys

import click

from rlscheck import __version__
from rlscheck.commands.options import (CONTEXT, ClassName, Command, NameType, color_option, format_option, kb_option,
                                      load_kb, pager_option)
from rlscheck.errors import UsageError
from rlscheck.textsafe import clean_input, safe


@click.command(cls=Command, context_settings=CONTEXT)
@click.option("--class", "class_name", type=ClassName(), help="Only this class (SSRI, beta blocker, ...).")
@click.option("--all", "include_all", is_flag=True,
              help="Also list drugs with no link to RLS: treatments (unless stopping them is linked), "
                   "neutral and unsupported drugs.")
@format_option("table", "json", "csv", "markdown")
@kb_option
@pager_option
@color_option
def meds(class_name, include_all, output_format, kb_files, no_pager, color):
    """List medications linked to RLS, with classes and brand names.

    \b
    Examples:
      rlscheck meds --class antidepressant
      rlscheck meds --format csv > rls-meds.csv
      rlscheck meds --class "beta blocker" -f json | jq '.medications[].name'
    """
    from rlscheck.knowledge import catalog

    kb = load_kb(kb_files)
    class_id = _class_id(kb, class_name) if class_name else None
    records = catalog.medications(kb, class_id, include_all)
    title = "Medications linked to RLS" + (f": {class_name}" if class_name else "")
    _emit_list(kb, "medications", title, records, ("name", "classes", "relation", "evidence", "brands"),
               output_format, color, no_pager)


def _class_id(kb, class_name):
    from rlscheck.resolve.normalize import name_key, number_variants
    from rlscheck.resolve.names import Resolver

    key = name_key(class_name)
    for candidate in [key] + number_variants(key):
        for entry_id, _ in kb.lookup("medication", candidate or ""):
            if kb.get(entry_id)["kind"] == "class":
                return entry_id
    suggestions = Resolver(kb).suggest("medication", class_name)
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
    raise UsageError(f"'{safe(class_name)}' is not a drug class in the knowledge base.{hint}")


def _emit_list(kb, key, title, records, columns, output_format, color, no_pager):
    from rlscheck.render import listing

    if output_format == "json":
        from rlscheck.document import SCHEMA_VERSION
        from rlscheck.render import jsonout

        sys.stdout.write(jsonout.render({"schema_version": SCHEMA_VERSION, "rlscheck_version": __version__,
                                         key: records, "disclaimer": kb.disclaimer}))
    elif output_format == "csv":
        sys.stdout.write(listing.csv_text(records, columns))
    elif output_format == "markdown":
        sys.stdout.write(listing.markdown_text(title, records, columns) + "\n*" + kb.disclaimer + "*\n")
    else:
        from rlscheck.render.console import make_console, paged

        console = make_console(color)
        with paged(console, no_pager):
            listing.table(console, title, records, columns, kb.disclaimer)


@click.command(cls=Command, context_settings=CONTEXT)
@click.option("--all", "include_all", is_flag=True, help="Also list associations and conditions with no link.")
@format_option("table", "json", "csv", "markdown")
@kb_option
@pager_option
@color_option
def conditions(include_all, output_format, kb_files, no_pager, color):
    """List conditions, substances and risk factors linked to RLS.

    \b
    Examples:
      rlscheck conditions
      rlscheck conditions --all --format csv
    """
    from rlscheck.knowledge import catalog

    kb = load_kb(kb_files)
    records = catalog.conditions(kb, include_all)
    _emit_list(kb, "conditions", "Conditions, substances and risk factors linked to RLS", records,
               ("name", "kind", "relation", "certainty", "evidence", "icd10"), output_format, color, no_pager)


@click.command(cls=Command, context_settings=CONTEXT)
@click.argument("term", type=NameType("medication", "condition", "substance", "risk-factor", "lab"))
@format_option("table", "json")
@kb_option
@pager_option
@color_option
def show(term, output_format, kb_files, no_pager, color):
    """Show what the knowledge base knows about a drug, brand, class, condition, substance or lab.

    \b
    Examples:
      rlscheck show Benadryl
      rlscheck show SSRI
      rlscheck show E11.42 --format json
    """
    from rlscheck.knowledge import catalog
    from rlscheck.resolve.names import Resolver
    from rlscheck.resolve.normalize import name_key

    kb = load_kb(kb_files)
    term = clean_input(term)
    resolver = Resolver(kb)
    found = [term] if term in kb.entries else []
    key = name_key(term)
    for index in ("medication", "condition", "substance", "risk-factor", "lab"):
        found += [entry_id for entry_id, _ in kb.lookup(index, key)]  # the entry itself (a product too)
    outside = {}  # names the resolver knows without an entry: a drug vocabulary name, an ICD-10-CM code
    for kind in ("medication", "condition", "substance", "risk-factor"):
        result = resolver.resolve(kind, term)
        found += [hit.entry_id for hit in result.hits]
        if result.outside and not result.hits:
            outside.setdefault(result.outside, {"id": None, "name": result.outside, "kind": kind,
                                                "relation": "none", "note": result.outside_text})
    found = [entry_id for entry_id in dict.fromkeys(found) if kb.get(entry_id)["kind"] != "term"]
    if not found and not outside:
        suggestions = resolver.suggest("medication", term) + resolver.suggest("condition", term)
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        raise UsageError(f"'{safe(term)}' is not in the knowledge base.{hint}")
    records = [catalog.describe(kb, entry_id) for entry_id in found] + ([] if found else list(outside.values()))
    if output_format == "json":
        from rlscheck.render import jsonout

        sys.stdout.write(jsonout.render({"term": term, "matches": records, "disclaimer": kb.disclaimer}))
    else:
        from rlscheck.render import listing
        from rlscheck.render.console import make_console, paged

        console = make_console(color)
        with paged(console, no_pager):
            listing.show_table(console, term, records, kb.disclaimer)
