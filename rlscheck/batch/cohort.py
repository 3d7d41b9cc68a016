"""Cohort inputs and outputs of a batch run: Parquet and OMOP CDM in (through DuckDB), the narrow
findings table (CSV or Parquet) out. Records and results go through the same batch pipeline
(`pipeline.run`) as JSONL, so a person gives the same result whatever the input format.

A findings table written as Parquet is written whole: its rows go to a temporary file beside
the output, which DuckDB turns into a Parquet file that replaces the output only once the run
has finished; a failed run leaves any earlier file as it was.
"""

from __future__ import annotations

import os
import stat
import tempfile

from rlscheck.errors import UsageError
from rlscheck.textsafe import safe

FORMATS = ("parquet", "omop")
FINDINGS = ("findings-csv", "findings-parquet")


def open_records(source, fmt, kb, index_date=None, omop_schema=None):
    """(records, number of records, unused columns) of Parquet or OMOP input; fails with
    UsageError before any output is touched."""
    if fmt == "parquet":
        from rlscheck.inputs.parquet import ParquetInput

        reader = ParquetInput(source)
        return reader.records(), reader.rows, reader.unused
    from rlscheck.inputs.omop import OmopInput

    reader = OmopInput(source, kb, index_date, omop_schema)
    return reader.records(), reader.people, []


def default_output_format(fmt, output):
    """Cohort input gives the findings table unless the output's name asks for documents:
    Parquet for .parquet, documents for .jsonl, else CSV. Other input gives documents."""
    if fmt not in FORMATS:
        return "jsonl"
    name = (output or "").lower()
    if name.endswith((".parquet", ".pq")):
        return "findings-parquet"
    return "jsonl" if name.endswith((".jsonl", ".ndjson", ".json")) else "findings-csv"


def writer(kb, output_format):
    """(screener, header bytes) for an output format; screener None: the batch screener."""
    if output_format in FINDINGS:
        from rlscheck.render import findings_table

        if output_format == "findings-csv":
            return findings_table.Screener(kb, findings_table.csv_bytes), findings_table.csv_header()
        return findings_table.Screener(kb, findings_table.jsonl_bytes), b""
    if output_format == "csv":
        from rlscheck.render import csvout

        return None, csvout.header()
    return None, b""


class FindingsParquet:
    """Where the findings table goes as Parquet, used as `pipeline.Output` is: the table's rows
    are written (as JSON lines, `file`) beside the output, and `commit` has DuckDB turn them
    into the Parquet file that takes the output's place. A failure leaves the earlier file."""

    def __init__(self, path):
        self.name = path
        self._final = os.path.realpath(path)  # through a symbolic link: replace its target, keep the link
        if os.path.exists(self._final) and not os.path.isfile(self._final):  # a device or a pipe: never replaced
            raise UsageError(f"--output-format findings-parquet writes a file; '{safe(path)}' is not one")
        try:
            handle, self._rows = tempfile.mkstemp(dir=os.path.dirname(self._final),
                                                  prefix=f".{os.path.basename(self._final)}.", suffix=".rows.jsonl")
        except OSError as error:
            raise UsageError(f"cannot write '{safe(path)}': {error.strerror or error}") from None
        self._table = self._rows[:-len(".rows.jsonl")] + ".tmp"
        self.file = os.fdopen(handle, "wb")

    def commit(self):
        from rlscheck.errors import OutputError
        from rlscheck.inputs import duckdb_module
        from rlscheck.render import findings_table

        self.file.close()
        duckdb = duckdb_module()
        connection = duckdb.connect()
        connection.execute("SET enable_progress_bar = false")
        try:
            findings_table.write_parquet(connection, self._rows, self._table)
        except duckdb.Error as error:
            raise OutputError(f"'{safe(self.name)}'", OSError(safe(str(error).splitlines()[0]))) from None
        finally:
            connection.close()
        try:
            mode = stat.S_IMODE(os.stat(self._final).st_mode)
        except OSError:
            mode = None
        if mode is not None:
            os.chmod(self._table, mode)
        os.replace(self._table, self._final)
        _remove(self._rows)

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        """As pipeline.Output: on any failure the temporary files go; a write error becomes
        OutputError (exit 5), naming the output."""
        if kind is None:
            return False
        self.discard()
        if issubclass(kind, OSError) and not issubclass(kind, BrokenPipeError):
            from rlscheck.errors import OutputError

            raise OutputError(f"'{safe(self.name)}'", error) from None
        return False

    def discard(self):
        try:
            self.file.close()
        except OSError:
            pass
        _remove(self._rows)
        _remove(self._table)


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass
