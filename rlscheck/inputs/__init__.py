"""What arrives: files and formats (FHIR R4 resources and Bundles, batch records, Parquet files
and OMOP CDM databases read through DuckDB) turned into inputs."""


def duckdb_module():
    """DuckDB, or UsageError saying how to install it (the `parquet` extra)."""
    from rlscheck.errors import UsageError

    try:
        import duckdb
    except ImportError:
        raise UsageError("reading Parquet or OMOP needs DuckDB: pip install 'rlscheck[parquet]'") from None
    return duckdb
