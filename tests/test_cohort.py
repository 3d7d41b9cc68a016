"""Cohort inputs and outputs: Parquet and OMOP CDM through DuckDB, the narrow findings table."""

import csv
import io
import json
import os
import random
import re

import pytest

from conftest import FIXTURES, rlscheck, rlscheck_process

duckdb = pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import omop_fixture  # noqa: E402

LINE = re.compile(rb'"line":\d+,')
MEDS = ["Zoloft 50 mg", "Benadryl", "metformin", "Paxil CR", "lisinopril", "gabapentin", "Tylenol PM",
        "metoprolol succinate", "parxetine", "Reglan", "hydroxizine", "NyQuil", "quetiapine"]
CONDITIONS = ["pregnancy", "ESRD", "E11.42", "rheumatoid arthritis", "N18.6", "anemia", "D50.9", "Sjögren's"]


def records(count, seed=3):
    """Batch records of every kind, a few of them unreadable."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        record = {"id": f"p{index}", "meds": rng.sample(MEDS, rng.randint(0, 3)),
                  "conditions": rng.sample(CONDITIONS, rng.randint(0, 2))}
        if rng.random() < 0.2:
            record["substances"] = ["coffee"]
        if rng.random() < 0.1:
            record["withdrawal"] = ["lorazepam"]
        if rng.random() < 0.5:
            record["labs"] = {"ferritin": rng.choice([20, 40, 80, 150]), "tsat": rng.choice(["12%", "25%"])}
        if rng.random() < 0.05:
            record["labs"] = {"tsat": "high"}  # unreadable: an error line
        if rng.random() < 0.05:
            record["trimester"] = rng.choice([1, 2, 3])
        out.append(record)
    return out


def write_jsonl(path, items):
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


def parquet_from_jsonl(jsonl, parquet):
    """The same records as Parquet, typed as DuckDB reads JSON (labs a struct; absent: null)."""
    duckdb.connect().execute(f"COPY (SELECT * FROM read_json('{jsonl}')) TO '{parquet}' (FORMAT parquet)")
    return parquet


def run_ok(*args, expect=0):
    result = rlscheck_process("batch", *args)
    assert result.exit_code == expect, result.stderr
    return result


def test_parquet_documents_are_the_jsonl_documents_byte_for_byte(tmp_path):
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", records(3000))
    parquet = parquet_from_jsonl(jsonl, tmp_path / "cohort.parquet")
    from_jsonl = run_ok(jsonl, "--jobs", "1", expect=4).stdout
    from_parquet = run_ok(parquet, "--output-format", "jsonl", "--jobs", "2", expect=4).stdout  # worker processes: same bytes
    assert from_parquet == LINE.sub(b"", from_jsonl)  # keyed by id: Parquet rows have no lines
    assert from_parquet.count(b"\n") == 3000 and b'"error"' in from_parquet


def test_findings_table_from_parquet_equals_from_jsonl(tmp_path):
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", records(800))
    parquet = parquet_from_jsonl(jsonl, tmp_path / "cohort.parquet")
    for fmt in ("findings-csv", "findings-parquet"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        run_ok(jsonl, "--output-format", fmt, "-o", a, expect=4)
        run_ok(parquet, "--output-format", fmt, "-o", b, expect=4)
        if fmt == "findings-csv":
            assert a.read_bytes() == b.read_bytes()
            run_ok(parquet, "--output-format", fmt, "-o", tmp_path / "jobs.csv", "--jobs", "2", expect=4)
            assert (tmp_path / "jobs.csv").read_bytes() == a.read_bytes()  # worker processes: same rows
        else:
            assert pq.read_table(a).equals(pq.read_table(b))


def test_findings_table_rows_follow_the_documents(tmp_path):
    items = records(300)
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", items)
    documents = [json.loads(line) for line in run_ok(jsonl, expect=4).stdout.splitlines()]
    table = tmp_path / "findings.parquet"
    run_ok(jsonl, "--output-format", "findings-parquet", "-o", table, expect=4)
    rows = pq.read_table(table).to_pylist()
    assert list(rows[0]) == ["person_id", "finding_id", "kind", "certainty", "input", "via", "error"]
    expected = []
    for document in documents:
        if "error" in document:
            expected.append((document["id"], None, None, document["error"]))
            continue
        for finding in document["findings"]:
            expected += [(document["id"], finding["id"], match["input"], None) for match in finding["matched"]]
        expected += [(document["id"], None, item["input"], None) for item in document["unrecognized"]]
    assert [(r["person_id"], r["finding_id"], r["input"], r["error"]) for r in rows] == expected
    assert pq.read_schema(table).field("person_id").type == pa.string()
    brand = next(r for r in rows if r["input"] == "Paxil CR")
    assert brand["via"][-1] == "antidepressant" and brand["certainty"] and brand["kind"] == "medication"
    assert any(r["kind"] == "unrecognized" and r["input"] == "hydroxizine" for r in rows)
    text = run_ok(jsonl, "--output-format", "findings-csv", expect=4).stdout.decode()
    table_rows = list(csv.DictReader(io.StringIO(text)))
    assert len(table_rows) == len(rows)
    assert [r["via"] for r in table_rows if r["input"] == "Paxil CR"][0].endswith("> antidepressant")


def test_nulls_maps_and_extra_columns_in_parquet(tmp_path):
    schema = pa.schema([("person_id", pa.int64()), ("meds", pa.list_(pa.string())),
                        ("labs", pa.map_(pa.string(), pa.string())), ("conditions", pa.string()),
                        ("trimester", pa.float64()), ("name", pa.string())])
    rows = [
        {"person_id": 1, "meds": ["Zoloft", None], "labs": [("ferritin", "40"), ("tsat", None)], "conditions": None,
         "trimester": None, "name": "A"},
        {"person_id": 2, "meds": None, "labs": None, "conditions": "pregnancy", "trimester": 3.0, "name": "B"},
        {"person_id": 3, "meds": [], "labs": [("ferritin", "abc")], "conditions": None, "trimester": None, "name": None},
        {"person_id": 4, "meds": None, "labs": [], "conditions": None, "trimester": None, "name": None},
    ]
    path = tmp_path / "mixed.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    result = run_ok(path, "--output-format", "jsonl", expect=4)
    assert "columns not read (not record fields): 'name'" in result.stderr.decode()
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == [1, 2, 3, 4] and all("line" not in o for o in out)
    same = rlscheck("assess", "-m", "Zoloft", "--lab", "ferritin=40", "--format", "json").json()
    assert out[0]["findings"] == same["findings"]
    assert {f["id"] for f in out[1]["findings"]} == {"condition.pregnancy"}
    assert "not a number" in out[2]["error"]
    assert out[3]["findings"] == [] and out[3]["unrecognized"] == []


def test_parquet_values_that_json_does_not_hold(tmp_path):
    """Binary text columns, NaN (absent) and whole numbers stored as doubles read as their
    values, as the same person written as JSON would be."""
    schema = pa.schema([("id", pa.string()), ("meds", pa.list_(pa.binary())), ("conditions", pa.binary()),
                        ("labs", pa.struct([("ferritin", pa.float64()), ("tsat", pa.float64())]))])
    rows = [{"id": "a", "meds": ["Zoloft".encode(), None], "conditions": "ESRD".encode(),
             "labs": {"ferritin": 40.0, "tsat": float("nan")}},
            {"id": "b", "meds": ["Parox\xe9tine".encode("latin-1")], "conditions": None, "labs": None}]
    path = tmp_path / "odd.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    out = [json.loads(line) for line in run_ok(path, "--output-format", "jsonl").stdout.splitlines()]
    same = rlscheck("assess", "-m", "Zoloft", "-c", "ESRD", "--lab", "ferritin=40", "--format", "json").json()
    assert out[0]["findings"] == same["findings"] and out[0]["id"] == "a"
    assert out[1]["id"] == "b" and [item["input"] for item in out[1]["unrecognized"]] == ["Parox\ufffdtine"]
    doubles = tmp_path / "doubles.parquet"
    duckdb.connect().execute(f"COPY (SELECT 42.0::DOUBLE AS person_id, ['Zoloft'] AS meds, "
                             f"'nan'::DOUBLE AS trimester) TO '{doubles}' (FORMAT parquet)")
    out = json.loads(run_ok(doubles, "--output-format", "jsonl").stdout)
    assert out["id"] == 42 and [f["id"] for f in out["findings"]] == ["drug.antidepressant"]


def test_rows_typed_as_records_need_no_conversion():
    from rlscheck.inputs.rows import record_shaped

    usual = {"id": "VARCHAR", "meds": "VARCHAR[]", "conditions": "VARCHAR",
             "labs": "STRUCT(ferritin BIGINT, tsat VARCHAR)", "trimester": "INTEGER"}
    assert record_shaped(usual, "id")
    assert record_shaped({"person_id": "BIGINT", "labs": "MAP(VARCHAR, VARCHAR)"}, "person_id")
    for column, kind in [("labs", "STRUCT(ferritin DOUBLE)"), ("labs", "VARCHAR"), ("id", "DOUBLE"),
                         ("labs", "STRUCT(a STRUCT(b BIGINT))"), ("fhir", "VARCHAR"), ("meds", "INTEGER[]"),
                         ("labs", 'STRUCT("a, VARCHAR" DOUBLE)'), ("trimester", "DOUBLE")]:
        assert not record_shaped(dict(usual, **{column: kind}), "id"), (column, kind)


def test_cohort_inputs_give_the_findings_table_by_default(tmp_path):
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", records(50))
    parquet = parquet_from_jsonl(jsonl, tmp_path / "cohort.parquet")
    table = run_ok(jsonl, "--output-format", "findings-csv", expect=4).stdout
    assert table.startswith(b"person_id,finding_id,kind,certainty,input,via,error\n")
    assert run_ok(parquet, expect=4).stdout == table  # stdout: CSV
    run_ok(parquet, "-o", tmp_path / "findings.parquet", expect=4)  # by the name: Parquet
    assert pq.read_table(tmp_path / "findings.parquet").num_rows == table.count(b"\n") - 1
    assert run_ok(jsonl, expect=4).stdout.startswith(b'{"id":"p0","line":1,')  # JSONL input: documents


def test_parquet_folder_and_glob(tmp_path):
    folder = tmp_path / "lake"
    folder.mkdir()
    items = records(60)
    for part in range(3):
        jsonl = write_jsonl(tmp_path / f"part{part}.jsonl", items[part * 20:(part + 1) * 20])
        parquet_from_jsonl(jsonl, folder / f"part-{part}.parquet")
    whole = write_jsonl(tmp_path / "whole.jsonl", items)
    expected = LINE.sub(b"", run_ok(whole, expect=4).stdout)
    assert run_ok(folder, "--output-format", "jsonl", expect=4).stdout == expected
    assert run_ok(str(folder / "part-*.parquet"), "-o", tmp_path / "out.jsonl", expect=4)
    assert (tmp_path / "out.jsonl").read_bytes() == expected


def test_cohort_input_problems_fail_before_touching_the_output(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("earlier results\n")
    for args in ([tmp_path / "missing.parquet"], [str(tmp_path / "none-*.parquet")],
                 ["--omop", tmp_path / "no-such-cdm"], ["--input-format", "parquet", __file__]):
        result = rlscheck_process("batch", *args, "-o", out)
        assert result.exit_code == 2, (args, result.stderr)
        assert b"Traceback" not in result.stderr
    assert out.read_text() == "earlier results\n"
    empty = tmp_path / "cdm"
    empty.mkdir()
    omop_fixture.write_tables({"person": [{"person_id": 1}]}, empty, "parquet")
    result = rlscheck_process("batch", "--omop", empty, "-o", out)
    assert result.exit_code == 2 and b"has no table drug_exposure" in result.stderr
    result = rlscheck_process("batch", records_file(tmp_path), "--output-format", "findings-parquet")
    assert result.exit_code == 2 and b"-o FILE" in result.stderr
    result = rlscheck_process("batch", records_file(tmp_path), "--index-date", "2024-01-01")
    assert result.exit_code == 2 and b"apply to OMOP input" in result.stderr
    assert out.read_text() == "earlier results\n"


def records_file(tmp_path):
    return write_jsonl(tmp_path / "few.jsonl", records(5))


def test_findings_file_is_written_whole(tmp_path):
    out = tmp_path / "findings.csv"
    out.write_text("earlier\n")
    result = rlscheck_process("batch", records_file(tmp_path), "--output-format", "findings-csv", "-o", out)
    assert result.exit_code in (0, 4), result.stderr
    assert out.read_text().startswith("person_id,finding_id,kind,certainty,input,via,error\n")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary files left


def test_a_run_failing_midway_leaves_the_earlier_file(tmp_path):
    rows = [{"id": f"p{i}", "meds": ["Zoloft"] if i % 2 else ["metformin"]} for i in range(4000)]
    good = tmp_path / "good.parquet"
    pq.write_table(pa.Table.from_pylist(rows), good, row_group_size=1000, compression="zstd")
    chunk = pq.ParquetFile(good).metadata.row_group(3).column(1)
    data = bytearray(good.read_bytes())
    for index in range(chunk.data_page_offset + 20, chunk.data_page_offset + 60):  # the last row group
        data[index] ^= 0xFF
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(bytes(data))
    out = tmp_path / "out.csv"
    out.write_text("earlier\n")
    result = rlscheck_process("batch", bad, "-o", out, "--jobs", "1")
    assert result.exit_code == 2 and b"cannot read Parquet" in result.stderr and b"Traceback" not in result.stderr
    assert out.read_text() == "earlier\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_parquet_input_writes_the_csv_output_format(tmp_path):
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", records(200))
    parquet = parquet_from_jsonl(jsonl, tmp_path / "cohort.parquet")
    from_jsonl = list(csv.DictReader(io.StringIO(run_ok(jsonl, "--output-format", "csv", expect=4).stdout.decode())))
    from_parquet = run_ok(parquet, "--output-format", "csv", expect=4).stdout.decode()
    assert from_parquet.startswith("id,line,finding_id,")
    rows = list(csv.DictReader(io.StringIO(from_parquet)))
    assert [dict(row, line="") for row in from_jsonl] == rows  # keyed by id: Parquet rows have no lines


def test_cohort_runs_refuse_to_write_over_their_input(tmp_path):
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", records(20))
    parquet = parquet_from_jsonl(jsonl, tmp_path / "cohort.parquet")
    before = jsonl.read_bytes(), parquet.read_bytes()
    for source in (jsonl, parquet):
        result = rlscheck_process("batch", source, "--output-format", "findings-csv", "-o", source)
        assert result.exit_code == 2 and b"input and output are the same file" in result.stderr
    link = tmp_path / "link.parquet"
    link.symlink_to(parquet)
    result = rlscheck_process("batch", parquet, "-o", link)
    assert result.exit_code == 2 and b"input and output are the same file" in result.stderr
    assert (jsonl.read_bytes(), parquet.read_bytes()) == before


def test_cohort_output_to_a_device_is_written_not_replaced(tmp_path):
    parquet = parquet_from_jsonl(write_jsonl(tmp_path / "cohort.jsonl", records(20)), tmp_path / "cohort.parquet")
    result = rlscheck_process("batch", parquet, "--output-format", "findings-csv", "-o", os.devnull)
    assert result.exit_code == 4 and os.path.exists(os.devnull) and not os.path.isfile(os.devnull)
    result = rlscheck_process("batch", parquet, "--output-format", "findings-parquet", "-o", os.devnull)
    assert result.exit_code == 2 and b"is not one" in result.stderr and not os.path.isfile(os.devnull)
    if os.path.exists("/dev/full"):
        result = rlscheck_process("batch", parquet, "-o", "/dev/full")
        assert result.exit_code == 5 and b"No space left on device" in result.stderr
        assert not os.path.isfile("/dev/full")


def test_findings_table_from_csv_input_is_sniffed(tmp_path):
    source = tmp_path / "people.txt"
    source.write_text("id;meds;extra\np1;Zoloft,Benadryl;x\n")
    result = run_ok(source, "--output-format", "findings-csv")
    assert [row["input"] for row in csv.DictReader(io.StringIO(result.stdout.decode()))] == ["Zoloft", "Benadryl"]
    assert b"ignored: extra" in result.stderr


# -- OMOP CDM ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def omop(tmp_path_factory):
    tables, people = omop_fixture.generate()
    folder = tmp_path_factory.mktemp("omop")
    for fmt in ("parquet", "csv"):
        (folder / fmt).mkdir()
        omop_fixture.write_tables(tables, folder / fmt, fmt)
    omop_fixture.write_tables(tables, folder / "cdm.duckdb", "duckdb")
    return folder, people


def _condition_text(resolver, standard, source):
    """What a user would write: a code rlscheck knows (SNOMED CT, else ICD-10-CM), else the name."""
    for concept in (standard, source):
        if concept and resolver.resolve("condition", concept[3]).recognized:
            return concept[3]
    return standard[1]


def _people_as_jsonl(people, path):
    from rlscheck.knowledge import store as kb
    from rlscheck.resolve.names import Resolver

    resolver = Resolver(kb.load())
    lines = []
    for person in people:
        record = {"id": person["person_id"], "meds": person["meds"],
                  "conditions": sorted({_condition_text(resolver, *pair) for pair in person["conditions"]}),
                  "labs": [f"{name}={value} {unit.replace('{1.73_m2}', '1.73m2')}"
                           for name, (value, unit) in sorted(person["labs"].items())]}
        lines.append(record)
    return write_jsonl(path, lines)


def _findings(table):
    rows = pq.read_table(table).to_pylist()
    return sorted((r["person_id"], r["finding_id"], r["kind"], r["certainty"], r["error"]) for r in rows
                  if r["kind"] != "unrecognized")


@pytest.mark.parametrize("source", ["parquet", "csv", "cdm.duckdb"])
def test_omop_findings_equal_the_same_people_as_jsonl(omop, tmp_path, source):
    folder, people = omop
    jsonl = _people_as_jsonl(people, tmp_path / "people.jsonl")
    run_ok(jsonl, "--output-format", "findings-parquet", "-o", tmp_path / "expected.parquet")
    result = run_ok("--omop", folder / source, "--index-date", omop_fixture.INDEX_DATE.isoformat(),
                    "--output-format", "findings-parquet", "-o", tmp_path / "omop.parquet")
    assert b"1000 records" in result.stderr and b" 0 errors" in result.stderr
    found = _findings(tmp_path / "omop.parquet")
    assert found == _findings(tmp_path / "expected.parquet")
    assert len({row[0] for row in found}) > 500  # the sample exercises most people
    assert pq.read_schema(tmp_path / "omop.parquet").field("person_id").type == pa.int64()
    kinds = {row[1] for row in found}
    assert {"drug.antidepressant", "condition.kidney-failure", "lab.iron-deficiency", "condition.pregnancy"} <= kinds


def test_omop_documents_equal_the_jsonl_documents(omop, tmp_path):
    folder, people = omop
    jsonl = _people_as_jsonl(people, tmp_path / "people.jsonl")
    expected = run_ok(jsonl).stdout
    got = run_ok("--omop", folder / "parquet", "--index-date", omop_fixture.INDEX_DATE.isoformat(),
                 "--output-format", "jsonl").stdout
    for mine, theirs in zip(got.splitlines(), LINE.sub(b"", expected).splitlines()):
        a, b = json.loads(mine), json.loads(theirs)
        assert a["id"] == b["id"] and [f["id"] for f in a["findings"]] == [f["id"] for f in b["findings"]]


def test_omop_index_date_decides_what_is_current(omop, tmp_path):
    folder, _ = omop
    early = run_ok("--omop", folder / "parquet", "--index-date", "1990-01-01", "--output-format", "jsonl").stdout
    documents = [json.loads(line) for line in early.splitlines()]
    assert len(documents) == 1000
    assert all(d["findings"] == [] for d in documents)  # nothing had started yet
    today = run_ok("--omop", folder / "parquet", "-o", tmp_path / "today.jsonl")  # default: today
    assert b"1000 records" in today.stderr and len((tmp_path / "today.jsonl").read_bytes().splitlines()) == 1000


def test_omop_all_null_and_oddly_typed_columns(tmp_path):
    tables, _ = omop_fixture.generate(people=30)
    for row in tables["drug_exposure"]:
        row["drug_exposure_end_date"] = None  # every exposure open: an all-null date column
    for row in tables["measurement"]:
        row["unit_source_value"] = None
    folder = tmp_path / "cdm"
    folder.mkdir()
    omop_fixture.write_tables(tables, folder, "parquet")
    con = duckdb.connect()  # the end date column stored as all-null integers
    con.execute(f"COPY (SELECT * REPLACE (CAST(NULL AS INTEGER) AS drug_exposure_end_date) "
                f"FROM '{folder}/drug_exposure.parquet') TO '{folder}/drug_exposure2.parquet' (FORMAT parquet)")
    os.replace(folder / "drug_exposure2.parquet", folder / "drug_exposure.parquet")
    result = run_ok("--omop", folder, "--index-date", omop_fixture.INDEX_DATE.isoformat())
    assert b"30 records" in result.stderr and b" 0 errors" in result.stderr


EUNOMIA = FIXTURES / "omop" / "synthea27nj"


def test_eunomia_synthea_sample(tmp_path):
    """OHDSI's Eunomia Synthea27Nj CDM v5.4 (27 synthetic people, CSV, upper-case file names)."""
    result = run_ok("--omop", EUNOMIA, "--index-date", "2019-01-01", "--output-format", "findings-csv")
    assert b"28 records" in result.stderr and b" 0 errors" in result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode())))
    found = {(r["person_id"], r["finding_id"]) for r in rows if r["finding_id"]}
    # person 11: ferritin 69.5 ug/L and transferrin saturation 18.1% (LOINC 2276-4, 2502-3)
    assert ("11", "lab.iron-deficiency") in found
    # person 8: amlodipine from its RxNorm concept
    assert ("8", "drug.calcium-channel-blocker") in found
    assert all(r["error"] == "" for r in rows)


