"""Options and parameter types shared by the commands."""

import os

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _show_help(ctx, param, value):
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


class HelpFormatter(click.HelpFormatter):
    """click's help layout, wrapped without textwrap: importing it compiles patterns that cost
    every `--help` more than the rest of its layout."""

    def write_usage(self, prog, args="", prefix="Usage: "):
        from rlscheck.wrapping import fill

        first = f"{prefix:>{self.current_indent}}{prog} "
        self.write(fill(args, self.width - self.current_indent, first, " " * len(first)).rstrip() + "\n")

    def write_text(self, text):
        from rlscheck.wrapping import fill_paragraphs

        self.write(fill_paragraphs(text, self.width, " " * self.current_indent) + "\n")

    def write_dl(self, rows, col_max=30, col_spacing=2):
        from rlscheck.wrapping import fill_paragraphs

        rows = list(rows)
        first_width = min(max((len(first) for first, _ in rows), default=0), col_max) + col_spacing
        margin = " " * (first_width + self.current_indent)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            self.write(" " * (first_width - len(first)) if len(first) <= first_width - col_spacing else "\n" + margin)
            lines = fill_paragraphs(second, max(self.width - first_width - 2, 10)).splitlines() or [""]
            self.write(lines[0] + "\n" + "".join(f"{margin}{line}\n" for line in lines[1:]))


class Context(click.Context):
    formatter_class = HelpFormatter


class Lean:
    """click's Command or Group, spared the translation lookups click makes on every run and in
    help (each one searches for message catalogs, the first imports `locale`: about 2 ms of
    start-up; click ships no translations)."""

    context_class = Context

    def get_help_option(self, ctx):
        names = self.get_help_option_names(ctx)
        if not names or not self.add_help_option:
            return None
        if getattr(self, "_plain_help", None) is None:  # one object: click orders eager options by identity
            self._plain_help = click.Option(names, is_flag=True, is_eager=True, expose_value=False,
                                            callback=_show_help, help="Show this message and exit.")
        return self._plain_help

    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix="Usage: ")

    def format_options(self, ctx, formatter):
        records = [param.get_help_record(ctx) for param in self.get_params(ctx) if isinstance(param, click.Option)]
        if any(records):
            with formatter.section("Options"):
                formatter.write_dl([record for record in records if record])
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)

    def parse_args(self, ctx, args):
        values, long_names = self._option_spellings(ctx)
        # Completing an option's value, click's parser would build (and translate) an error for
        # the option still waiting for it. Completion reads that option from its own copy of
        # the arguments, so parsing can leave it out.
        if ctx.resilient_parsing and args and values.get(args[-1]):
            args = args[:-1]
        return super().parse_args(ctx, _spelled_long(args, values, long_names, self.allow_interspersed_args))

    def _option_spellings(self, ctx):
        """{option name: how many values follow it}, and {short name: long name}."""
        values, long_names = {}, {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in param.opts + param.secondary_opts:
                    values[name] = 0 if param.is_flag or param.count else param.nargs
                longs = [name for name in param.opts if name.startswith("--")]
                long_names.update((name, longs[0]) for name in param.opts if longs and len(name) == 2)
        return values, long_names


def _spelled_long(args, values, long_names, interspersed):
    """The arguments with each short option ('-m') spelled long ('--med'): click's parser tries
    every option as a long one first, and each failed try imports difflib and looks up a
    translation (about 3 ms). Option values are never touched."""
    spelled, position = [], 0
    while position < len(args):
        arg = args[position]
        if arg == "--" or (not interspersed and (arg[:1] != "-" or arg == "-")):
            return spelled + list(args[position:])  # the rest is not this command's options
        taken = values.get(arg, 0)
        spelled += [long_names.get(arg, arg), *args[position + 1:position + 1 + taken]]
        position += 1 + taken
    return spelled


class FileName(click.ParamType):
    """A file name ('-': standard input), completed by the shell as a file. The commands report
    a file they cannot read or write themselves; click.Path would look up a translation of its
    own name at every start (see Lean)."""

    name = "file"

    def convert(self, value, param, ctx):
        return os.fsdecode(value) if isinstance(value, bytes) else str(value)

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [CompletionItem(incomplete, type="file")]


class Command(Lean, click.Command):
    pass


class Group(Lean, click.Group):
    command_class = Command


def load_kb(extra=()):
    from rlscheck.knowledge import store as kb

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
