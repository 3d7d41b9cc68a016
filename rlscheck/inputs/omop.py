"""OMOP CDM v5.4 input through DuckDB: one batch record per person.

Tables read: person, drug_exposure, condition_occurrence, measurement and concept, from a
DuckDB database file, a folder of Parquet or CSV tables (`person.parquet`, `PERSON.csv`,
`person.csv.gz` or a folder `person/` of Parquet files; names in any case), or a database
DuckDB can attach (`postgres:dbname=cdm host=...`, with `--omop-schema` naming the CDM schema).

At the index date (default: today):
* medications: drug exposures started on or before it whose end date is absent or on or after
  it (OMOP end dates are the last day of exposure), named by the RxNorm concept's name (the
  vocabulary's name for the code, brand in brackets), else the source value;
* conditions: occurrences started on or before it and not ended before it, by code first (the
  SNOMED CT or ICD-10-CM concept_code of the standard or source concept, when recognised), by
  name second (concept name, then source value);
* labs: the latest measurement on or before it of each lab, found by LOINC code first, by name
  second, with its UCUM unit.
Every column is cast explicitly, so a column that is all nulls (typed as anything) still reads.
"""

from __future__ import annotations

import datetime
import os
import re

from rlscheck.inputs.records import Record
from rlscheck.errors import UsageError
from rlscheck.inputs import duckdb_module
from rlscheck.textsafe import safe

TABLES = ("person", "drug_exposure", "condition_occurrence", "measurement", "concept")
FETCH = 1024

# LOINC codes of the labs the knowledge base grades (name, as its alias).
LOINC = {
    "2276-4": "ferritin", "20567-4": "ferritin", "24373-3": "ferritin",
    "2502-3": "tsat",
    "718-7": "hemoglobin", "20509-6": "hemoglobin", "30313-1": "hemoglobin", "59260-0": "hemoglobin",
    "2132-9": "b12", "14685-2": "b12",
    "19123-9": "magnesium", "2601-3": "magnesium",
    "33914-3": "egfr", "48642-3": "egfr", "48643-1": "egfr", "62238-1": "egfr", "88293-6": "egfr",
    "88294-4": "egfr", "98979-8": "egfr", "50044-7": "egfr",
    "2284-8": "folate",
}
CONDITION_CODES = ("SNOMED", "ICD10CM")


def _text(column):
    return f"CAST({column} AS VARCHAR)"


def _integer(column):
    return f"TRY_CAST(CAST({column} AS VARCHAR) AS BIGINT)"


def _number(column):
    return f"TRY_CAST(CAST({column} AS VARCHAR) AS DOUBLE)"


def _date(column):
    """A date from a DATE, TIMESTAMP, text or all-null column of any type."""
    return f"TRY_CAST(TRY_CAST(CAST({column} AS VARCHAR) AS TIMESTAMP) AS DATE)"


