"""`rlscheck batch`: many people, one result line each."""

import itertools
import os
import stat
import sys

import click

from rlscheck.commands.options import CONTEXT, Command, FileName, kb_option, load_kb

PARALLEL_FROM = 1 << 20  # bytes of input; smaller inputs finish before workers would start


@click.command(cls=Command, context_settings=CONTEXT)
@click.argument("source", type=FileName())
@click.option("-o", "--output", type=FileName(),
              help="Write results here instead of stdout (replaced only when the run succeeds).")
@click.option("--input-format", type=click.Choice(["jsonl", "csv"], case_sensitive=False),
              help="Input format; default from the file name (.csv), else jsonl.")
@click.option("--jobs", "-j", type=click.IntRange(0, 64), default=0,
              help="Worker processes; 1 works in this process. Default on Linux: one per CPU, up to "
                   "4, for inputs over 1 MB or piped in.")
@kb_option
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
def batch(source, output, input_format, jobs, kb_files, quiet):
    """Screen many people: one JSON line out for every non-empty line in.

    \b
    JSONL input, one person a line, every field optional:
      {"id": "p1", "meds": ["Zoloft"], "conditions": ["ESRD"], "labs": {"ferritin": 40}}
    CSV: columns id, meds, conditions, substances, withdrawal, risks, labs; several values
    in a cell are separated by ';' (labs: ferritin=40;tsat=15%).

    Results are in input order whatever the number of jobs.

    \b
    Examples:
      rlscheck batch patients.jsonl -o results.jsonl
      rlscheck batch patients.csv | jq -c 'select(.findings | length > 0) | .id'

    Exit codes: 0 all records read, 4 some records could not be read (each is an error line),
    2 unreadable input or input and output the same file, 5 the results could not be written
    (with -o the file is replaced only when the run succeeds), 130/143 interrupted.
    """
    from rlscheck import batch as batching
    from rlscheck.errors import OutputError, UsageError
    from rlscheck.textsafe import safe

    kb = load_kb(kb_files)
    fmt = (input_format or ("csv" if source.lower().endswith(".csv") else "jsonl")).lower()
    try:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb")
    except OSError as error:
        raise UsageError(f"cannot read '{safe(source)}': {error.strerror or error}") from None
    from rlscheck import pipeline

    with stream:
        if output is not None and pipeline.same_file(stream, path=output) or \
                output is None and pipeline.same_file(stream, fd=_stdout_fd()):
            raise UsageError(f"input and output are the same file ('{safe(output or source)}'); "
                             "write the results elsewhere")
        records = None  # JSONL lines are read by the pipeline, in blocks
        if fmt == "csv":
            records = batching.read_csv(pipeline.lines(stream))
            first = next(records, None)  # a header problem fails here, before any output is touched
            records = itertools.chain([first] if first else [], records)
        size = _size(stream)
        show_progress = not quiet and sys.stderr.isatty()

        def progress(count):
            """A bar when the input's size is known (a file), a count otherwise (a pipe)."""
            bar = ""
            if size:
                done = min(stream.tell() / size, 1.0)
                bar = f"[{'#' * int(done * 30):<30}] {done:4.0%} "
            sys.stderr.write(f"\rrlscheck batch: {bar}{count:,} records")
            sys.stderr.flush()

        with pipeline.stopped_by_sigterm():
            try:
                out = pipeline.Output(output)
            except OSError as error:
                raise UsageError(f"cannot write '{safe(output)}': {error.strerror or error}") from None
            try:
                blocks = pipeline.record_blocks(records) if fmt == "csv" else pipeline.jsonl_blocks(stream)
                total, found, errors = pipeline.run(kb, blocks, out.file, _workers(jobs, size),
                                                    progress if show_progress else None)
                out.commit()
            except BrokenPipeError:
                out.discard()
                raise
            except OSError as error:
                out.discard()
                raise OutputError(f"'{safe(out.name)}'" if output else "stdout", error) from None
            except BaseException:
                out.discard()
                raise
    if show_progress:
        sys.stderr.write("\r" + " " * 79 + "\r")
    click.echo(f"rlscheck batch: {total} records, {found} with findings, {errors} errors", err=True)
    return 4 if errors else 0


def _size(stream):
    """The input's size in bytes when it is a regular file, else None (a pipe or terminal)."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _workers(requested, size):
    """How many processes to screen with; by default small inputs stay in this one."""
    from rlscheck import pipeline

    if requested == 1 or (not requested and size is not None and size < PARALLEL_FROM):
        return 1
    # Workers are forked; by default only on Linux, where forking a Python process is safe.
    if not pipeline.can_fork() or (not requested and not sys.platform.startswith("linux")):
        return 1
    return requested or pipeline.default_jobs()


def _stdout_fd():
    try:
        return sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return None
