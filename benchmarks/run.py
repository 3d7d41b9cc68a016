"""Start-up and batch benchmarks for rlscheck: ratios against the floor, not absolute times.

    python benchmarks/run.py            # all measurements (about three minutes, more for cohorts)
    python benchmarks/run.py --quick    # fewer repetitions, smaller batch
    python benchmarks/run.py --cohort   # only Parquet, OMOP and Spark (needs the parquet and spark extras)

Each comparison runs the two whole processes alternately, many times, and compares medians,
so machine load drifting during the run affects both sides alike. Run it with the Python
of the environment rlscheck is installed in.
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
RLSCHECK = str(BIN / "rlscheck")
PYTHON = sys.executable


def timed(command, stdin_path=None):
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    started = time.perf_counter()
    subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    if stdin_path:
        stdin.close()
    return elapsed


def compare(candidate, floor, runs, env=None):
    """Median wall time of each command over alternating runs, and their ratio."""
    for command in (candidate, floor):  # warm caches and the OS page cache
        timed(command)
    a, b = [], []
    for _ in range(runs):
        a.append(timed(candidate))
        b.append(timed(floor))
    return statistics.median(a), statistics.median(b)


def generate_records(path, count, seed=7):
    rng = random.Random(seed)
    meds = ["Zoloft 50 mg", "Benadryl", "metformin", "Paxil CR", "lisinopril", "gabapentin", "Tylenol PM",
            "metoprolol succinate", "omeprazole", "atorvastatin", "quetiapine", "loratadine", "parxetine"]
    conditions = ["pregnancy", "ESRD", "E11.42", "rheumatoid arthritis", "hypertension", "anemia", "D50.9"]
    with open(path, "w") as out:
        for index in range(count):
            record = {"id": f"p{index}", "meds": rng.sample(meds, rng.randint(0, 4)),
                      "conditions": rng.sample(conditions, rng.randint(0, 2))}
            if rng.random() < 0.5:
                record["labs"] = {"ferritin": rng.choice([20, 40, 80, 150, 300]), "tsat": f"{rng.choice([12, 25])}%"}
            out.write(json.dumps(record) + "\n")


PLAIN_PASS = "import json, sys\nfor line in sys.stdin:\n    sys.stdout.write(json.dumps(json.loads(line)) + '\\n')\n"


def peak_memory_mb(command, stdin_path):
    """Peak memory of a command and its worker processes together, in MB: on Linux the sum of
    their proportional set sizes (a page shared by forked workers counts once in all), sampled
    every 20 ms; elsewhere the largest single process's resident size."""
    if not Path("/proc/self/task").is_dir():
        probe = ("import resource, subprocess, sys\n"
                 f"subprocess.run({command!r}, stdin=open({str(stdin_path)!r}, 'rb'), stdout=subprocess.DEVNULL,"
                 " stderr=subprocess.DEVNULL)\n"
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        kilobytes = int(subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True).stdout.strip())
        return kilobytes / 1024 if sys.platform != "darwin" else kilobytes / (1024 * 1024)
    with open(stdin_path, "rb") as stdin:
        process = subprocess.Popen(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss_kb(process.pid))
            time.sleep(0.02)
    return peak / 1024


def _tree_rss_kb(pid):
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/smaps_rollup").read_text()
            total += int(re.search(r"Pss:\s+(\d+)", status).group(1))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += map(int, (task / "children").read_text().split())
        except (OSError, AttributeError, ValueError):  # the process ended meanwhile
            continue
    return total


def big_knowledge_base(path, factor=10):
    """A valid extra knowledge base with (factor - 1) times the shipped number of drugs and names."""
    from rlscheck.knowledge import store as kb

    shipped = kb.load()
    drugs = [e for e in shipped.entries.values() if e["kind"] == "drug"]
    lines = ["drugs:"]
    for copy in range(1, factor):
        for drug in drugs:
            lines += [f"  - id: drug.bench-{copy}-{drug['id'][5:]}",
                      f"    name: bench{copy} {drug['name']}",
                      f"    classes: [{', '.join(drug['classes'])}]",
                      f"    relation: {drug['relation']}",
                      f"    evidence: [{', '.join(drug['evidence'])}]"]
            if drug.get("references"):
                lines.append(f"    references: [{', '.join(drug['references'])}]")
            brands = [f'"bench{copy} {b}"' for b in drug.get("brands", [])]
            if brands:
                lines.append(f"    brands: [{', '.join(brands)}]")
    Path(path).write_text("\n".join(lines) + "\n")


