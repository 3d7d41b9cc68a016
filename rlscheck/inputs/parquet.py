"""Parquet input: a file, a folder (every .parquet file under it) or a glob, read through DuckDB
one block of rows at a time, so memory stays flat however many rows there are.

Columns are the batch record fields (`meds`, `conditions`, `substances`, `withdrawal`, `risks`
as lists of text or one text, `labs` as a map, struct, JSON text or list of 'name=value',
`trimester`, `fhir`) and the id (`id`, else `person_id`). Rows are read in file order; results
carry the id and no line number.
"""

from __future__ import annotations

import glob
import json
import os

from orjson import loads

from rlscheck.errors import UsageError
from rlscheck.inputs import duckdb_module
from rlscheck.inputs.records import Record
from rlscheck.inputs.rows import id_column_of, record_of, record_shaped, unused_columns
from rlscheck.textsafe import safe

FETCH = 2048  # rows per fetch from DuckDB


def is_parquet(source):
    return (source.lower().endswith((".parquet", ".pq")) or os.path.isdir(source)
            and bool(glob.glob(os.path.join(source, "**", "*.parquet"), recursive=True)))


class ParquetInput:
    """Opened before any output is touched, so a missing file or a bad column fails first."""

    def __init__(self, source, id_column=None):
        duckdb = duckdb_module()
        self.source = source
        # what read_parquet is given: a folder becomes every .parquet file under it
        pattern = os.path.join(source, "**", "*.parquet") if os.path.isdir(source) else source
        if not glob.has_magic(pattern) and not os.path.exists(pattern):
            raise UsageError(f"cannot read '{safe(source)}': no such file or folder")
        if glob.has_magic(pattern) and not glob.glob(pattern, recursive=True):
            raise UsageError(f"no Parquet files match '{safe(source)}'")
        # one thread: rows are taken one block at a time, and more threads would only wait
        self.connection = duckdb.connect(config={"threads": 1})
        self.connection.execute("SET enable_progress_bar = false")
        # the path is written into the SQL, not passed as a parameter: binding a Python value makes
        # some DuckDB versions import pandas and NumPy, which costs more than reading a small file
        self.scan = f"read_parquet('{pattern.replace(chr(39), chr(39) * 2)}', union_by_name = true)"
        try:
            described = self.connection.execute(f"DESCRIBE SELECT * FROM {self.scan}").fetchall()
            columns = [row[0] for row in described]
            self.rows = self.connection.execute(f"SELECT count(*) FROM {self.scan}").fetchone()[0]
        except duckdb.Error as error:
            raise UsageError(f"cannot read Parquet '{safe(source)}': {safe(str(error).splitlines()[0])}") from None
        try:
            self.id_column = id_column_of(columns, id_column)
        except KeyError:
            raise UsageError(f"'{safe(source)}' has no column '{safe(id_column)}'") from None
        self.unused = unused_columns(columns, self.id_column)
        self.columns = [name for name in columns if name not in self.unused]
        self.types = {row[0]: row[1] for row in described}

    def records(self):
        """Batch Records, one per row, in order. DuckDB writes each row as one JSON object (the
        columns that are record fields), read here as a JSON line is; binary columns come apart
        and are read as UTF-8 text."""
        duckdb = duckdb_module()
        binary = [name for name in self.columns if "BLOB" in self.types[name]]
        packed = ", ".join(f"{_quoted(name)} := {_quoted(name)}" for name in self.columns if name not in binary)
        select = ", ".join([f"to_json(struct_pack({packed}))::VARCHAR" if packed else "'{}'",
                            *(_quoted(name) for name in binary)])
        # typed as records already (the usual case): no conversion row by row
        shaped = not binary and record_shaped({name: self.types[name] for name in self.columns}, self.id_column)
        try:
            result = self.connection.execute(f"SELECT {select} FROM {self.scan}")
            for rows in iter(lambda: result.fetchmany(FETCH), []):
                for row in rows:
                    try:
                        data = loads(row[0])
                    except ValueError:  # NaN, Infinity or a whole number past 64 bits
                        try:
                            data = json.loads(row[0], parse_constant=float)
                        except (ValueError, RecursionError) as error:
                            yield Record(None, error=f"cannot read this row: {safe(error)}")
                            continue
                    if shaped:
                        yield Record(None, data, "", data.pop(self.id_column, None))
                        continue
                    data.update(zip(binary, row[1:]))
                    yield record_of(data, self.id_column)
        except duckdb.Error as error:
            raise UsageError(f"cannot read Parquet '{safe(self.source)}': {safe(str(error).splitlines()[0])}") from None
        finally:
            self.connection.close()


def _quoted(name):
    return '"' + name.replace('"', '""') + '"'
