"""Batch runs over cohort inputs and outputs: Parquet and OMOP CDM in (through DuckDB), the
narrow findings table (CSV or Parquet) out. Records go through the same pipeline as JSONL, so a
person gives the same result whatever the input format.

An output file is written whole: results go to a temporary file beside it, which replaces it
only once the run has finished; a failed run leaves any earlier file as it was.
"""

from __future__ import annotations

import itertools
import os
import stat
import sys
import tempfile

from rlscheck.inputs import records as readers
from rlscheck.batch import pipeline
from rlscheck.errors import UsageError
from rlscheck.textsafe import safe

SMALL = 5_000  # records: fewer finish before worker processes would start


def open_input(source, fmt, kb, index_date=None, omop_schema=None, id_column=None, warn=None):
    """(record blocks, number of records or None, unused columns) for a format; fails with
    UsageError before any output is touched."""
    if fmt == "parquet":
        from rlscheck.inputs.parquet import ParquetInput

        reader = ParquetInput(source, id_column)
        return pipeline.record_blocks(reader.records()), reader.rows, reader.unused
    if fmt == "omop":
        from rlscheck.inputs.omop import OmopInput

        reader = OmopInput(source, kb, index_date, omop_schema)
        return pipeline.record_blocks(reader.records()), reader.people, []
    stream = sys.stdin.buffer if source == "-" else _open(source)
    if fmt == "csv":
        records = readers.read_csv(pipeline.lines(stream), warn)
        first = next(records, None)  # a header problem fails here
        return pipeline.record_blocks(itertools.chain([first] if first else [], records)), None, []
    return pipeline.jsonl_blocks(stream), None, []


def _open(source):
    try:
        return open(source, "rb")
    except OSError as error:
        raise UsageError(f"cannot read '{safe(source)}': {error.strerror or error}") from None


def run(kb, blocks, output, output_format, jobs, progress=None):
    """Screen `blocks` into `output` (a path, or None for stdout) as JSONL documents, csv
    rows, findings-csv or findings-parquet; returns (records, with findings, errors).
    A failed write raises OutputError."""
    from rlscheck.render import findings_table

    if output_format == "findings-parquet" and not output:
        raise UsageError("--output-format findings-parquet needs an output file: -o FILE.parquet")
    screener = None
    header = b""
    if output_format == "findings-csv":
        screener = findings_table.Screener(kb, findings_table.csv_bytes)
        header = findings_table.csv_header()
    elif output_format == "findings-parquet":
        screener = findings_table.Screener(kb, findings_table.jsonl_bytes)
        return _run_parquet(kb, blocks, output, jobs, progress, screener)
    elif output_format == "csv":
        from rlscheck.render import csvout

        header = csvout.header()
    try:
        out = pipeline.Output(output)  # a regular file is replaced only once the run has finished
    except OSError as error:
        raise UsageError(f"cannot write '{safe(output)}': {error.strerror or error}") from None
    with out:
        out.file.write(header)
        counts = pipeline.run(kb, blocks, out.file, jobs, progress, output_format, screener=screener)
        out.commit()
    return counts


def _run_parquet(kb, blocks, output, jobs, progress, screener):
    """The findings table's rows go to a JSONL file beside the output, which DuckDB turns into
    the Parquet file; a run that fails leaves any earlier output as it was."""
    from rlscheck.errors import OutputError
    from rlscheck.render import findings_table

    try:
        status = os.stat(output)
    except OSError:
        status = None
    if status is not None and not stat.S_ISREG(status.st_mode):  # a device or a pipe: never replaced
        raise UsageError(f"--output-format findings-parquet writes a file; '{safe(output)}' is not one")
    with _Replacing(output) as target:
        rows_path = target.sibling(".rows.jsonl")
        try:
            with open(rows_path, "wb") as out:
                counts = pipeline.run(kb, blocks, out, jobs, progress, screener=screener)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(f"'{safe(output)}'", error) from None
        from rlscheck.inputs import duckdb_module

        duckdb = duckdb_module()
        connection = duckdb.connect()
        connection.execute("SET enable_progress_bar = false")
        try:
            findings_table.write_parquet(connection, rows_path, target.path)
        except duckdb.Error as error:
            raise OutputError(f"'{safe(output)}'", OSError(safe(str(error).splitlines()[0]))) from None
        finally:
            connection.close()
        return counts


class _Replacing:
    """A temporary file beside `path` that replaces it on success and is removed on failure,
    with any sibling temporary files."""

    def __init__(self, path):
        self.final = os.path.realpath(path)  # through a symbolic link: replace its target, keep the link
        self.others = []
        if os.path.exists(self.final) and not os.path.isfile(self.final):
            # a device such as /dev/null or a pipe is written directly: replacing it would put a
            # regular file in its place
            self.path, self.direct = path, True
            return
        self.direct = False
        try:
            handle, self.path = tempfile.mkstemp(dir=os.path.dirname(self.final),
                                                 prefix=f".{os.path.basename(self.final)}.", suffix=".tmp")
        except OSError as error:
            raise UsageError(f"cannot write '{safe(path)}': {error.strerror or error}") from None
        os.close(handle)
        os.unlink(self.path)  # created again by the writer

    def sibling(self, suffix):
        if self.direct:  # not beside a device: in the temporary folder
            handle, other = tempfile.mkstemp(suffix=suffix)
            os.close(handle)
            self.others.append(other)
        else:
            self.others.append(self.path + suffix)
        return self.others[-1]

    def __enter__(self):
        return self

    def __exit__(self, kind, value, trace):
        for other in self.others:
            _remove(other)
        if self.direct:
            return False
        if kind is None:
            try:
                os.replace(self.path, self.final)
            except OSError as error:
                _remove(self.path)
                raise UsageError(f"cannot write '{safe(self.final)}': {error.strerror or error}") from None
        else:
            _remove(self.path)
        return False


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass

