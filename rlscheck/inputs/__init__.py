"""Cohort inputs read through DuckDB (the `parquet` extra): Parquet files and OMOP CDM databases."""


def duckdb_module():
    """DuckDB, or UsageError saying how to install it."""
    from rlscheck.errors import UsageError

    try:
        import duckdb
    except ImportError:
        raise UsageError("reading Parquet or OMOP needs DuckDB: pip install 'rlscheck[parquet]'") from None
    return duckdb
