"""`rlscheck batch`: many people, one result line each."""

import itertools
import os
import stat
import sys

import click

from rlscheck.commands.options import CONTEXT, Command, FileName, kb_option, load_kb

PARALLEL_FROM = 1 << 20  # bytes of input; smaller inputs finish before workers would start


@click.command(cls=Command, context_settings=CONTEXT)
@click.argument("source", type=FileName(), required=False)
@click.option("-o", "--output", type=FileName(),
              help="Write results here instead of stdout (opened only once reading has started).")
@click.option("--input-format", type=click.Choice(["jsonl", "csv", "parquet", "omop"], case_sensitive=False),
              help="Input format; default from the name (.csv, .parquet or a folder of Parquet files), "
                   "else jsonl.")
@click.option("--output-format", type=click.Choice(["jsonl", "findings-csv", "findings-parquet"],
                                                   case_sensitive=False),
              help="jsonl: one document a person (the default for JSONL and CSV input); findings-csv, "
                   "findings-parquet: one row per person, finding and matched input (the default for "
                   "Parquet and OMOP input, chosen by the -o name: .parquet, .jsonl, else CSV).")
@click.option("--omop", "omop_source", type=FileName(), metavar="DB_OR_FOLDER",
              help="Read an OMOP CDM v5.4: a DuckDB file, a folder of Parquet or CSV tables, or "
                   "postgres:CONNINFO.")
@click.option("--omop-schema", metavar="SCHEMA", help="The schema holding the CDM tables in a database.")
@click.option("--index-date", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="OMOP: the date at which drugs, conditions and labs are current (default: today).")
@click.option("--jobs", "-j", type=click.IntRange(0, 64), default=0,
              help="Worker processes; 1 works in this process. Default on Linux: one per CPU, up to "
                   "4, for inputs over 1 MB or piped in.")
@kb_option
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
def batch(source, output, input_format, output_format, omop_source, omop_schema, index_date, jobs, kb_files,
          quiet):
    """Screen many people: one JSON line out for every non-empty line in.

    \b
    JSONL input, one person a line, every field optional:
      {"id": "p1", "meds": ["Zoloft"], "conditions": ["ESRD"], "labs": {"ferritin": 40}}
    CSV: columns id, meds, conditions, substances, withdrawal, risks, labs; several values
    in a cell are separated by ';' (labs: ferritin=40;tsat=15%).

    Parquet (a file, a folder or a glob; columns named as the JSONL fields) and OMOP CDM
    v5.4 (--omop) are read through DuckDB (pip install 'rlscheck[parquet]'); their results
    are keyed by id. --output-format findings-csv or findings-parquet writes one row per
    person, finding and matched input instead of whole documents.

    Results are in input order whatever the number of jobs.

    \b
    Examples:
      rlscheck batch patients.jsonl -o results.jsonl
      rlscheck batch patients.csv | jq -c 'select(.findings | length > 0) | .id'
      rlscheck batch lake/cohort/ --output-format findings-parquet -o findings.parquet
      rlscheck batch --omop cdm.duckdb --index-date 2024-06-30 --output-format findings-csv

    Exit codes: 0 all records read, 4 some records could not be read (each is an error line).
    """
    from rlscheck import batch as batching
    from rlscheck.errors import UsageError
    from rlscheck.textsafe import safe

    kb = load_kb(kb_files)
    if (index_date or omop_schema) and not (omop_source or (input_format or "").lower() == "omop"):
        raise UsageError("--index-date and --omop-schema apply to OMOP input (--omop DB_OR_FOLDER)")
    if omop_source or (input_format or "").lower() == "omop" or (output_format or "jsonl").lower() != "jsonl" or (
            source and not input_format and _parquet(source)) or (input_format or "").lower() == "parquet":
        return _cohort(source, output, input_format, output_format and output_format.lower(), omop_source,
                       omop_schema, index_date, jobs, kb, quiet)
    if not source:
        raise UsageError("give a file to read ('-' for stdin), or --omop DB_OR_FOLDER")
    fmt = (input_format or ("csv" if source.lower().endswith(".csv") else "jsonl")).lower()
    try:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb")
    except OSError as error:
        raise UsageError(f"cannot read '{safe(source)}': {error.strerror or error}") from None
    with stream:
        records = None  # JSONL lines are read by the pipeline, in blocks
        if fmt == "csv":
            records = batching.read_csv(stream)
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

        if output:
            try:
                out = open(output, "wb")
            except OSError as error:
                raise UsageError(f"cannot write '{safe(output)}': {error.strerror or error}") from None
        else:
            out = _binary_stdout()
        try:
            from rlscheck import pipeline

            blocks = pipeline.record_blocks(records) if fmt == "csv" else pipeline.jsonl_blocks(stream)
            total, found, errors = pipeline.run(kb, blocks, out, _workers(jobs, size),
                                                progress if show_progress else None)
        finally:
            if out is sys.stdout.buffer:
                out.flush()
            else:
                out.close()  # a file, or our handle on stdout (the descriptor stays open)
    if show_progress:
        sys.stderr.write("\r" + " " * 79 + "\r")
    click.echo(f"rlscheck batch: {total} records, {found} with findings, {errors} errors", err=True)
    return 4 if errors else 0


def _parquet(source):
    from rlscheck.inputs.parquet import is_parquet

    return is_parquet(source)


def _cohort(source, output, input_format, output_format, omop_source, omop_schema, index_date, jobs, kb, quiet):
    """Parquet or OMOP input, or a findings-table output."""
    from rlscheck import cohort
    from rlscheck.errors import UsageError
    from rlscheck.textsafe import safe

    fmt = (input_format or "").lower()
    if omop_source or fmt == "omop":
        if omop_source and source:
            raise UsageError("give the OMOP CDM either as SOURCE or with --omop, not both")
        source, fmt = omop_source or source, "omop"
    if not source:
        raise UsageError("give a file to read ('-' for stdin), or --omop DB_OR_FOLDER")
    if not fmt:
        fmt = "parquet" if _parquet(source) else "csv" if source.lower().endswith(".csv") else "jsonl"
    if output_format is None:  # cohorts: the findings table unless the output's name asks for documents
        name = (output or "").lower()
        output_format = ("findings-parquet" if name.endswith((".parquet", ".pq")) else
                         "jsonl" if name.endswith((".jsonl", ".ndjson", ".json")) or fmt not in ("parquet", "omop")
                         else "findings-csv")
    blocks, count, unused = cohort.open_input(source, fmt, kb, index_date and index_date.date(), omop_schema)
    if unused:
        shown = ", ".join(f"'{safe(column)}'" for column in unused)
        click.echo(f"rlscheck batch: columns not read (not record fields): {shown}", err=True)
    show_progress = not quiet and sys.stderr.isatty()

    def progress(done):
        sys.stderr.write(f"\rrlscheck batch: {done:,} records")
        sys.stderr.flush()

    workers = 1 if count is not None and count < cohort.SMALL and not jobs else _workers(jobs, None)
    total, found, errors = cohort.run(kb, blocks, output, output_format, workers, progress if show_progress else None)
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


def _binary_stdout():
    try:
        return open(sys.stdout.fileno(), "wb", closefd=False)
    except (OSError, ValueError, AttributeError):  # not a real file, e.g. under a test runner
        return sys.stdout.buffer