QUERY = f"""
WITH c AS (
  SELECT {_integer('concept_id')} AS concept_id, {_text('concept_name')} AS name,
         {_text('vocabulary_id')} AS vocabulary, {_text('concept_code')} AS code
  FROM cdm_concept),
d AS (
  SELECT {_integer('person_id')} AS person_id, {_integer('drug_exposure_id')} AS row_id,
         {_integer('drug_concept_id')} AS concept_id, {_text('drug_source_value')} AS source_value,
         {_date('drug_exposure_start_date')} AS started, {_date('drug_exposure_end_date')} AS ended
  FROM cdm_drug_exposure),
drugs AS (
  SELECT d.person_id, list({{'row_id': d.row_id, 'name': c.name, 'source_value': d.source_value}}
                          ORDER BY d.row_id) AS items
  FROM d LEFT JOIN c ON c.concept_id = d.concept_id AND d.concept_id <> 0
  WHERE (d.started IS NULL OR d.started <= $index) AND (d.ended IS NULL OR d.ended >= $index)
  GROUP BY d.person_id),
o AS (
  SELECT {_integer('person_id')} AS person_id, {_integer('condition_occurrence_id')} AS row_id,
         {_integer('condition_concept_id')} AS concept_id, {_integer('condition_source_concept_id')} AS source_concept_id,
         {_text('condition_source_value')} AS source_value,
         {_date('condition_start_date')} AS started, {_date('condition_end_date')} AS ended
  FROM cdm_condition_occurrence),
conditions AS (
  SELECT o.person_id, list({{'row_id': o.row_id, 'name': c.name, 'vocabulary': c.vocabulary, 'code': c.code,
                            'source_name': s.name, 'source_vocabulary': s.vocabulary, 'source_code': s.code,
                            'source_value': o.source_value}} ORDER BY o.row_id) AS items
  FROM o LEFT JOIN c ON c.concept_id = o.concept_id AND o.concept_id <> 0
         LEFT JOIN c AS s ON s.concept_id = o.source_concept_id AND o.source_concept_id <> 0
  WHERE (o.started IS NULL OR o.started <= $index) AND (o.ended IS NULL OR o.ended >= $index)
  GROUP BY o.person_id),
m AS (
  SELECT {_integer('person_id')} AS person_id, {_integer('measurement_id')} AS row_id,
         {_integer('measurement_concept_id')} AS concept_id, {_text('measurement_source_value')} AS source_value,
         {_number('value_as_number')} AS value, {_integer('unit_concept_id')} AS unit_concept_id,
         {_text('unit_source_value')} AS unit_source_value, {_date('measurement_date')} AS measured
  FROM cdm_measurement),
labs AS (
  SELECT m.person_id, list({{'row_id': m.row_id, 'lab': coalesce(by_code.lab, by_source_code.lab, by_name.lab,
                                                              by_source_name.lab),
                            'value': m.value, 'unit': coalesce(nullif(u.code, ''), nullif(m.unit_source_value, '')),
                            'measured': m.measured}} ORDER BY m.measured NULLS FIRST, m.row_id) AS items
  FROM m LEFT JOIN c ON c.concept_id = m.concept_id AND m.concept_id <> 0
         LEFT JOIN c AS u ON u.concept_id = m.unit_concept_id AND m.unit_concept_id <> 0
         LEFT JOIN lab_codes AS by_code ON c.vocabulary = 'LOINC' AND by_code.code = c.code
         LEFT JOIN lab_codes AS by_source_code ON by_source_code.code = trim(m.source_value)
         LEFT JOIN lab_names AS by_name ON by_name.name = lower(trim(split_part(c.name, '[', 1)))
              AND (c.name NOT LIKE '%[%' OR regexp_matches(lower(c.name), 'serum|plasma|blood'))
         LEFT JOIN lab_names AS by_source_name ON by_source_name.name = lower(trim(m.source_value))
  WHERE m.value IS NOT NULL AND (m.measured IS NULL OR m.measured <= $index)
    AND coalesce(by_code.lab, by_source_code.lab, by_name.lab, by_source_name.lab) IS NOT NULL
  GROUP BY m.person_id),
p AS (SELECT DISTINCT {_integer('person_id')} AS person_id FROM cdm_person)
SELECT p.person_id, drugs.items, conditions.items, labs.items
FROM p LEFT JOIN drugs USING (person_id) LEFT JOIN conditions USING (person_id) LEFT JOIN labs USING (person_id)
ORDER BY p.person_id
"""


def _table_files(folder):
    """{table: DuckDB scan expression} for the CDM tables found in a folder."""
    found = {}
    entries = {name.lower(): name for name in os.listdir(folder)}
    for table in TABLES:
        for suffix, reader in ((".parquet", "read_parquet"), (".csv", "read_csv"), (".csv.gz", "read_csv"),
                               (".tsv", "read_csv"), ("", "read_parquet")):
            name = entries.get(table + suffix)
            if name is None:
                continue
            path = os.path.join(folder, name)
            if suffix == "":
                if not os.path.isdir(path):
                    continue
                path = os.path.join(path, "**", "*.parquet")
            quoted = path.replace("'", "''")
            options = ", all_varchar = true, header = true" if reader == "read_csv" else ", union_by_name = true"
            found[table] = f"{reader}('{quoted}'{options})"
            break
    return found


