"""Options and parameter types shared by the commands."""

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def load_kb(extra=()):
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
            items = load_kb().completions.get(self.index, [])
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
