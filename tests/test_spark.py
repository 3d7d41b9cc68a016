"""rlscheck.spark: the partition function (Arrow, pandas) and a real local Spark session."""

import json
import os
import re
import shutil
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import rlscheck_process

pytestmark = pytest.mark.slow  # a Spark session, pandas and Arrow conversions

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")

from rlscheck.batch import screening as batch  # noqa: E402
from rlscheck.inputs import batchfiles as readers  # noqa: E402
from rlscheck.render import findings_table  # noqa: E402
from rlscheck.spark import meta, screen_partition  # noqa: E402

LINE = re.compile(rb'"line":\d+,')
MEDS = ["Zoloft", "Benadryl", "metformin", "Paxil CR", "gabapentin", "parxetine", "Tylenol PM", "Reglan"]
CONDITIONS = ["ESRD", "pregnancy", "E11.42", "anemia", "hypertension"]
LAB_VALUES = {"ferritin": ["40", "150", "12 ug/L"], "tsat": ["15%", "30"], "egfr": ["12", "80"]}


_reference = []


def jsonl_documents(records):
    """The documents the JSONL path gives for clean records (the reference), id first, no line."""
    if not _reference:
        from rlscheck.knowledge import store as kb

        _reference.append(batch.Screener(kb.load()))
    screener = _reference[0]
    out = []
    raw = [json.dumps(record).encode() for record in records]
    for record in readers.read_jsonl(raw):
        text, _, _ = screener.line(record)
        out.append(LINE.sub(b"", text).decode().rstrip("\n"))
    return out


@st.composite
def rows(draw):
    """(rows for a table, the clean JSON records they stand for, whether ids are integers)."""
    integer_ids = draw(st.booleans())
    count = draw(st.integers(1, 6))
    table, clean = [], []
    for index in range(count):
        person = index * 7 if integer_ids else f"p{index}"
        meds = draw(st.none() | st.lists(st.none() | st.sampled_from(MEDS), max_size=3))
        conditions = draw(st.none() | st.sampled_from(CONDITIONS) | st.lists(st.sampled_from(CONDITIONS), max_size=2))
        names = draw(st.lists(st.sampled_from(sorted(LAB_VALUES)), unique=True, max_size=3))
        labs = None if draw(st.booleans()) else [(name, draw(st.none() | st.sampled_from(LAB_VALUES[name])))
                                                 for name in names]
        trimester = draw(st.none() | st.sampled_from([1, 2, 3]))
        table.append({"id": person, "meds": meds, "conditions": conditions, "labs": labs, "trimester": trimester,
                      "note": draw(st.none() | st.text(max_size=5)), "visits": draw(st.integers(0, 9))})
        record = {"id": person}
        if meds and any(m is not None for m in meds):
            record["meds"] = [m for m in meds if m is not None]
        if conditions:
            record["conditions"] = conditions
        if labs and any(value is not None for _, value in labs):
            record["labs"] = {name: value for name, value in labs if value is not None}
        if trimester:
            record["trimester"] = trimester
        clean.append(record)
    return table, clean, integer_ids


def arrow_table(table, integer_ids):
    schema = pa.schema([("id", pa.int64() if integer_ids else pa.string()), ("meds", pa.list_(pa.string())),
                        ("conditions", pa.string()), ("labs", pa.map_(pa.string(), pa.string())),
                        ("trimester", pa.int32()), ("note", pa.string()), ("visits", pa.int64())])
    single = [dict(row, conditions=None if isinstance(row["conditions"], list) else row["conditions"])
              for row in table]
    return pa.Table.from_pylist(single, schema=schema)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows())
def test_arrow_rows_give_the_jsonl_documents(drawn):
    table, clean, integer_ids = drawn
    for row, record in zip(table, clean):  # Arrow holds one type a column: conditions as one string here
        if isinstance(row["conditions"], list):
            record.pop("conditions", None)
    result = screen_partition(arrow_table(table, integer_ids), output="documents")
    assert isinstance(result, pa.Table)
    assert result.column("document").to_pylist() == jsonl_documents(clean)
    assert result.column("person_id").to_pylist() == [row["id"] for row in table]
    assert result.schema.field("person_id").type == (pa.int64() if integer_ids else pa.string())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows())