POSTGRES_PACKAGE = "duckdb-extension-postgres-scanner"


def load_postgres(connection):
    """Load DuckDB's postgres extension: one already installed for this DuckDB, else the one the
    `postgres` extra installs from PyPI (its package ships the extension built for one DuckDB
    version), else one DuckDB downloads. Without it: UsageError saying what to install."""
    duckdb = duckdb_module()
    try:
        connection.execute("LOAD postgres")
        return
    except duckdb.Error:
        pass
    packaged = packaged_extension(duckdb.__version__)
    if packaged is not None:
        connection.execute(f"LOAD '{packaged.replace(chr(39), chr(39) * 2)}'")
        return
    try:
        connection.execute("INSTALL postgres")
        connection.execute("LOAD postgres")
    except duckdb.Error:
        raise UsageError(
            f"reading an OMOP CDM from Postgres needs DuckDB's postgres extension, which is not installed "
            f"for DuckDB {duckdb.__version__} and could not be downloaded: pip install 'rlscheck[postgres]' "
            f"(DuckDB with its matching {POSTGRES_PACKAGE} package), or run DuckDB's "
            "INSTALL postgres once where the network allows") from None


def packaged_extension(version):
    """The postgres extension file shipped by the PyPI package for DuckDB `version`, or None."""
    import importlib.util

    spec = importlib.util.find_spec("duckdb_extension_postgres_scanner")
    paths = [os.path.join(folder, "extensions", f"v{version}", "postgres_scanner.duckdb_extension")
             for folder in ((spec.submodule_search_locations or []) if spec is not None else [])]
    return next((path for path in paths if os.path.isfile(path)), None)


