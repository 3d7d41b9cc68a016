"""Command-line entry point. Imports click alone; each command's module is imported only when
that command runs, so `--help`, completion and every command start fast."""

import importlib
import os
import sys

import click

from rlscheck import __version__
from rlscheck.commands.options import CONTEXT, Group

# name -> (module, attribute, one-line help shown by `rlscheck --help`)
COMMANDS = {
    "assess": ("rlscheck.commands.assess", "assess", "Check one person's medications, conditions, habits and labs."),
    "meds": ("rlscheck.commands.listing", "meds", "List medications linked to RLS, with classes and brand names."),
    "conditions": ("rlscheck.commands.listing", "conditions",
                   "List conditions, substances and risk factors linked to RLS."),
    "show": ("rlscheck.commands.listing", "show",
             "Show what the knowledge base knows about a drug, brand, class, condition, substance or lab."),
    "batch": ("rlscheck.commands.batch", "batch", "Screen many people: one result for every person in."),
    "kb": ("rlscheck.commands.kbtools", "kb", "Knowledge-base tools."),
    "vocab": ("rlscheck.commands.vocab", "vocab", "Drug vocabularies: index your own RxNorm release for FHIR input."),
    "cache": ("rlscheck.commands.cachetools", "cache", "Build the cache store's indexes now (otherwise built on first use)."),
    "serve": ("rlscheck.commands.serve", "serve", "Run the CDS Hooks 2.0 service, the JSON API and the page for people."),
    "completion": ("rlscheck.commands.completion", "completion", "Print the shell completion script for SHELL."),
}


class ReaderGone(Exception):
    """stdout was closed by its reader (`| head`); click would turn the BrokenPipeError into
    exit status 1, so it travels under this name instead."""


class Cli(Group):
    """The root group: loads commands lazily, and turns every failure into one message on
    stderr with the contract's exit code."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        spec = COMMANDS.get(name)
        return getattr(importlib.import_module(spec[0]), spec[1]) if spec else None

    def make_context(self, info_name, args, parent=None, **extra):
        from rlscheck.render.console import terminal_width  # the width Rich reports use too

        extra.setdefault("terminal_width", terminal_width())
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ReaderGone from None

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, spec[2]) for name, spec in COMMANDS.items()])

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        def run():
            return super(Cli, self).main(args, prog_name or "rlscheck", complete_var, standalone_mode=False, **extra)

        if not standalone_mode:
            return run()
        if sys.stdout is None or sys.stderr is None or sys.stdin is None:
            _hold_closed_streams()
        sys.exit(_exit_code(run))


@click.group(cls=Cli, context_settings=CONTEXT)
@click.version_option(__version__, "--version", "-V", prog_name="rlscheck", message="%(prog)s %(version)s")
def cli():
    """Check medications, conditions, habits and lab results for known secondary causes of
    restless legs syndrome (RLS), with the evidence and sources behind each.

    \b
    Examples:
      rlscheck assess --med paroxetine --condition pregnancy
      rlscheck assess -m Zoloft -m Benadryl --lab ferritin=40 --format json
      rlscheck meds --class antidepressant
      rlscheck show Benadryl

    rlscheck informs; it does not diagnose. Never stop a medicine without asking your
    doctor or pharmacist.
    """


def main():
    """The installed program: its process ends with the command (see `whole_process`)."""
    cli.main(obj={"whole_process": True})


def _exit_code(run):
    try:
        code = run()
        sys.stdout.flush()  # what is still buffered is written now, where a failure is reported
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = 130
    except click.ClickException as error:
        _show_click_error(error)
        code = error.exit_code
    except KeyboardInterrupt:
        code = 130
    except (ReaderGone, BrokenPipeError):
        # The reader went away (e.g. `| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except OSError as error:
        code = _report_failure(_write_error(error))
    except Exception as error:
        code = _report_failure(error)
    return code if isinstance(code, int) else 0


_WRITE_ERRNOS = ("ENOSPC", "EDQUOT", "EFBIG")  # errors only writing gives


def _write_error(error):
    """A full disk while printing to stdout is the output's failure, not a bug."""
    import errno

    if error.filename is None and error.errno in {getattr(errno, name, None) for name in _WRITE_ERRNOS}:
        from rlscheck.errors import OutputError

        return OutputError("stdout", error)
    return error


def _hold_closed_streams():
    """A standard stream closed by the caller (`>&-`, `2>&-`): /dev/null holds its descriptor,
    so no file rlscheck opens takes that number; messages to a closed stderr are dropped,
    and data written to a closed stdout fails with a message (exit 5)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()


class _ClosedStdout:
    """Stands for a stdout the caller closed: writing to it is an error."""

    encoding, errors = "utf-8", "strict"

    def write(self, data):
        import errno

        from rlscheck.errors import OutputError

        raise OutputError("stdout", OSError(errno.EBADF, "stdout is closed"))

    def fileno(self):
        import io

        raise io.UnsupportedOperation("stdout is closed")

    def flush(self):
        pass

    def isatty(self):
        return False

    @property
    def buffer(self):
        return self


def _report_failure(error):
    """rlscheck's own errors with their exit codes; anything else as an internal error, never a
    traceback. (Imported here, not at the top: a run that succeeds never needs them.)"""
    from rlscheck.errors import RlsError
    from rlscheck.textsafe import safe

    if isinstance(error, RlsError):
        if error.exit_code == 3:
            click.echo(f"rlscheck: error: invalid knowledge base ({len(error.issues)} problem(s)):\n{error}", err=True)
        else:
            click.echo(f"rlscheck: error: {safe(error)}", err=True)
        return error.exit_code
    if os.environ.get("RLSCHECK_DEBUG"):
        raise error
    click.echo(f"rlscheck: internal error ({type(error).__name__}): {safe(error)}. "
               "Set RLSCHECK_DEBUG=1 for details.", err=True)
    return 70


def _show_click_error(error):
    from rlscheck.textsafe import safe

    if isinstance(error, getattr(click.exceptions, "NoArgsIsHelpError", ())):  # the help itself (click 8.2+)
        error.show()
        return
    if isinstance(error, click.UsageError) and error.ctx is not None:
        click.echo(error.ctx.get_usage(), err=True)
        click.echo(f"Try '{error.ctx.command_path} -h' for help.", err=True)
    click.echo(f"Error: {safe(error.format_message())}", err=True)
