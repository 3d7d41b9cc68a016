"""batch: one output line per non-empty input line, in order; broken records become error lines."""

import io
import json

import pytest

from conftest import rlscheck, rlscheck_process

RECORDS = [
    {"id": "p1", "meds": ["Zoloft 50 mg", "Benadryl"], "labs": {"ferritin": 40, "tsat": "15%"}},
    {"id": "p2", "conditions": ["ESRD"], "labs": {"egfr": 12}},
    {"id": "p3", "meds": ["metformin"]},
    {"id": "p4", "withdrawal": ["oxycodone"], "risks": ["family history"], "substances": ["coffee"]},
]


def lines_of(text):
    return [json.loads(line) for line in text.splitlines()]


def test_jsonl_results_in_order_with_id_and_line(tmp_path):
    source = tmp_path / "people.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    result = rlscheck("batch", source)
    assert result.exit_code == 0
    out = lines_of(result.stdout)
    assert [(o["id"], o["line"]) for o in out] == [("p1", 1), ("p2", 2), ("p3", 3), ("p4", 4)]
    assert {f["id"] for f in out[0]["findings"]} == {"drug.antidepressant", "drug.sedating-antihistamine",
                                                      "lab.iron-deficiency"}
    assert out[2]["findings"] == [] and "disclaimer" not in out[0]
    assert "4 records, 3 with findings, 0 errors" in result.stderr
    assert "it does not diagnose" in result.stderr  # the disclaimer, said once for all the lines


def test_broken_lines_become_error_records_and_exit_4(tmp_path):
    source = tmp_path / "mixed.jsonl"
    content = [
        json.dumps(RECORDS[0]),
        "{not json",
        "",
        "   ",
        "[1, 2, 3]",
        json.dumps({"id": "bad-type", "meds": "Paxil", "conditions": [1, 2]}),
        json.dumps({"id": "bad-lab", "labs": {"ferritin": "abc"}}),
        json.dumps({"id": "typo", "med": ["Paxil"]}),
        json.dumps(RECORDS[1]),
    ]
    source.write_text("\n".join(content))  # no final newline
    result = rlscheck("batch", source)
    assert result.exit_code == 4
    out = lines_of(result.stdout)
    assert [o["line"] for o in out] == [1, 2, 5, 6, 7, 8, 9]
    errors = [o for o in out if "error" in o]
    assert [e["line"] for e in errors] == [2, 5, 6, 7, 8]
    assert errors[2]["id"] == "bad-type" and "conditions" in errors[2]["error"]
    assert "not a number" in errors[3]["error"] and "med" in errors[4]["error"]
    assert out[-1]["id"] == "p2" and out[-1]["findings"]


def test_bom_and_mixed_encodings(tmp_path):
    source = tmp_path / "bom.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + json.dumps(RECORDS[0]).encode() + b"\n"
                       + '{"id": "latin", "conditions": ["Sj\xf6gren syndrome"]}'.encode("latin-1") + b"\n")
    out = lines_of(rlscheck("batch", source).stdout)
    assert out[0]["id"] == "p1"
    assert out[1]["findings"][0]["id"] == "condition.sjogren"