class OmopInput:
    """An OMOP CDM opened through DuckDB; fails with UsageError (before any output is touched)
    when it cannot be opened or a table is missing."""

    def __init__(self, source, kb, index_date=None, schema=None):
        duckdb = duckdb_module()
        self.source, self.kb = source, kb
        self.index_date = index_date or datetime.date.today()
        self.connection = duckdb.connect()
        self.connection.execute("SET enable_progress_bar = false")
        try:
            tables = self._open(source, schema)
        except duckdb.Error as error:
            raise UsageError(f"cannot open OMOP CDM '{safe(source)}': {safe(str(error).splitlines()[0])}") from None
        missing = [table for table in TABLES if table not in tables]
        if missing:
            raise UsageError(f"OMOP CDM '{safe(source)}' has no table {', '.join(missing)}; "
                             f"rlscheck reads {', '.join(TABLES)}")
        for table, scan in tables.items():
            self.connection.execute(f"CREATE TEMP VIEW cdm_{table} AS SELECT * FROM {scan}")
        self.people = self.connection.execute("SELECT count(DISTINCT person_id) FROM cdm_person").fetchone()[0]
        self._conditions = {}  # condition concept -> the text given to rlscheck
        self._resolver = None

    def _open(self, source, schema):
        if os.path.isdir(source):
            return _table_files(source)
        if os.path.isfile(source):
            self.connection.execute(f"ATTACH '{source.replace(chr(39), chr(39) * 2)}' AS cdm (READ_ONLY)")
        elif source.startswith(("postgres:", "postgresql:")):
            attach = source.split(":", 1)[1] if source.startswith("postgres:") else source
            load_postgres(self.connection)
            self.connection.execute(f"ATTACH '{attach.replace(chr(39), chr(39) * 2)}' AS cdm (TYPE postgres, READ_ONLY)")
        else:
            raise UsageError(f"cannot read OMOP CDM '{safe(source)}': no such file or folder")
        rows = self.connection.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'cdm' "
            "UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = 'cdm'").fetchall()
        wanted = {}
        for table_schema, name in rows:
            if name.lower() in TABLES and (not schema or table_schema.lower() == schema.lower()):
                wanted.setdefault(name.lower(), f'cdm."{table_schema}"."{name}"')
        return wanted

    def _lab_tables(self):
        """The LOINC codes and the names (four letters or more: no guessing from 'mg' or 'ts')
        by which a measurement is taken for one of the knowledge base's labs."""
        names = {}
        for entry_id in self.kb.entries:
            entry = self.kb.get(entry_id)
            if entry["kind"] == "lab" and entry.get("units"):
                aliases = entry.get("aliases") or [entry["name"]]
                for alias in [entry["name"], *aliases]:
                    if len(alias) >= 4:
                        names.setdefault(alias.lower(), aliases[0])
        self.connection.execute("CREATE TEMP TABLE lab_codes (code VARCHAR, lab VARCHAR)")
        self.connection.execute("INSERT INTO lab_codes VALUES " + _values(sorted(LOINC.items())))
        self.connection.execute("CREATE TEMP TABLE lab_names (name VARCHAR, lab VARCHAR)")
        if names:
            self.connection.execute("INSERT INTO lab_names VALUES " + _values(sorted(names.items())))

    def records(self):
        duckdb = duckdb_module()
        try:
            self._lab_tables()
            # the date is written into the SQL: binding a Python value makes some DuckDB versions
            # import pandas and NumPy
            result = self.connection.execute(QUERY.replace("$index", f"DATE '{self.index_date.isoformat()}'"))
            for rows in iter(lambda: result.fetchmany(FETCH), []):
                for person_id, drugs, conditions, labs in rows:
                    yield self._record(person_id, drugs or (), conditions or (), labs or ())
        except duckdb.Error as error:
            raise UsageError(f"cannot read OMOP CDM '{safe(self.source)}': {safe(str(error).splitlines()[0])}") from None
        finally:
            self.connection.close()

    def _record(self, person_id, drugs, conditions, labs):
        latest = {item["lab"]: item for item in labs}  # in date order: the last of each lab is the latest
        data = {"meds": sorted({_drug_text(item) for item in drugs}),
                "conditions": sorted({self._condition_text(item) for item in conditions}),
                "labs": [_lab_text(name, item) for name, item in sorted(latest.items())]}
        return Record(None, {field: values for field, values in data.items() if values}, "", person_id)

    def _condition_text(self, item):
        key = tuple(sorted(pair for pair in item.items() if pair[0] != "row_id"))
        text = self._conditions.get(key)
        if text is None:
            text = self._conditions[key] = self._choose_condition(item)
            if len(self._conditions) > 50_000:
                self._conditions.clear()
        return text.replace("{row}", str(item["row_id"]))

    def _choose_condition(self, item):
        """Code first (when rlscheck recognises it), name second."""
        if self._resolver is None:
            from rlscheck.resolve.names import Resolver

            self._resolver = Resolver(self.kb)
        for vocabulary, code in ((item["vocabulary"], item["code"]), (item["source_vocabulary"], item["source_code"])):
            if vocabulary in CONDITION_CODES and code and self._resolver.resolve("condition", code).recognized:
                return code
        return (_first_text(item["name"], item["source_name"], item["source_value"])
                or "condition_occurrence {row} (no concept or source value)")


def _values(pairs):
    """SQL rows of text pairs."""
    return ", ".join("(" + ", ".join("'" + text.replace("'", "''") + "'" for text in pair) + ")" for pair in pairs)


def _first_text(*texts):
    """The first of the texts that is not blank, stripped; None when all are."""
    return next((text.strip() for text in texts if text and text.strip()), None)


def _drug_text(item):
    return _first_text(item["name"], item["source_value"]) or \
        f"drug_exposure {item['row_id']} (no concept or source value)"


def _lab_text(name, item):
    value = item["value"]
    number = str(int(value)) if float(value).is_integer() and abs(value) < 2 ** 53 else repr(value)
    unit = _unit(item["unit"])
    return f"{name}={number}{'' if unit in ('', '%') else ' '}{unit}"


def _unit(unit):
    """A UCUM unit as rlscheck's lab units spell it: '{1.73_m2}' annotations become '1.73m2',
    others are dropped ('{score}'); '[iU]'-style brackets are kept."""
    if not unit:
        return ""
    text = unit.strip().replace("{1.73_m2}", "1.73m2").replace("/1.73.m2", "/1.73m2")
    return re.sub(r"\{[^}]*\}", "", text).strip()

