"""Parquet input: a file, a folder (every .parquet file under it) or a glob, read through DuckDB
one block of rows at a time, so memory stays flat however many rows there are.

Columns are the batch record fields (`meds`, `conditions`, `substances`, `withdrawal`, `risks`
as lists of text or one text, `labs` as a map, struct, JSON text or list of 'name=value',
`trimester`, `fhir`) and the id (`id`, else `person_id`). Rows are read in file order; results
carry the id and no line number.
"""

from __future__ import annotations

import glob
import os

from rlscheck.errors import UsageError
from rlscheck.inputs import duckdb_module
from rlscheck.inputs.rows import id_column_of, record_of, unused_columns
from rlscheck.textsafe import safe

FETCH = 2048  # rows per fetch from DuckDB


def pattern_of(source):
    """What read_parquet is given: a folder becomes every .parquet file under it."""
    if os.path.isdir(source):
        return os.path.join(source, "**", "*.parquet")
    return source


def is_parquet(source):
    lowered = source.lower()
    return (lowered.endswith((".parquet", ".pq")) or os.path.isdir(source)
            and bool(glob.glob(os.path.join(source, "**", "*.parquet"), recursive=True)))


class ParquetInput:
    """Opened before any output is touched, so a missing file or a bad column fails first."""

    def __init__(self, source, id_column=None):
        duckdb = duckdb_module()
        self.source = source
        pattern = pattern_of(source)
        if not glob.has_magic(pattern) and not os.path.exists(pattern):
            raise UsageError(f"cannot read '{safe(source)}': no such file or folder")
        if glob.has_magic(pattern) and not glob.glob(pattern, recursive=True):
            raise UsageError(f"no Parquet files match '{safe(source)}'")
        # one thread: rows are taken one block at a time, and more threads would only wait
        self.connection = duckdb.connect(config={"threads": 1})
        self.connection.execute("SET enable_progress_bar = false")
        try:
            scan = self.connection.execute("DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)", [pattern])
            columns = [row[0] for row in scan.fetchall()]
            self.rows = self.connection.execute(
                "SELECT count(*) FROM read_parquet(?, union_by_name = true)", [pattern]).fetchone()[0]
        except duckdb.Error as error:
            raise UsageError(f"cannot read Parquet '{safe(source)}': {safe(str(error).splitlines()[0])}") from None
        try:
            self.id_column = id_column_of(columns, id_column)
        except KeyError:
            raise UsageError(f"'{safe(source)}' has no column '{safe(id_column)}'") from None
        self.unused = unused_columns(columns, self.id_column)
        self.columns = [name for name in columns if name not in self.unused]
        self.pattern = pattern

    def records(self):
        """Batch Records, one per row, in order."""
        duckdb = duckdb_module()
        select = ", ".join('"' + name.replace('"', '""') + '"' for name in self.columns) or "NULL AS nothing"
        try:
            result = self.connection.execute(
                f"SELECT {select} FROM read_parquet(?, union_by_name = true)", [self.pattern])
            names = [column[0] for column in result.description]
            while True:
                rows = result.fetchmany(FETCH)
                if not rows:
                    break
                for row in rows:
                    yield record_of(dict(zip(names, row)), self.id_column)
        except duckdb.Error as error:
            raise UsageError(f"cannot read Parquet '{safe(self.source)}': {safe(str(error).splitlines()[0])}") from None
        finally:
            self.connection.close()
