"""`rlscheck kb ...`: knowledge-base tools."""

import click

from rlscheck.commands.options import CONTEXT, Group


@click.group(cls=Group, context_settings=CONTEXT)
def kb():
    """Knowledge-base tools."""


@kb.command("validate", context_settings=CONTEXT, short_help="Check knowledge-base files.")
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
    from rlscheck.knowledge import shipped_path
    from rlscheck.knowledge.validate import check_files

    paths = list(files) if standalone and files else [str(shipped_path())] + list(files)
    _, issues = check_files(paths)
    order = {path: index for index, path in enumerate(paths)}
    for issue in sorted(issues, key=lambda issue: (order.get(issue.file, len(order)), issue.file, issue.line, issue.col)):
        click.echo(issue.format())
    errors = sum(issue.level == "error" for issue in issues)
    click.echo(f"{len(paths)} file(s) checked, {errors} error(s)", err=True)
    return 3 if errors else 0
