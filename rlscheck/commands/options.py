"""Options and parameter types shared by the commands."""

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def load_kb(extra=()):
    from rlscheck import kb

    return kb.load(extra)


class NameType(click.ParamType):
    """Free text, completed from the knowledge base's names (of the given name indexes) with a
    short description each ("brand of paroxetine")."""

    name = "name"

    def __init__(self, *indexes):
        self.indexes = indexes

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        try:
            kb = load_kb()
            items = [item for index in self.indexes for item in kb.completions(index, incomplete)]
        except Exception:  # completion must never print a traceback into the shell
            return []
        unique = {}
        for value, help_text in items:
            unique.setdefault(value.casefold(), CompletionItem(value, help=help_text))
        return [unique[key] for key in sorted(unique)][:100]


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
