"""Rich consoles for data (stdout) and diagnostics (stderr), colour as the user asked."""

import os


def make_console(color="auto", stderr=False, file=None, width=None):
    from rich.console import Console

    options = {"stderr": stderr, "highlight": False, "markup": False, "emoji": False, "file": file,
               "width": width}
    if color == "always" or (color == "auto" and os.environ.get("FORCE_COLOR") and not os.environ.get("NO_COLOR")):
        options["force_terminal"] = True
    if color == "never" or (color == "auto" and os.environ.get("NO_COLOR")):
        options["no_color"] = True
        options["color_system"] = None
    console = Console(**options)
    console.size = console.size  # measured once: Rich would ask the terminal again for every table
    console.on_broken_pipe = _reader_gone  # the CLI stops quietly, as for every other output
    return console


def paged(console, no_pager=False):
    """A context in which the console's output goes through a pager (less, or $PAGER) as git
    does: only on a terminal, never with --no-pager; less quits at once if it fits a screen."""
    import contextlib

    if no_pager or not console.is_terminal or os.environ.get("TERM") == "dumb":
        return contextlib.nullcontext()
    os.environ.setdefault("LESS", "FRX")
    return console.pager(styles=True)


def _reader_gone():
    raise BrokenPipeError


def text(value, style=""):
    """User or knowledge-base text as a Rich Text: never parsed as markup, controls escaped."""
    from rich.text import Text

    from rlscheck.textsafe import safe

    return Text(safe(value), style=style)
