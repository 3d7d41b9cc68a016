"""`rlscheck batch`: many people, one result line each."""

import contextlib
import io
import itertools
import os
import stat
import sys

import click

from rlscheck.commands.options import CONTEXT, Command, FileName, kb_option, load_kb
from rlscheck.errors import UsageError
from rlscheck.textsafe import safe

PARALLEL_FROM = 1 << 20  # bytes of input; smaller inputs finish before workers would start
PARALLEL_FROM_RECORDS = 5_000  # records, where their number is known (Parquet, OMOP)


@click.command(cls=Command, context_settings=CONTEXT)
@click.argument("sources", nargs=-1, type=FileName(folders=True), metavar="SOURCE...")
@click.option("-o", "--output", type=FileName(),
              help="Write results here instead of stdout (replaced only when the run succeeds).")
@click.option("--input-format", type=click.Choice(["jsonl", "csv", "ndjson", "parquet", "omop"], case_sensitive=False),
              help="jsonl (people, or FHIR Bundles one a line), csv, ndjson (a FHIR Bulk Data export), parquet "
                   "(a file, folder or glob) or omop; default from the names and the first line.")
@click.option("--output-format", type=click.Choice(["jsonl", "csv", "findings-csv", "findings-parquet"],
                                                   case_sensitive=False),
              help="jsonl: one document a person (the default for JSONL, CSV and FHIR input); csv: one row per "
                   "person and finding; findings-csv, findings-parquet: the narrow findings table (the default "
                   "for Parquet and OMOP input, chosen by the -o name: .parquet, .jsonl, else CSV).")
