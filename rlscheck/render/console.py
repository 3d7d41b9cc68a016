"""Rich consoles for data (stdout) and diagnostics (stderr), colour as the user asked."""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING, Any, ContextManager, NoReturn

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

MIN_WIDTH, MAX_WIDTH = 40, 1000  # columns: narrower drops text, wider only pads


def terminal_width(fd: int = 1) -> int:
    """The width to lay text out in, the same for click and Rich: COLUMNS when it is a
    positive number (0 or anything else counts as unset), else the terminal's, else 80;
    never under MIN_WIDTH nor over MAX_WIDTH."""
    value = os.environ.get("COLUMNS", "").strip()
    width = int(value) if value.isdigit() and len(value) < 8 else 0
    if width <= 0:
        try:
            width = os.get_terminal_size(fd).columns
        except (OSError, ValueError):
            width = 0
    return min(max(width or 80, MIN_WIDTH), MAX_WIDTH)


def make_console(color: str = "auto", stderr: bool = False, file: IO[str] | None = None,
                 width: int | None = None) -> Console:
    """A Rich console; color: "auto", "always" or "never" (NO_COLOR and FORCE_COLOR count in auto)."""
    from rich.console import Console

    options: dict[str, Any] = {"stderr": stderr, "highlight": False, "markup": False, "emoji": False, "file": file,
               "width": width or terminal_width(2 if stderr else 1)}
    if color == "always" or (color == "auto" and os.environ.get("FORCE_COLOR") and not os.environ.get("NO_COLOR")):
        options["force_terminal"] = True
    if color == "never" or (color == "auto" and os.environ.get("NO_COLOR")):
        options.update(no_color=True, color_system=None)
    console = Console(**options)
    console.size = console.size  # measured once: Rich would ask the terminal again for every table
    console.on_broken_pipe = _reader_gone  # type: ignore[method-assign]  # this console's only; the CLI stops quietly, as for every other output
    return console


def paged(console: Console, no_pager: bool = False) -> ContextManager[Any]:
    """A context in which the console's output goes through a pager (less, or $PAGER) as git
    does: only on a terminal, never with --no-pager; less quits at once if it fits a screen."""
    import contextlib

    if no_pager or not console.is_terminal or os.environ.get("TERM") == "dumb":
        return contextlib.nullcontext()
    os.environ.setdefault("LESS", "FRX")
    return console.pager(styles=True)


def _reader_gone() -> NoReturn:
    raise BrokenPipeError


def text(value: object, style: str = "") -> Text:
    """User or knowledge-base text as a Rich Text: never parsed as markup, controls escaped."""
    from rich.text import Text

    from rlscheck.textsafe import safe

    return Text(safe(value), style=style)