def test_csv_input(tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("id,meds,conditions,labs\n"
                      "a,Zoloft;Benadryl,pregnant,ferritin=40;tsat=15%\n"
                      "b,metformin,,\n"
                      "c,too,many,cells,here\n"
                      "\n"
                      "d,,ESRD,egfr=12\n")
    result = rlscheck("batch", source)
    assert result.exit_code == 4
    out = lines_of(result.stdout)
    assert [o["id"] for o in out] == ["a", "b", "c", "d"]  # a row in error keeps its id
    assert "cells" in out[2]["error"]
    assert {f["id"] for f in out[0]["findings"]} >= {"condition.pregnancy", "lab.iron-deficiency"}


def test_csv_with_unknown_column_fails_before_touching_output(tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("id,medicines\nx,Paxil\n")
    target = tmp_path / "out.jsonl"
    target.write_text("precious\n")
    result = rlscheck("batch", source, "-o", target)
    assert result.exit_code == 2
    assert target.read_text() == "precious\n"
    assert "medicines" in result.stderr


def test_output_file_and_stdin(tmp_path):
    target = tmp_path / "out.jsonl"
    text = "\n".join(json.dumps(r) for r in RECORDS)
    result = rlscheck("batch", "-", "-o", target, "--quiet", input=text)
    assert result.exit_code == 0 and result.stdout == ""
    assert len(target.read_text().splitlines()) == 4


def test_missing_input_does_not_truncate_output(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("keep me\n")
    result = rlscheck("batch", tmp_path / "nope.jsonl", "-o", target)
    assert result.exit_code == 2
    assert target.read_text() == "keep me\n"


@pytest.mark.slow
def test_records_in_equals_records_out_at_scale(tmp_path):
    source = tmp_path / "many.jsonl"
    with open(source, "w") as handle:
        for index in range(20_000):
            record = dict(RECORDS[index % 4], id=f"r{index}")
            handle.write((json.dumps(record) if index % 997 else "{broken") + "\n")
    result = rlscheck_process("batch", source, "--quiet")
    assert result.exit_code == 4
    out = result.stdout.decode().splitlines()
    assert len(out) == 20_000
    assert json.loads(out[-1])["line"] == 20_000


def test_progress_only_on_a_terminal(tmp_path):
    source = tmp_path / "people.jsonl"
    source.write_text("\n".join(json.dumps(dict(RECORDS[0], id=i)) for i in range(2500)))
    piped = rlscheck_process("batch", source)
    assert b"%" not in piped.stderr and piped.stderr.count(b"\n") == 2  # the summary and the disclaimer
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    if shutil.which("script") is None:
        pytest.skip("no `script` to provide a terminal")
    command = f"{Path(sys.executable).parent / 'rlscheck'} batch {source} -o {tmp_path / 'out.jsonl'}"
    on_terminal = subprocess.run(["script", "-qc", command, "/dev/null"], capture_output=True, timeout=120)
    assert b"100% 2,500 records" in on_terminal.stdout and b"40% 1,000 records" in on_terminal.stdout
    quiet = subprocess.run(["script", "-qc", command + " --quiet", "/dev/null"], capture_output=True, timeout=120)
    assert b"%" not in quiet.stdout and b"2500 records" in quiet.stdout


def test_batch_documents_equal_assess_documents(tmp_path):
    people = [
        {"id": "a", "meds": ["Tylenol PM", "Zoloft", "gabapentin", "parxetine"], "conditions": ["diabetes", "E11.42"],
         "labs": {"ferritin": 150}},
        {"id": "b", "meds": ["Zoloft"], "conditions": ["ESRD"], "labs": {"ferritin": 150}, "withdrawal": ["oxycodone"]},
        {"id": "c", "meds": ["Tylenol PM", "metformin"], "substances": ["coffee"], "risks": ["stress"]},
    ]
    source = tmp_path / "people.jsonl"
    source.write_text("\n".join(json.dumps(p) for p in people * 2))
    out = lines_of(rlscheck("batch", source).stdout)
    for person, line in zip(people * 2, out):
        args = [a for m in person.get("meds", []) for a in ("-m", m)]
        args += [a for c in person.get("conditions", []) for a in ("-c", c)]
        args += [a for s in person.get("substances", []) for a in ("-s", s)]
        args += [a for r in person.get("risks", []) for a in ("-r", r)]
        args += [a for w in person.get("withdrawal", []) for a in ("-w", w)]
        args += [a for name, value in person.get("labs", {}).items() for a in ("--lab", f"{name}={value}")]
        expected = rlscheck("assess", *args, "-f", "json").json()
        expected.pop("disclaimer")
        assert {k: v for k, v in line.items() if k not in ("id", "line")} == expected


def _mixed_people(path, count):
    """Many records with repeats, blank lines and unreadable lines, as real exports have."""
    with open(path, "w") as handle:
        for index in range(count):
            if index % 701 == 5:
                handle.write("{not json\n")
            elif index % 499 == 7:
                handle.write("\n")
            else:
                handle.write(json.dumps(dict(RECORDS[index % 4], id=index)) + "\n")


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_worker_processes_give_the_same_bytes_as_one_process(tmp_path, jobs):
    source = tmp_path / "people.jsonl"
    _mixed_people(source, 2_345)  # several blocks for every worker
    alone = rlscheck_process("batch", source, "-j", "1", "-q")
    together = rlscheck_process("batch", source, "-j", jobs, "-q")
    assert alone.exit_code == together.exit_code == 4
    assert together.stdout == alone.stdout and len(alone.stdout.splitlines()) == 2_345 - 5
    assert together.stderr == alone.stderr  # the same summary counts


def test_worker_processes_with_csv_and_an_output_file(tmp_path):
    source = tmp_path / "people.csv"
    rows = ["id,meds,conditions,labs"] + [f'{i},"Zoloft;Benadryl",ESRD,ferritin={40 + i % 300}' for i in range(1_200)]
    source.write_text("\n".join(rows) + "\n")
    alone = rlscheck_process("batch", source, "-j", "1", "-o", tmp_path / "one.jsonl")
    together = rlscheck_process("batch", source, "-j", "2", "-o", tmp_path / "two.jsonl")
    assert alone.exit_code == together.exit_code == 0
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert json.loads((tmp_path / "two.jsonl").read_text().splitlines()[-1])["line"] == 1_201


@pytest.mark.parametrize("arguments", ["batch {source} -j 2", "batch {source} -j 1", "batch - -q < {source}", "meds",
                                       "assess -m Zoloft -c ESRD"])
def test_output_stops_quietly_when_the_reader_goes_away(tmp_path, arguments):
    import subprocess
    import sys
    from pathlib import Path

    source = tmp_path / "people.jsonl"
    _mixed_people(source, 20_000)
    command = f"{Path(sys.executable).parent / 'rlscheck'} {arguments.format(source=source)} | head -n 2"
    finished = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, timeout=60)
    assert finished.returncode == 0 and len(finished.stdout.splitlines()) == 2
    assert b"Traceback" not in finished.stderr and b"error" not in finished.stderr


def test_a_failing_worker_stops_the_run_instead_of_hanging(kb, tmp_path, monkeypatch):
    import os

    from rlscheck.batch import screening as batch
    from rlscheck.batch import pipeline

    parent, working = os.getpid(), batch.Screener.line

    def broken_in_workers(self, record):
        if os.getpid() != parent:
            raise ValueError("boom")
        return working(self, record)

    monkeypatch.setattr(batch.Screener, "line", broken_in_workers)  # the workers are forked with it
    lines = [json.dumps(RECORDS[0]).encode() + b"\n"] * 2_000
    with open(tmp_path / "out.jsonl", "wb") as out, pytest.raises(RuntimeError, match="incomplete"):
        pipeline.run(kb, pipeline.jsonl_blocks(io.BytesIO(b"".join(lines))), out, jobs=2)


def _start_parallel_batch(tmp_path):
    """A two-worker batch on an input large enough to be stopped midway, and its input's path."""
    import subprocess
    import sys
    from pathlib import Path

    source = tmp_path / "people.jsonl"
    _mixed_people(source, 200_000)
    started = subprocess.Popen([str(Path(sys.executable).parent / "rlscheck"), "batch", str(source), "-j", "2",
                                "-o", str(tmp_path / "out.jsonl")], stderr=subprocess.DEVNULL,
                               preexec_fn=_interruptible)
    _wait_for_workers(started)
    return started, source


def _interruptible():
    """Ctrl-C as at a terminal, even when the tests run in the background (which ignores SIGINT)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_workers(process):
    """Until the process has forked its workers (then it is midway), at most 30 s."""
    import subprocess
    import time

    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        if subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True).stdout:
            return
        time.sleep(0.05)
    raise AssertionError("the batch run ended, or started no worker, before it could be stopped midway")


def _processes_reading(source, wait=10.0):
    """Output of pgrep for processes still working on `source`, after waiting up to `wait` s."""
    import subprocess
    import time

    deadline = time.monotonic() + wait
    while True:
        found = subprocess.run(["pgrep", "-f", str(source)], capture_output=True).stdout
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.mark.slow
def test_interrupting_a_parallel_run_ends_every_process(tmp_path):
    import signal

    started, source = _start_parallel_batch(tmp_path)
    started.send_signal(signal.SIGINT)
    assert started.wait(timeout=30) == 130
    assert _processes_reading(source) == b""


def test_lone_surrogates_and_huge_ids_still_give_valid_utf8_lines(tmp_path):
    source = tmp_path / "odd.jsonl"
    source.write_text('{"id": "\\ud800", "meds": ["\\udc00abc"]}\n{"id": 123456789012345678901234567890}\n'
                      '{"id": "a", "\\ud800x": 1}\n{"id": 123456789012345678901234567890, "meds": ["Zoloft"]}\n',
                      encoding="ascii")
    result = rlscheck_process("batch", source, "-q")
    lines = [json.loads(line.decode("utf-8")) for line in result.stdout.splitlines()]  # strict UTF-8
    assert [line["line"] for line in lines] == [1, 2, 3, 4] and lines[0]["id"] == "\ud800"
    assert lines[3]["id"] == 123456789012345678901234567890 and lines[3]["findings"][0]["id"] == "drug.antidepressant"
    assert lines[0]["unrecognized"][0]["input"] == "\\udc00abc" and "unknown field" in lines[2]["error"]


@pytest.mark.slow
def test_workers_end_when_their_parent_is_killed(tmp_path):
    import signal

    started, source = _start_parallel_batch(tmp_path)
    started.send_signal(signal.SIGKILL)
    started.wait(timeout=10)
    assert _processes_reading(source) == b""


def test_a_record_carrying_fhir_in_a_jsonl_file_is_read_as_a_record(tmp_path):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order",
        "medicationCodeableConcept": {"text": "Reglan"}}}]}
    source = tmp_path / "people.jsonl"
    source.write_text(json.dumps({"id": "k", "meds": ["Zoloft"], "fhir": bundle}) + "\n")
    for args in ((source,), ("-",)):
        result = rlscheck("batch", *args, input=source.read_text() if args == ("-",) else None)
        (line,) = [json.loads(text) for text in result.stdout.splitlines()]
        assert result.exit_code == 0 and line["id"] == "k"
        assert {"drug.antidepressant", "drug.dopamine-blocking-antiemetic"} <= {f["id"] for f in line["findings"]}


def test_a_semicolon_csv_keeps_decimal_commas_in_labs(tmp_path):
    source = tmp_path / "export.csv"
    source.write_text("id;meds;labs\na;Zoloft;ferritin=8,5, tsat=12\n")
    result = rlscheck("batch", source)
    (line,) = [json.loads(text) for text in result.stdout.splitlines()]
    assert result.exit_code == 0 and "error" not in line
    (iron,) = [f for f in line["findings"] if f["kind"] == "lab"]
    assert any(m["value"] == 8.5 for m in iron["matched"])
