"""`rlscheck cache ...`: the user's cache store."""

import click

from rlscheck.commands.options import CONTEXT, Group, kb_option


@click.group(cls=Group, context_settings=CONTEXT)
def cache():
    """Build the cache store's indexes now (otherwise built on first use)."""


@cache.command("build", context_settings=CONTEXT, short_help="Build every index now.")
@kb_option
def cache_build(kb_files):
    """Build the compiled knowledge base, the drug vocabulary, the ICD-10-CM index and the
    vocabulary of medication-line directions now.

    Each is otherwise built the first time a command needs it, which takes a few seconds once
    (with a message on a terminal). Run this after installing, in a container image, or before
    timing rlscheck.

    \b
    Examples:
      rlscheck cache build
      RLSCHECK_CACHE_DIR=/var/cache/rlscheck rlscheck cache build
    """
    import time

    from rlscheck.knowledge.cache import store_path
    from rlscheck.knowledge.store import load
    from rlscheck.resolve import icd, medline, vocab

    for label, build in (("knowledge base", lambda: load(kb_files) is not None),
                         ("drug vocabulary", vocab.table().open), ("ICD-10-CM index", icd.table().open),
                         ("medication-line directions", lambda: bool(medline.sig_phrases()))):
        started = time.monotonic()
        ready = build()
        state = f"ready ({time.monotonic() - started:.1f} s)" if ready else "unavailable (its package is missing)"
        click.echo(f"{label}: {state}", err=True)
    click.echo(f"cache store: {store_path()}", err=True)
    return 0
