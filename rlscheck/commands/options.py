"""Options and parameter types shared by the commands."""

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}


class FileName(click.Path):
    """A file name ('-': standard input), completed by the shell as a file; `folders` also takes
    a folder (a Bulk Data export). The commands report a file they cannot read or write themselves."""

    def __init__(self, folders=False):
        super().__init__(dir_okay=folders, allow_dash=True)


class WithUsage:
    """click's Command or Group whose every usage error shows the usage line: click's parser
    raises some (an option missing its value) without the command they belong to."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            error.ctx = error.ctx or ctx
            raise


class Command(WithUsage, click.Command):
    pass


class Group(WithUsage, click.Group):
    command_class = Command


def load_kb(extra=()):
    from rlscheck.knowledge import store as kb

    return kb.load(extra)


def _kb_files(ctx):
    """The --kb files given so far on the command line being completed."""
    return tuple(ctx.params.get("kb_files") or ())


class NameType(click.ParamType):
    """Free text, completed from the knowledge base's names (of the given name indexes, and of
    the --kb files already given) with a short description each ("brand of paroxetine")."""

    name = "name"

    def __init__(self, *indexes):
        self.indexes = indexes

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        try:
            kb = load_kb(_kb_files(ctx))
            items = [item for index in self.indexes for item in kb.completions(index, incomplete)
                     if self.keep(kb, item[0])]
        except Exception:  # completion must never print a traceback into the shell
            return []
        unique = {}
        for value, help_text in items:
            unique.setdefault(value.casefold(), CompletionItem(value, help=help_text))
        return [unique[key] for key in sorted(unique)][:100]

    def keep(self, kb, value):
        return True


class ClassName(NameType):
    """A drug class, completed from the class names of the knowledge base."""

    def __init__(self):
        super().__init__("medication")

    def keep(self, kb, value):
        from rlscheck.resolve.normalize import name_key

        return any(kb.get(entry_id)["kind"] == "class" for entry_id, _ in kb.lookup("medication", name_key(value)))


class LabName(click.ParamType):
    """A lab result NAME=VALUE[ UNIT]; the shell completes the lab names ('ferritin=')."""

    name = "lab"

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        if "=" in incomplete:
            return []
        try:
            kb = load_kb(_kb_files(ctx))
            names = sorted({name.casefold() for name, _ in kb.completions("lab", incomplete) if " " not in name})
        except Exception:  # completion must never print a traceback into the shell
            return []
        return [CompletionItem(f"{name}=", help="lab result") for name in names]


color_option = click.option("--color", type=click.Choice(["auto", "always", "never"], case_sensitive=False),
                            default="auto", show_default=True,
                            help="Colour in tables; auto follows the terminal, NO_COLOR and FORCE_COLOR.")


def format_option(*choices, default="table"):
    return click.option("--format", "-f", "output_format", type=click.Choice(choices, case_sensitive=False),
                        default=default, show_default=True, help="Output format.")


kb_option = click.option("--kb", "kb_files", multiple=True, type=click.Path(), metavar="FILE",
                         help="An extra knowledge-base YAML file merged over the shipped one (repeatable).")
pager_option = click.option("--no-pager", "no_pager", is_flag=True,
                            help="Print straight to the terminal, never through a pager.")