@click.option("--omop", "omop_source", type=FileName(folders=True), metavar="DB_OR_FOLDER",
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
def batch(sources, output, input_format, output_format, omop_source, omop_schema, index_date, jobs, kb_files,
          quiet):
    """Screen many people: one result for every person in.

    \b
    JSONL input, one person a line, every field optional:
      {"id": "p1", "meds": ["Zoloft"], "conditions": ["ESRD"],
       "labs": {"ferritin": 40}}
    A line may instead be a FHIR Bundle (one person's record).

    CSV: columns id, meds, conditions, substances, withdrawal, risks, labs (any case;
    other columns are ignored); ',' ';' or tab delimited; several values in a cell are
    separated by ';' (labs: ferritin=40;tsat=15%), or by ',' in a ';'-delimited file.

    FHIR Bulk Data export: a folder of NDJSON files (.ndjson or .ndjson.gz), several
    such files, or the export's manifest JSON, one resource a line; resources are
    grouped by patient into one result each.

    Parquet (a file, folder or glob; columns named as the JSONL fields) and OMOP CDM
    v5.4 (--omop) are read through DuckDB (pip install 'rlscheck[parquet]'); results
    are keyed by id. The findings table (findings-csv, findings-parquet) has one row
    per person, finding and matched input instead of whole documents.

    Results are in input order whatever the number of jobs.

    \b
    Examples:
      rlscheck batch patients.jsonl -o results.jsonl
      rlscheck batch patients.csv | jq -c 'select(.findings | length > 0) | .id'
      rlscheck batch export/ --output-format csv -o screening.csv
      rlscheck batch lake/cohort/ -o findings.parquet
      rlscheck batch --omop cdm.duckdb --index-date 2024-06-30 -o findings.csv

    Exit codes: 0 all records read, 4 some records could not be read (each is an error line),
    2 unreadable input or input and output the same file, 5 the results could not be written
    (with -o the file is replaced only when the run succeeds), 130/143 interrupted.
    """
    from rlscheck.batch import cohort, pipeline
    from rlscheck.inputs import batchfiles as readers

    kb = load_kb(kb_files)
    fmt = input_format  # click's Choice gives the option's own spelling: lower case
    if (index_date or omop_schema) and not (omop_source or fmt == "omop"):
        raise UsageError("--index-date and --omop-schema apply to OMOP input (--omop DB_OR_FOLDER)")
    if omop_source:
        if sources:
            raise UsageError("give the OMOP CDM either as SOURCE or with --omop, not both")
        sources, fmt = (omop_source,), "omop"
    if not sources:
        raise UsageError("give a file to read ('-' for stdin), or --omop DB_OR_FOLDER")
    source = sources[0]
    if fmt is None and len(sources) == 1:
        from rlscheck.inputs.parquet import is_parquet

        fmt = "parquet" if is_parquet(source) else None
    if output_format == "findings-parquet" and not output:
        raise UsageError("--output-format findings-parquet needs an output file: -o FILE.parquet")

    def warn(text):
        click.echo(f"rlscheck batch: {text}", err=True)

    stream = bulk_paths = records = count = None
    if fmt in cohort.FORMATS:
        if len(sources) > 1:
            raise UsageError("Parquet and OMOP input: give one file, folder or glob")
        if _same_as_source(source, output):
            raise UsageError(f"input and output are the same file ('{safe(output or source)}'); "
                             "write the results elsewhere")
        records, count, unused = cohort.open_records(source, fmt, kb, index_date and index_date.date(), omop_schema)
        if unused:
            warn("columns not read (not record fields): " + ", ".join(f"'{safe(column)}'" for column in unused))
    else:
        bulk_paths = _bulk_paths(sources, input_format, warn)
        if bulk_paths is None and len(sources) > 1:
            raise UsageError("several inputs are read only as a FHIR Bulk Data export (.ndjson files); "
                             "give one JSONL or CSV file")
        try:
            stream = sys.stdin.buffer if source == "-" else open(source, "rb") if bulk_paths is None else None
        except OSError as error:
            raise UsageError(f"cannot read '{safe(source)}': {error.strerror or error}") from None
        if stream is not None and not hasattr(stream, "peek"):  # e.g. an in-memory stdin: peekable once wrapped
            stream = io.BufferedReader(stream)
        fmt = "ndjson" if bulk_paths is not None else fmt or _sniff(source, stream)
        if fmt == "ndjson" and bulk_paths is None:  # an export piped in, or named without .ndjson
            bulk_paths = [source]
        if fmt == "ndjson" and output_format in cohort.FINDINGS:
            raise UsageError("the findings table is written for JSONL, CSV, Parquet and OMOP input; for a FHIR "
                             "Bulk Data export use --output-format jsonl or csv")
    output_format = output_format or cohort.default_output_format(fmt, output)
    with stream if stream is not None else contextlib.nullcontext():
        if _writes_over_input(stream, bulk_paths, output):
            raise UsageError(f"input and output are the same file ('{safe(output or source)}'); "
                             "write the results elsewhere")
        if fmt == "csv":
            records = readers.read_csv(pipeline.lines(stream), warn)
        elif fmt == "ndjson":
            from rlscheck.inputs import bulk

            records = bulk.patient_records(_bulk_sources(bulk_paths, stream), warn)
        if records is not None and fmt not in cohort.FORMATS:
            first = next(records, None)  # a header problem fails here, before any output is touched
            records = itertools.chain([first] if first else [], records)
        size = _size(stream) if stream is not None else None
        show_progress = not quiet and sys.stderr.isatty()

        def progress(done):
            """A bar when the input's size is known (a file, or a count of rows), a count otherwise (a pipe)."""
            bar = ""
            if size or count:
                part = min(stream.tell() / size if size else done / count, 1.0)
                bar = f"[{'#' * int(part * 30):<30}] {part:4.0%} "
            sys.stderr.write(f"\rrlscheck batch: {bar}{done:,} records")
            sys.stderr.flush()

        screener, header = cohort.writer(kb, output_format)
        with pipeline.stopped_by_sigterm():
            try:
                out = cohort.FindingsParquet(output) if output_format == "findings-parquet" else \
                    pipeline.Output(output)
            except OSError as error:
                raise UsageError(f"cannot write '{safe(output)}': {error.strerror or error}") from None
            with out:
                out.file.write(header)
                blocks = pipeline.jsonl_blocks(stream) if records is None else pipeline.record_blocks(records)
                total, found, errors = pipeline.run(kb, blocks, out.file,
                                                    _workers(jobs, size if fmt != "ndjson" else None, count),
                                                    progress if show_progress else None, output_format,
                                                    screener=screener)
                out.commit()
                if (click.get_current_context().find_root().obj or {}).get("whole_process"):
                    pipeline.finished()  # not when called within another program, e.g. a test runner
    if show_progress:
        sys.stderr.write("\r" + " " * 79 + "\r")
    click.echo(f"rlscheck batch: {total} record{'s' if total != 1 else ''}, {found} with findings, {errors} "
               f"error{'s' if errors != 1 else ''}", err=True)
    click.echo(f"rlscheck batch: {kb.disclaimer}", err=True)  # result lines leave it out (one per person)
    return 4 if errors else 0


def _writes_over_input(stream, bulk_paths, output):
    """Whether the results would be written over the input (compared by device and inode, so
    links count too): the file read, or any file of a Bulk Data export."""
    if stream is not None:
        return _is_output(stream, output)
    for path in bulk_paths or ():
        try:
            with open(path, "rb") as handle:
                if _is_output(handle, output):
                    return True
        except OSError:
            continue
    return False


def _is_output(handle, output):
    """Whether the open file is the output file (stdout when there is none)."""
    from rlscheck.batch import pipeline

    if output is not None:
        return pipeline.same_file(handle, path=output)
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        fd = None
    return pipeline.same_file(handle, fd=fd)


def _bulk_paths(sources, input_format, warn=None):
    """The NDJSON files of a Bulk Data export (a folder, files, or its $export manifest), or
    None when the input is not one."""
    from rlscheck.inputs import bulk

    if len(sources) == 1 and os.path.isdir(sources[0]):
        paths = bulk.export_files(sources[0], warn)
        if not paths:
            raise UsageError(f"folder '{safe(sources[0])}' holds no .ndjson files (a FHIR Bulk Data export)")
        return paths
    if len(sources) == 1 and sources[0].lower().endswith(".json") and not input_format and os.path.isfile(sources[0]):
        listed = bulk.manifest_export(sources[0], warn)
        if listed is not None:
            return listed
    if input_format == "ndjson" and "-" not in sources:
        return list(sources)
    if input_format in ("jsonl", "csv"):
        return None  # several such files are refused by the caller
    ndjson = (".ndjson", ".ndjson.gz")
    several = len(sources) > 1 and any(source.lower().endswith(ndjson) for source in sources)
    if several or (sources[0].lower().endswith(ndjson) and not input_format):
        if "-" in sources:
            raise UsageError("'-' (stdin) cannot be one of several inputs")
        return bulk.patients_first(list(sources))
    return None


def _bulk_sources(paths, stream):
    """(label, binary lines) for each export file, each opened only when its turn comes."""
    if paths == ["-"]:
        yield "stdin", stream
        return
    for path in paths:
        try:
            handle = open(path, "rb")
            if handle.peek(2)[:2] == b"\x1f\x8b":  # gzip'd NDJSON (.ndjson.gz)
                import gzip

                handle = gzip.GzipFile(fileobj=handle, mode="rb")
        except OSError as error:
            raise UsageError(f"cannot read '{safe(path)}': {error.strerror or error}") from None
        with handle:
            yield path, _lines_of(path, handle)


def _lines_of(path, handle):
    """The file's lines; UsageError naming the file when it cannot be read to its end (a gzip
    file cut short by an interrupted download, a damaged disk)."""
    import zlib

    try:
        yield from handle
    except (OSError, EOFError, zlib.error) as error:
        reason = "the gzip file is damaged or cut short" if isinstance(error, (EOFError, zlib.error)) or \
            "gzip" in type(error).__name__.lower() else error.strerror or str(error)
        raise UsageError(f"cannot read '{safe(path)}' to its end: {safe(reason)}") from None


def _sniff(source, stream):
    """jsonl, csv or ndjson from the name, else from the first line: JSON people or Bundles are
    jsonl, single FHIR resources are a Bulk Data export, a header naming batch columns is CSV,
    anything else is read as JSON lines (each bad line an error line)."""
    if source.lower().endswith((".csv", ".tsv")):
        return "csv"
    try:
        head = stream.peek(65536)[:65536]
    except (AttributeError, OSError, ValueError):
        return "jsonl"
    first, *following = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)
    if source.lower().endswith(".jsonl"):  # people, Bundles, or an export's resources named .jsonl
        kind = _resource_type(first)
        return "ndjson" if isinstance(kind, str) and kind != "Bundle" else "jsonl"
    if b"\n" not in head and len(head) >= 65536 or b"\0" in first:
        return "jsonl"  # not text a person exported: read as JSON lines, each bad one an error line
    opening = first.rstrip()
    if following and (opening == b"{" and following[0].lstrip()[:1] == b'"' or opening == b"[" and following[0].strip()):
        # one indented JSON document (its next line a member or an element), not a record a line
        raise UsageError(f"'{safe(source)}' holds one indented JSON document, not one record a line; for one "
                         "person's FHIR Bundle use `rlscheck assess --fhir`, for many give one Bundle a line "
                         "(e.g. `jq -c . FILE`) or a Bulk Data export")
    if not first or first[:1] == b"{":
        return "jsonl" if _resource_type(first) in ("Bundle", None) else "ndjson"  # None: a record with a "fhir" field
    return "csv" if _csv_header(first) else "jsonl"


