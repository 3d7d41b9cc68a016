"""`rlscheck completion SHELL`: print a shell completion script."""

import click

from rlscheck.commands.options import CONTEXT, Command


@click.command(cls=Command, context_settings=CONTEXT, no_args_is_help=True)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell):
    """Print the shell completion script for SHELL.

    \b
    Examples:
      eval "$(rlscheck completion bash)"
      rlscheck completion fish > ~/.config/fish/completions/rlscheck.fish
    """
    from click.shell_completion import get_completion_class

    from rlscheck.cli import cli

    completer = get_completion_class(shell)(cli, {}, "rlscheck", "_RLSCHECK_COMPLETE")
    click.echo(completer.source())
