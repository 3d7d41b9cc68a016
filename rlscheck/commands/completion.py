"""`rlscheck completion SHELL`: print a shell completion script.

click's scripts, with three fixes that names such as `Tylenol Simply Sleep` need: bash
inserts each name quoted as one word; zsh matches what was typed regardless of case instead
of replacing it; fish keeps names that contain a comma whole."""

import click

from rlscheck.commands.options import CONTEXT, Command

BASH_FIXES = {
    "IFS=',' read type value": "IFS=',' read -r type value",
    "COMPREPLY+=($value)": "COMPREPLY+=(\"$(printf '%%q' \"$value\")\")",
}
ZSH_FIXES = {
    "_describe -V unsorted completions_with_descriptions -U":
        "_describe -V unsorted completions_with_descriptions -M 'm:{[:lower:][:upper:]}={[:upper:][:lower:]}'",
    "compadd -U -V unsorted -a completions":
        "compadd -V unsorted -M 'm:{[:lower:][:upper:]}={[:upper:][:lower:]}' -a completions",
}
FISH_FIXES = {'(string split "," $completion)': '(string split -m 1 "," $completion)'}
FIXES = {"bash": BASH_FIXES, "zsh": ZSH_FIXES, "fish": FISH_FIXES}


def script_class(shell):
    """click's completion class for the shell, with a source template that has the fixes."""
    from click.shell_completion import get_completion_class

    base = get_completion_class(shell)
    template = base.source_template
    for old, new in FIXES[shell].items():
        if old not in template:  # a click version whose script differs: keep its own
            return base
        template = template.replace(old, new)
    return type(base.__name__, (base,), {"source_template": template})


@click.command(cls=Command, context_settings=CONTEXT, no_args_is_help=True)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell):
    """Print the shell completion script for SHELL.

    Completes commands, options, drug, class, condition, substance and lab names (with
    the names of --kb files given earlier on the line).

    \b
    Examples:
      eval "$(rlscheck completion bash)"
      eval "$(rlscheck completion zsh)"
      rlscheck completion fish > ~/.config/fish/completions/rlscheck.fish
    """
    from rlscheck.cli import cli

    completer = script_class(shell)(cli, {}, "rlscheck", "_RLSCHECK_COMPLETE")
    click.echo(completer.source())