def test_nulls_in_jsonl_records_mean_absent(tmp_path):
    source = write_jsonl(tmp_path / "nulls.jsonl", [
        {"id": "a", "meds": ["Zoloft"], "labs": {"ferritin": 40, "tsat": None}},
        {"id": "b", "meds": None, "labs": None, "conditions": [None, "ESRD"], "trimester": None, "fhir": None},
        {"id": "c", "meds": [], "substances": None, "withdrawal": None, "risks": None, "labs": [None, "tsat=15%"]},
    ])
    result = rlscheck("batch", source)
    assert result.exit_code == 0, result.stdout
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[0]["findings"] == rlscheck("assess", "-m", "Zoloft", "--lab", "ferritin=40",
                                          "--format", "json").json()["findings"]
    assert [f["id"] for f in out[1]["findings"]] == ["condition.kidney-failure"]
    assert [f["id"] for f in out[2]["findings"]] == ["lab.iron-deficiency"]


# -- OMOP CDM in PostgreSQL, attached by DuckDB -----------------------------------------------


def _postgres_bin():
    """The folder of PostgreSQL's server programs (Debian keeps them out of PATH), or None."""
    import glob
    import shutil

    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(found)
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda path: int(path.split("/")[4]))
    return os.path.dirname(folders[-1]) if folders else None


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of its own on a free loopback port, its files in a temporary folder,
    run as the `postgres` user when the tests run as root (the server refuses root). Yields the
    libpq connection string; the server is stopped afterwards."""
    import pwd
    import shutil
    import socket
    import subprocess
    import tempfile

    folder = _postgres_bin()
    if folder is None:
        pytest.skip("PostgreSQL server programs not installed (Debian: apt-get install postgresql)")
    run_as = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")  # made by Debian's postgresql package
        except KeyError:
            pytest.skip("no 'postgres' user to run PostgreSQL as (it refuses to run as root)")
        run_as = ["runuser", "-u", "postgres", "--"]
    home = tempfile.mkdtemp(prefix="rlscheck-pg-")
    if run_as:
        os.chown(home, user.pw_uid, user.pw_gid)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = os.path.join(home, "data")

    def run(*command):
        subprocess.run([*run_as, *command], check=True, capture_output=True, timeout=120)

    try:
        run(f"{folder}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        run(f"{folder}/pg_ctl", "-D", data, "-l", os.path.join(home, "log"), "-w", "-t", "60", "-o",
            f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    except subprocess.CalledProcessError as error:
        shutil.rmtree(home, ignore_errors=True)
        raise AssertionError(f"PostgreSQL did not start: {error.stderr.decode(errors='replace')}") from None
    try:
        yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    finally:
        subprocess.run([*run_as, f"{folder}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True,
                       timeout=60)
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.slow
def test_omop_in_postgres_equals_the_same_people_as_jsonl(omop, postgres, tmp_path):
    folder, people = omop
    con = duckdb.connect()
    from rlscheck.inputs.omop import TABLES, load_postgres

    load_postgres(con)
    con.execute(f"ATTACH '{postgres}' AS pg (TYPE postgres)")
    con.execute("CREATE SCHEMA IF NOT EXISTS pg.cdm")
    for table in TABLES:
        con.execute(f"CREATE OR REPLACE TABLE pg.cdm.{table} AS SELECT * FROM '{folder}/parquet/{table}.parquet'")
    con.close()
    jsonl = _people_as_jsonl(people, tmp_path / "people.jsonl")
    run_ok(jsonl, "--output-format", "findings-parquet", "-o", tmp_path / "expected.parquet")
    result = run_ok("--omop", f"postgres:{postgres}", "--omop-schema", "cdm",
                    "--index-date", omop_fixture.INDEX_DATE.isoformat(), "-o", tmp_path / "pg.parquet")
    assert b"1000 records" in result.stderr and b" 0 errors" in result.stderr
    found = _findings(tmp_path / "pg.parquet")
    assert found == _findings(tmp_path / "expected.parquet") and len({row[0] for row in found}) > 500
    # the schema is a real choice: the default one holds no CDM
    result = rlscheck_process("batch", "--omop", f"postgres:{postgres}", "--omop-schema", "public")
    assert result.exit_code == 2 and b"has no table person" in result.stderr


def test_postgres_without_its_duckdb_extension_is_a_clear_error(tmp_path, monkeypatch):
    """No extension installed, none packaged, none to download: exit 2 naming what to install."""
    from rlscheck.errors import UsageError
    from rlscheck.inputs import omop

    monkeypatch.setattr(omop, "packaged_extension", lambda version: None)
    con = duckdb.connect(config={"extension_directory": str(tmp_path / "none"),
                                 "custom_extension_repository": str(tmp_path / "no-repository")})
    with pytest.raises(UsageError) as caught:
        omop.load_postgres(con)
    assert "pip install 'rlscheck[postgres]'" in str(caught.value) and caught.value.exit_code == 2
