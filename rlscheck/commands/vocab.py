"""`rlscheck vocab ...`: drug vocabularies indexed into the user's cache."""

import click

from rlscheck.commands.options import CONTEXT, Group


@click.group(cls=Group, context_settings=CONTEXT)
def vocab():
    """Drug vocabularies: index your own RxNorm release for FHIR input."""


@vocab.command("load-rxnorm", context_settings=CONTEXT)
@click.argument("directory", type=click.Path(file_okay=False))
def load_rxnorm(directory):
    """Index an RxNorm release (RXNCONSO.RRF, RXNREL.RRF) so that RxCUIs map to ingredients.

    DIRECTORY holds the release's RRF files (or an rrf/ folder with them), e.g. the
    licence-free RxNorm prescribable content from the National Library of Medicine. Once
    loaded, a FHIR medication coded only by an RxCUI (a clinical or branded drug) is read
    as its ingredients. Loading again replaces the index.

    \b
    Examples:
      rlscheck vocab load-rxnorm ~/Downloads/RxNorm_full_prescribe_11042024
      rlscheck assess --fhir export.json

    Exit codes: 0 loaded, 2 the files are missing, not RRF, or map no drug to an ingredient
    (empty, or columns not where RxNorm puts them); the index loaded before is then kept.
    """
    from rlscheck.knowledge.cache import store_path
    from rlscheck.resolve import rxnorm

    concepts, mapped = rxnorm.load(directory)
    click.echo(f"rlscheck vocab: {concepts} RxNorm concepts read, {mapped} drugs mapped to their ingredients "
               f"(into {store_path()})", err=True)
    return 0
