"""Screen a data frame across machines: Spark through `mapInArrow`, and one partition function
that Dask (`map_partitions`) and Ray (`map_batches`) can call too.

    from rlscheck.spark import screen
    findings = screen(spark.table("cohort"), output="findings")

Rows are batch records (see `rlscheck.api`): an `id` (or `person_id`) column and any of `meds`,
`conditions`, `substances`, `withdrawal`, `risks` (arrays of strings or one string), `labs` (a
map, struct, JSON string or array of 'name=value'), `trimester`, `fhir` (a JSON string). Other
columns are not read. Nulls are absent values. A row that cannot be read becomes an error row;
it never fails the job.

Each worker process loads the knowledge base once (from the compiled cache in
RLSCHECK_CACHE_DIR, else the user's cache directory: point it at local disk) and keeps one
screener for every partition it is given.

Outputs:
* "findings": the narrow findings table (`rlscheck.render.findings_table`): person_id (the id
  column's type), finding_id, kind, certainty, input, via (array of strings), error;
* "documents": person_id and document, the JSON line `rlscheck batch` writes for the person
  (without `line`).
"""

from __future__ import annotations

import warnings
from functools import partial

from rlscheck.render.findings_table import COLUMNS
from rlscheck.inputs.rows import RECORD_COLUMNS, id_column_of, record_of, unused_columns

OUTPUTS = ("findings", "documents")
_screeners = {}  # knowledge-base files -> screener, one per worker process


def _screener(kb_files):
    screener = _screeners.get(kb_files)
    if screener is None:
        from rlscheck.render import findings_table
        from rlscheck.api import load_knowledge_base

        screener = _screeners[kb_files] = findings_table.Screener(load_knowledge_base(kb_files))
    return screener


def _arrow_schema(output, id_type):
    import pyarrow as pa

    if output == "documents":
        return pa.schema([("person_id", id_type), ("document", pa.string())])
    return pa.schema([("person_id", id_type)] + [(name, pa.list_(pa.string()) if name == "via" else pa.string())
                                                 for name in COLUMNS[1:]])


def _check_output(output):
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, not {output!r}")


def screen_batches(batches, *, output="findings", id_column=None, kb_files=()):
    """Arrow record batches in, Arrow record batches out (the function given to mapInArrow).
    `id_column` None: `id`, else `person_id`, else no id."""
    _check_output(output)
    screener = _screener(tuple(kb_files))
    for data in batches:
        id_name = _id_name(data.schema.names, id_column)
        columns = {name: data.column(name).to_pylist() for name in data.schema.names
                   if name == id_name or name in RECORD_COLUMNS}
        rows = ({name: values[index] for name, values in columns.items()} for index in range(data.num_rows))
        yield _screen_rows(screener, rows, id_name, output, _arrow_schema(output, _id_type(data.schema, id_column)))


def _screen_rows(screener, rows, id_name, output, schema):
    import pyarrow as pa

    out = {name: [] for name in schema.names}
    for row in rows:
        record = record_of(row, id_name)
        person_id = row.get(id_name) if id_name else None  # as given: the output column has its type
        if output == "documents":
            line, _, _ = screener_line(screener, record)
            out["person_id"].append(person_id)
            out["document"].append(line.decode("utf-8").rstrip("\n"))
        else:
            found, _, _ = screener.rows(record)
            for table_row in found:
                for name, value in zip(COLUMNS, (person_id, *table_row[1:])):
                    out[name].append(value)
    try:
        return pa.RecordBatch.from_pydict(out, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        # an id that does not fit its own column type cannot happen for ids read from it;
        # anything else is written as text rather than failing the partition
        out["person_id"] = [None if value is None else str(value) for value in out["person_id"]]
        return pa.RecordBatch.from_pydict(out, schema=schema.set(0, pa.field("person_id", pa.string())))


def screener_line(screener, record):
    """The batch JSON line of one record (the parent class's line, not the findings rows)."""
    from rlscheck.batch import screening as batch

    return batch.Screener.line(screener, record)


def screen_partition(data, *, output="findings", id_column=None, kb_files=()):
    """One partition: a pandas DataFrame (Dask map_partitions), a pyarrow Table or RecordBatch
    (Ray map_batches with batch_format="pyarrow"); returns the same kind."""
    import pyarrow as pa

    _check_output(output)
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        batches = data.to_batches() if isinstance(data, pa.Table) else [data]
        results = list(screen_batches(batches, output=output, id_column=id_column, kb_files=kb_files))
        if isinstance(data, pa.RecordBatch):
            return results[0]
        schema = results[0].schema if results else _arrow_schema(output, _id_type(data.schema, id_column))
        return pa.Table.from_batches(results, schema=schema)
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise TypeError("a partition is a pandas DataFrame, a pyarrow Table or a RecordBatch")
    id_name = _id_name(list(data.columns), id_column)
    screener = _screener(tuple(kb_files))
    records = data.to_dict("records")
    id_type = pa.string()
    if id_name is not None and pd.api.types.is_integer_dtype(data[id_name].dtype):
        id_type = pa.int64()
    result = _screen_rows(screener, records, id_name, output, _arrow_schema(output, id_type))
    return result.to_pandas()


def _id_name(names, id_column):
    """The id column: `id_column` if the data has it, else `id`, else `person_id`, else None."""
    if id_column is not None and id_column in names:
        return id_column
    return id_column_of(names)


def _id_type(schema, id_column):
    import pyarrow as pa

    name = _id_name(schema.names, id_column)
    return schema.field(name).type if name else pa.string()


def meta(output="findings", id_dtype="object"):
    """An empty pandas frame of the output's columns: Dask's `meta=` for map_partitions."""
    import pandas as pd

    _check_output(output)
    names = ("person_id", "document") if output == "documents" else COLUMNS
    return pd.DataFrame({name: pd.Series(dtype=id_dtype if name == "person_id" else "object") for name in names})


def screen(df, *, output="findings", id_column=None, kb_files=()):
    """A Spark DataFrame of results for a DataFrame of records (see the module's docstring).
    Lazy, like any transformation: nothing runs until an action (write, count, collect)."""
    from pyspark.sql import types as T

    _check_output(output)
    names = df.columns
    try:
        id_name = id_column_of(names, id_column)
    except KeyError:
        raise ValueError(f"the data frame has no column {id_column!r}") from None
    unused = unused_columns(names, id_name)
    if unused:
        warnings.warn(f"rlscheck: columns not read (not record fields): {', '.join(unused)}", stacklevel=2)
    id_type = df.schema[id_name].dataType if id_name else T.StringType()
    if output == "documents":
        schema = T.StructType([T.StructField("person_id", id_type), T.StructField("document", T.StringType())])
    else:
        schema = T.StructType([T.StructField("person_id", id_type)] + [
            T.StructField(name, T.ArrayType(T.StringType()) if name == "via" else T.StringType())
            for name in COLUMNS[1:]])
    selected = df.select(*[name for name in names if name not in unused])
    function = partial(screen_batches, output=output, id_column=id_name, kb_files=tuple(kb_files))
    return selected.mapInArrow(function, schema)