def _resource_type(line):
    """The resourceType a JSON line names; None when it names none or is not a JSON object."""
    if b'"resourceType"' not in line:
        return None
    import orjson

    try:
        return orjson.loads(line).get("resourceType")
    except (ValueError, AttributeError):
        return None


def _csv_header(line):
    """Whether a first line names at least one batch column (id, meds, ...), as a CSV header does."""
    from rlscheck.inputs.batchfiles import FIELD_SET, sniff_delimiter

    text = line.decode("utf-8", "replace").strip().lstrip("\ufeff")
    return any(cell.strip().strip('"').lower() in FIELD_SET for cell in text.split(sniff_delimiter(text)))


def _same_as_source(source, output):
    """Whether the results would be written over the input file (by device and inode)."""
    if source == "-" or not os.path.isfile(source):
        return False
    with open(source, "rb") as stream:
        return _is_output(stream, output)


def _size(stream):
    """The input's size in bytes when it is a regular file, else None (a pipe or terminal)."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _workers(requested, size, count=None):
    """How many processes to screen with; by default small inputs (`size` bytes or `count`
    records, when known) stay in this one."""
    from rlscheck.batch import pipeline

    small = size is not None and size < PARALLEL_FROM or count is not None and count < PARALLEL_FROM_RECORDS
    if requested == 1 or (not requested and small):
        return 1
    # Workers are forked; by default only on Linux, where forking a Python process is safe.
    if not pipeline.can_fork() or (not requested and not sys.platform.startswith("linux")):
        return 1
    return requested or pipeline.default_jobs()