def test_pandas_rows_with_numpy_arrays_give_the_jsonl_documents(drawn):
    table, clean, integer_ids = drawn
    frame = pd.DataFrame({
        "person_id": pd.Series([row["id"] for row in table], dtype="int64" if integer_ids else "object"),
        "meds": [None if row["meds"] is None else np.array(row["meds"], dtype=object) for row in table],
        "conditions": [row["conditions"] for row in table],
        "labs": [None if row["labs"] is None else dict(row["labs"]) for row in table],
        "trimester": pd.Series([row["trimester"] for row in table], dtype="float64"),  # NaN for null
        "note": [row["note"] for row in table],
    })
    documents = screen_partition(frame, output="documents")
    assert list(documents.columns) == ["person_id", "document"]
    assert documents["document"].tolist() == jsonl_documents(clean)
    findings = screen_partition(frame)
    assert list(findings.columns) == list(meta().columns)
    expected = [row for record in clean for row in _table_rows(record)]
    got = [tuple(None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else
                 (list(v) if isinstance(v, (list, np.ndarray)) else v) for v in row)
           for row in findings.itertuples(index=False)]
    assert [row[1:] for row in got] == [row[1:] for row in expected]


def _table_rows(record):
    document = json.loads(jsonl_documents([record])[0])
    return [tuple(row) for row in findings_table.rows_of(document["id"], document)]


def test_bad_rows_become_error_rows():
    table = pa.table({"id": pa.array([1, 2, 3, 4]),
                      "meds": pa.array([["Zoloft"], ["Paxil"], None, ["Benadryl"]]),
                      "labs": pa.array(['{"ferritin": "abc"}', None, "not json at all", '{"tsat": 12}']),
                      "trimester": pa.array([None, 7, None, None]),
                      "fhir": pa.array([None, None, "{broken", None])})
    out = screen_partition(table, output="findings").to_pylist()
    errors = {row["person_id"]: row["error"] for row in out if row["error"]}
    assert set(errors) == {1, 2, 3}
    assert "not a number" in errors[1] and "trimester" in errors[2]
    assert {row["finding_id"] for row in out if row["person_id"] == 4} == {"drug.sedating-antihistamine",
                                                                           "lab.iron-deficiency"}


def test_unknown_output_is_refused():
    with pytest.raises(ValueError):
        screen_partition(pa.table({"id": [1]}), output="everything")


# -- a real Spark session --------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java (.ci/run installs it)")
    from pyspark.sql import SparkSession

    local = tmp_path_factory.mktemp("spark")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("rlscheck-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
               .config("spark.local.dir", str(local))
               .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={local}")
               .config("spark.sql.warehouse.dir", str(local / "warehouse"))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_screen_equals_rlscheck_batch(spark, tmp_path):
    from test_cohort import records

    from rlscheck.spark import screen

    source = tmp_path / "cohort.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records(5000, seed=11)))
    batch_documents = rlscheck_process("batch", source, "--jobs", "1")
    assert batch_documents.exit_code == 4  # a few unreadable records: error lines
    batch_table = rlscheck_process("batch", source, "--output-format", "findings-csv")
    frame = spark.read.json(str(source)).repartition(2)  # labs: a struct; partitions in any order
    documents = screen(frame, output="documents")
    got = sorted(row.document for row in documents.collect())
    expected = sorted(LINE.sub(b"", batch_documents.stdout).decode().splitlines())
    assert len(got) == 5000 and got == expected
    findings = screen(frame).collect()
    assert frame.schema["id"].dataType.simpleString() == "string"
    rows = [tuple(row) for row in findings]
    table = findings_table.csv_header() + findings_table.csv_bytes(rows)
    by_person = sorted(table.decode().splitlines()[1:])
    assert by_person == sorted(batch_table.stdout.decode().splitlines()[1:])
    assert any(row.error for row in findings) and any(row.finding_id for row in findings)


def test_spark_integer_ids_maps_and_bad_rows(spark):
    from rlscheck.spark import screen

    frame = spark.createDataFrame(
        [(1, ["Zoloft", None], {"ferritin": "40"}, "x"), (2, None, None, "y"),
         (3, ["Paxil"], {"ferritin": "abc"}, None), (4, [], {"tsat": None}, "z")],
        "person_id long, meds array<string>, labs map<string,string>, name string")
    with pytest.warns(UserWarning, match="name"):
        result = screen(frame)
    assert result.schema["person_id"].dataType.simpleString() == "bigint"
    rows = result.collect()
    assert {(r.person_id, r.finding_id) for r in rows if r.finding_id} == {(1, "drug.antidepressant"),
                                                                          (1, "lab.iron-deficiency")}
    assert [(r.person_id, bool(r.error)) for r in rows if r.error] == [(3, True)]