def cpu_seconds(command):
    """CPU time (user + system) of a whole process and its children, in seconds."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def compare_cpu(candidate, floor, runs):
    cpu_seconds(candidate)
    cpu_seconds(floor)
    a, b = [], []
    for _ in range(runs):
        a.append(cpu_seconds(candidate))
        b.append(cpu_seconds(floor))
    return statistics.median(a), statistics.median(b)


def jsonl_to_parquet(jsonl, parquet):
    import duckdb

    duckdb.connect().execute(f"COPY (SELECT * FROM read_json('{jsonl}')) TO '{parquet}' (FORMAT parquet)")


SPARK_RUN = """
import os, sys, time
from pyspark.sql import SparkSession
from rlscheck.spark import screen
master, source, local = sys.argv[1:4]
spark = (SparkSession.builder.master(master).config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false").config("spark.local.dir", local)
         .config("spark.sql.shuffle.partitions", "4").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
frame = spark.read.parquet(source).repartition(8).cache()
frame.count()
screen(frame.limit(1000)).write.format("noop").mode("overwrite").save()  # workers start, caches warm
started = time.perf_counter()
screen(frame).write.format("noop").mode("overwrite").save()
print(frame.count() / (time.perf_counter() - started))
spark.stop()
"""


def cohort_benchmarks(work, quick, report, rows):
    """Parquet and OMOP input against JSONL (CPU, one process), Spark local[2] against local[1]
    (throughput, reported), and peak memory over a million Parquet rows."""
    work = Path(work)
    count = 20_000 if quick else 200_000
    runs = 3 if quick else 5
    records = work / "cohort.jsonl"
    parquet = work / "cohort.parquet"
    generate_records(records, count)
    jsonl_to_parquet(records, parquet)
    # the same output (documents) for both: only the input differs
    base = ["--jobs", "1", "--quiet", "--output-format", "jsonl", "-o", os.devnull]
    report(f"batch of {count:,} Parquet rows  vs  the same as JSONL (CPU)",
           *compare_cpu([RLSCHECK, "batch", str(parquet), *base], [RLSCHECK, "batch", str(records), *base], runs), 1.3)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import omop_fixture
    from rlscheck.knowledge import store as kb
    from rlscheck.inputs.omop import OmopInput

    people = 10_000 if quick else 50_000
    cdm = work / "cdm"
    cdm.mkdir()
    tables, _ = omop_fixture.generate(people=people)
    omop_fixture.write_tables(tables, cdm, "parquet")
    same = work / "omop-people.jsonl"
    with open(same, "w") as out:
        reader = OmopInput(str(cdm), kb.load(), omop_fixture.INDEX_DATE)
        for record in reader.records():
            out.write(json.dumps({"id": record.record_id, **record.data}) + "\n")
    index = ["--index-date", omop_fixture.INDEX_DATE.isoformat()]
    ratio = compare_cpu([RLSCHECK, "batch", "--omop", str(cdm), *index, *base], [RLSCHECK, "batch", str(same), *base],
                        runs)
    print(f"{'OMOP CDM of ' + format(people, ',') + ' people  vs  the same as JSONL (CPU)':<58} "
          f"{ratio[0] / ratio[1]:5.2f}  (reported)", flush=True)

    try:
        import pyspark  # noqa: F401
    except ImportError:
        print("Spark: pyspark not installed, skipped")
    else:
        env = dict(os.environ, PYSPARK_PYTHON=PYTHON, PYSPARK_DRIVER_PYTHON=PYTHON)
        speeds = {}
        for master in ("local[1]", "local[2]"):
            done = subprocess.run([PYTHON, "-c", SPARK_RUN, master, str(parquet), str(work / "spark")],
                                  capture_output=True, text=True, env=env)
            lines = done.stdout.strip().splitlines()
            speeds[master] = float(lines[-1]) if done.returncode == 0 and lines else float("nan")
        print(f"{'Spark local[2] vs local[1] throughput':<58} {speeds['local[2]'] / speeds['local[1]']:5.2f}  "
              f"(reported: {speeds['local[2]']:,.0f} vs {speeds['local[1]']:,.0f} records/s)", flush=True)

    for size in ((100_000, 1_000_000) if not quick else (20_000, 200_000)):
        generate_records(records, size)
        jsonl_to_parquet(records, parquet)
        peak = peak_memory_mb([RLSCHECK, "batch", str(parquet), "--jobs", "1", "--quiet", "-o", os.devnull], records)
        print(f"{'batch --jobs 1 peak memory on ' + format(size, ',') + ' Parquet rows (MB)':<58} {peak:5.0f}  "
              f"(target <= 150)  {'ok' if peak <= 150 else 'OVER'}", flush=True)
        rows.append(("parquet peak memory MB", peak / 150, 1.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cohort", action="store_true", help="only the Parquet, OMOP and Spark measurements")
    args = parser.parse_args()
    runs = 9 if args.quick else 61
    batch_runs = 3 if args.quick else 7
    batch_records = 20_000 if args.quick else 200_000
    memory_records = 100_000 if args.quick else 1_000_000
    rows = []

    def report(label, candidate_time, floor_time, target):
        ratio = candidate_time / floor_time
        rows.append((label, ratio, target))
        print(f"{label:<58} {ratio:5.2f}  (target <= {target:.2f})  {'ok' if ratio <= target else 'OVER'}",
              flush=True)

    if args.cohort:
        with tempfile.TemporaryDirectory() as work:
            cohort_benchmarks(work, args.quick, report, rows)
        return 0 if all(ratio <= target for _, ratio, target in rows) else 1
    assess = [RLSCHECK, "assess", "--med", "paroxetine", "--condition", "pregnancy"]
    click_floor = [PYTHON, "-c", "import click"]
    rich_floor = [PYTHON, "-c", "import click, rich.console, rich.table"]
    subprocess.run(assess + ["--format", "json"], capture_output=True)  # build the knowledge-base cache
    report("assess --format json  vs  import click", *compare(assess + ["--format", "json"], click_floor, runs), 1.25)
    report("assess (table)  vs  import click, rich.console, rich.table",
           *compare(assess, rich_floor, runs), 1.25)
    report("--help  vs  import click", *compare([RLSCHECK, "--help"], click_floor, runs), 1.15)
    completion_env = dict(os.environ, _RLSCHECK_COMPLETE="bash_complete", COMP_WORDS="rlscheck assess --med parox",
                          COMP_CWORD="3")
    os.environ.update(completion_env)
    report("completion of --med parox  vs  import click", *compare([RLSCHECK], click_floor, runs), 1.15)
    for key in ("_RLSCHECK_COMPLETE", "COMP_WORDS", "COMP_CWORD"):
        os.environ.pop(key)

    with tempfile.TemporaryDirectory() as work:
        cold_cache(Path(work), assess)
        big = Path(work) / "big.yaml"
        big_knowledge_base(big)
        subprocess.run(assess + ["--format", "json", "--kb", str(big)], capture_output=True)
        report("start-up with a 10x knowledge base  vs  shipped",
               *compare(assess + ["--format", "json", "--kb", str(big)], assess + ["--format", "json"], runs), 1.10)

        records = Path(work) / "records.jsonl"
        generate_records(records, batch_records)
        batch = [RLSCHECK, "batch", str(records), "--quiet"]
        times = {"default": [], "one process": [], "plain": []}
        for _ in range(batch_runs):  # alternating, like the start-up comparisons
            times["default"].append(timed(batch))
            times["one process"].append(timed(batch + ["--jobs", "1"]))
            times["plain"].append(timed([PYTHON, "-c", PLAIN_PASS], records))
        batch_time, one_process, plain = (statistics.median(times[key]) for key in times)
        report(f"batch of {batch_records:,} records  vs  json.loads/dumps pass", batch_time, plain, 3.0)
        from rlscheck.batch.pipeline import default_jobs

        print(f"{'':<58} {batch_records / batch_time:,.0f} records/s with default --jobs "
              f"({default_jobs()} here); --jobs 1: {one_process / plain:.2f}x, {batch_records / one_process:,.0f} "
              "records/s")

        generate_records(records, memory_records)
        peak = peak_memory_mb([RLSCHECK, "batch", "-", "--quiet"], records)
        print(f"{'batch peak memory on ' + format(memory_records, ',') + ' records (MB)':<58} {peak:5.0f}  "
              f"(target <= 150)  {'ok' if peak <= 150 else 'OVER'}")
        rows.append(("peak memory MB", peak / 150, 1.0))

        fhir_exports(Path(work), (10_000, 20_000) if args.quick else (10_000, 100_000), batch_runs, report, rows)
        try:
            import duckdb  # noqa: F401
        except ImportError:
            print("Parquet, OMOP and Spark: DuckDB not installed (rlscheck[parquet]), skipped")
        else:
            cohort_benchmarks(work, args.quick, report, rows)
    return 0 if all(ratio <= target for _, ratio, target in rows) else 1


JSON_LOAD = "import json, sys\njson.load(open(sys.argv[1]))\n"
NDJSON_PASS = ("import json, os, sys\nfor name in sorted(os.listdir(sys.argv[1])):\n"
               "    for line in open(os.path.join(sys.argv[1], name)):\n        json.loads(line)\n")


def cold_cache(work, assess):
    """The first run on a fresh machine: an empty cache store, so the knowledge base, the drug
    vocabulary and the ICD-10-CM tables are indexed once. Reported (no target) as a ratio to the
    same command with a warm cache, and the time of `rlscheck cache build` that does it ahead."""
    first = [RLSCHECK, "assess", "-m", "metformin", "-c", "I50.9", "--format", "json"]
    warm = statistics.median(timed(first) for _ in range(5))
    env = dict(os.environ, RLSCHECK_CACHE_DIR=str(work / "cold"))
    started = time.perf_counter()
    subprocess.run(first, env=env, capture_output=True, check=False)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([RLSCHECK, "cache", "build"], env=dict(env, RLSCHECK_CACHE_DIR=str(work / "built")),
                   capture_output=True, check=False)
    build = time.perf_counter() - started
    print(f"{'first assess on an empty cache  vs  warm (reported)':<58} {cold / warm:5.2f}  "
          f"({cold:.1f} s; `rlscheck cache build` alone {build:.1f} s)")


def fhir_exports(work, sizes, runs, report, rows):
    """A 40,000-resource Bundle through assess, and a generated Bulk Data export (about ten
    resources a patient) through batch, with peak memory at two sizes (patients), both large
    enough that the batch spills lines to disk, so the comparison shows whether memory stays
    flat beyond that point."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import fhirgen

    bundle = work / "bundle-40000.json"
    fhirgen.bundle(bundle, 40_000)
    assess = [RLSCHECK, "assess", "--fhir", str(bundle), "--format", "json"]
    seconds, floor = compare(assess, [PYTHON, "-c", JSON_LOAD, str(bundle)], runs)
    report("assess --fhir 40,000-resource Bundle  vs  json.load", seconds, floor, 8.0)
    print(f"{'':<58} {seconds:.2f} s  (target <= 2.00)  {'ok' if seconds <= 2 else 'OVER'}")
    rows.append(("40,000-resource bundle seconds", seconds / 2, 1.0))

    peaks = {}
    patients = sizes[-1]
    for count in sizes:
        export = work / f"export-{count}"
        fhirgen.bulk_export(export, count)
        command = [RLSCHECK, "batch", str(export), "--quiet", "-o", str(work / "out.jsonl")]
        started = time.perf_counter()
        peaks[count] = peak_memory_mb(command, os.devnull)  # sampled while it runs, so also timed
        seconds = time.perf_counter() - started
        if count == patients:
            floor = timed([PYTHON, "-c", NDJSON_PASS, str(export)])
            report(f"batch of a {count:,}-patient Bulk Data export  vs  json.loads pass", seconds, floor, 12.0)
            print(f"{'':<58} {seconds:.0f} s, {count / seconds:,.0f} patients/s")
    small, large = peaks[sizes[0]], peaks[patients]
    print(f"{'export peak memory, ' + format(patients, ',') + ' vs ' + format(sizes[0], ',') + ' patients':<58} "
          f"{large / small:5.2f}  ({small:.0f} MB, {large:.0f} MB; target <= 1.50)  "
          f"{'ok' if large / small <= 1.5 else 'OVER'}")
    rows.append(("export memory ratio", large / small, 1.5))


if __name__ == "__main__":
    sys.exit(main())
