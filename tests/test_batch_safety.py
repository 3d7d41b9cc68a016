"""Batch output safety: the input is never overwritten, a stopped run leaves whole lines only,
write failures and closed streams are reported with their documented exit codes, and a line
without end (`/dev/zero`) costs bounded memory."""

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import rlscheck, rlscheck_process

RLSCHECK = str(Path(sys.executable).parent / "rlscheck")
RECORD = {"id": "p1", "meds": ["Paxil", "metformin"], "conditions": ["pregnant"], "labs": {"ferritin": 40}}


def write_records(path, count):
    with open(path, "w") as out:
        for number in range(count):
            out.write(json.dumps(dict(RECORD, id=number, meds=["Paxil", f"drug{number % 300}"])) + "\n")
    return path


def whole_lines(data):
    assert not data or data.endswith(b"\n"), "a cut-off last line"
    return [json.loads(line) for line in data.splitlines()]


@pytest.fixture
def records(tmp_path):
    return write_records(tmp_path / "p.jsonl", 3)


@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path, records, link):
    before = records.read_bytes()
    output = records
    if link == "symlink":
        output = tmp_path / "link.jsonl"
        output.symlink_to(records)
    elif link == "hardlink":
        output = tmp_path / "hard.jsonl"
        os.link(records, output)
    result = rlscheck_process("batch", records, "-o", output)
    assert result.exit_code == 2 and b"same file" in result.stderr
    assert records.read_bytes() == before
    through_link = rlscheck_process("batch", output, "-o", records)
    assert through_link.exit_code == 2 and records.read_bytes() == before


def test_stdin_or_stdout_being_the_input_file_is_refused(records):
    before = records.read_bytes()
    with open(records, "rb") as stdin:
        completed = subprocess.run([RLSCHECK, "batch", "-", "-o", str(records)], stdin=stdin, capture_output=True)
    assert completed.returncode == 2 and records.read_bytes() == before
    with open(records, "ab") as stdout:  # `>> p.jsonl` would read its own output for ever
        completed = subprocess.run([RLSCHECK, "batch", str(records)], stdout=stdout, stderr=subprocess.PIPE)
    assert completed.returncode == 2 and records.read_bytes() == before


def test_output_is_replaced_only_on_success_and_keeps_its_link_and_mode(tmp_path, records):
    target = tmp_path / "results.jsonl"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    result = rlscheck_process("batch", records, "-o", link)
    assert result.exit_code == 0
    assert link.is_symlink() and len(whole_lines(target.read_bytes())) == 3
    assert target.stat().st_mode & 0o777 == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_a_run_stopped_mid_way_leaves_whole_lines_only(tmp_path, how):
    """Repeated with varied timing: a one-in-four race would show within these runs."""
    source = write_records(tmp_path / "many.jsonl", 20_000)
    output = tmp_path / "out.jsonl"
    randomness = random.Random(14)
    for attempt in range(10):
        output.write_bytes(b'{"earlier": "results"}\n')
        process = subprocess.Popen([RLSCHECK, "batch", str(source), "-o", str(output), "--jobs", "2", "-q"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".out.jsonl.*.part")) and process.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)  # until the results are being written
        time.sleep(randomness.uniform(0.0, 1.5))
        if how == "SIGTERM":
            process.send_signal(signal.SIGTERM)
        else:  # Ctrl-C reaches the whole foreground process group
            os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert b"Traceback" not in stderr and process.returncode != 70, stderr
        lines = whole_lines(output.read_bytes())
        assert lines == [{"earlier": "results"}] or len(lines) == 20_000, attempt
        if process.returncode != 0:
            assert process.returncode in (130, 143), (process.returncode, stderr)
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


@pytest.mark.slow
def test_a_killed_worker_is_reported_not_an_internal_error(tmp_path):
    source = write_records(tmp_path / "many.jsonl", 20_000)
    output = tmp_path / "out.jsonl"
    process = subprocess.Popen([RLSCHECK, "batch", str(source), "-o", str(output), "--jobs", "2", "-q"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    workers = []
    while not workers and time.monotonic() < deadline and process.poll() is None:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        workers = children.read_text().split() if children.exists() else []
        time.sleep(0.02)
    if not workers:
        pytest.skip("the run ended before a worker could be seen")
    os.kill(int(workers[0]), signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    if process.returncode != 0:  # it may have finished first
        assert process.returncode == 128 + signal.SIGKILL and b"worker" in stderr, stderr
        assert not output.exists()


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_full_disk_is_reported_with_its_exit_code(tmp_path, jobs):
    source = write_records(tmp_path / "many.jsonl", 5_000)
    result = rlscheck_process("batch", source, "-o", "/dev/full", "--jobs", jobs)
    assert result.exit_code == 5
    assert b"cannot write '/dev/full': No space left on device" in result.stderr
    with open("/dev/full", "wb") as full:
        completed = subprocess.run([RLSCHECK, "batch", str(source), "--jobs", jobs], stdout=full,
                                   stderr=subprocess.PIPE)
    assert completed.returncode == 5 and b"cannot write stdout: No space left on device" in completed.stderr


@pytest.mark.parametrize("args", [["assess", "-m", "Paxil"], ["assess", "-m", "Paxil", "-f", "json"],
                                  ["meds", "-f", "csv"], ["--help"]])
def test_full_disk_on_stdout_is_reported_for_every_command(args):
    with open("/dev/full", "wb") as full:
        completed = subprocess.run([RLSCHECK, *args], stdout=full, stderr=subprocess.PIPE)
    assert completed.returncode == 5
    assert completed.stderr.strip().endswith(b"cannot write stdout: No space left on device")


def shell(command, cwd):
    return subprocess.run(["sh", "-c", command], capture_output=True, cwd=cwd,
                          env=dict(os.environ, RLSCHECK=RLSCHECK))


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("closed", [">&-", "2>&-", ">&- 2>&-"])
def test_closed_stdout_or_stderr_does_not_matter_with_an_output_file(tmp_path, closed, jobs):
    write_records(tmp_path / "many.jsonl", 3_000)
    completed = shell(f'"$RLSCHECK" batch many.jsonl -o out.jsonl --jobs {jobs} {closed}', tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert len(whole_lines((tmp_path / "out.jsonl").read_bytes())) == 3_000


@pytest.mark.parametrize("command", ['"$RLSCHECK" batch p.jsonl', '"$RLSCHECK" assess -m Paxil',
                                     '"$RLSCHECK" assess -m Paxil -f json', '"$RLSCHECK" --help'])
def test_closed_stdout_without_an_output_file_is_one_message_and_exit_5(tmp_path, records, command):
    completed = shell(command + " >&-", tmp_path)
    assert completed.returncode == 5
    assert completed.stderr == b"rlscheck: error: cannot write stdout: stdout is closed\n"
    both = shell(command + " >&- 2>&-", tmp_path)
    assert both.returncode == 5


def test_closed_stderr_loses_only_the_messages(tmp_path, records):
    completed = shell('"$RLSCHECK" batch p.jsonl 2>&-', tmp_path)
    assert completed.returncode == 0 and len(whole_lines(completed.stdout)) == 3
    completed = shell('"$RLSCHECK" assess -m Paxil --lab ferritin=abc 2>&-', tmp_path)
    assert completed.returncode == 2 and completed.stdout == b""


@pytest.mark.slow
def test_an_endless_line_costs_bounded_memory_and_gives_one_error_line(tmp_path):
    output = tmp_path / "out.jsonl"
    process = subprocess.Popen([RLSCHECK, "batch", "/dev/zero", "--jobs", "1"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    first = process.stdout.readline()  # written at once, while the rest of the line is skipped
    assert json.loads(first) == {"id": None, "line": 1, "error": "line is longer than 1048576 bytes"}
    time.sleep(1.5)
    status = Path(f"/proc/{process.pid}/status").read_text()
    peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    process.send_signal(signal.SIGTERM)
    rest, stderr = process.communicate(timeout=30)
    assert peak_kb < 150_000, peak_kb
    assert rest == b"" and process.returncode == 143 and b"interrupted" in stderr
    process = subprocess.Popen([RLSCHECK, "batch", "/dev/zero", "-o", str(output)], stderr=subprocess.PIPE)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 143 and not output.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_over_long_line_then_records(tmp_path, fmt):
    header = b"id,meds\n" if fmt == "csv" else b""
    good = b"after,Paxil\n" if fmt == "csv" else b'{"id": "after", "meds": ["Paxil"]}\n'
    data = header + b"x" * (3 << 20) + b"\n" + good + b"y" * (2 << 20)
    result = rlscheck_process("batch", "-", "--input-format", fmt, input=data)
    lines = whole_lines(result.stdout)
    assert result.exit_code == 4
    assert [line.get("error", "") != "" for line in lines] == [True, False, True]
    assert lines[1]["id"] == "after" and lines[1]["findings"]


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.binary(max_size=60), st.sampled_from([
    b'{"id": 1, "meds": ["Paxil"]}', b"{}", b"\xef\xbb\xbf{}", b"   ", b"\t\r", b"[1]", b'{"meds": "x"}',
    b"z" * 200, b'{"id": "' + b"q" * 150 + b'"}', b"\x00\xff\x80", b"\r"])), max_size=12),
    st.booleans())
def test_any_byte_stream_gives_one_whole_line_per_line(monkeypatch, pieces, final_newline):
    from rlscheck.inputs import batchfiles as readers

    monkeypatch.setattr(readers, "MAX_LINE", 100)  # so that over-long lines are common
    data = b"\n".join(pieces) + (b"\n" if final_newline and pieces else b"")
    result = rlscheck("batch", "-", "--jobs", "1", input=data)
    if result.exit_code == 2:  # a lone '{' or '[' first line opens one indented JSON document: refused whole
        assert "indented JSON document" in result.stderr and not result.stdout
        assert data.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0].rstrip() in (b"{", b"[")
        return
    lines = whole_lines(result.stdout.encode("utf-8") if isinstance(result.stdout, str) else result.stdout)
    expected = [number for number, raw in enumerate(data.split(b"\n"), 1) if raw.strip()]
    assert [line["line"] for line in lines] == expected
    assert result.exit_code in (0, 4)


def test_bounded_reading_keeps_every_short_line():
    from rlscheck.batch.pipeline import lines

    data = b"a\n" + b"b" * 50 + b"\nc" + b"d" * 30
    assert list(lines(io.BytesIO(data), most=10)) == [b"a\n", b"b" * 11, b"c" + b"d" * 10]
    assert list(lines(io.BytesIO(b"short\nlast"), most=10)) == [b"short\n", b"last"]


def test_a_findings_table_written_to_a_device_leaves_the_device_in_place(tmp_path):
    """`-o /dev/null` with a findings table: written through, never replaced by a regular file."""
    pytest.importorskip("duckdb")
    source = write_records(tmp_path / "p.jsonl", 3)
    before = os.stat("/dev/null")
    result = rlscheck_process("batch", source, "--output-format", "findings-csv", "-o", "/dev/null")
    assert result.exit_code == 0, result.stderr
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_rdev, after.st_mode) == (before.st_ino, before.st_rdev, before.st_mode)


def test_assess_output_file_is_written_as_batch_writes_it(tmp_path):
    """`assess -o` keeps a link pointing where it did, a new file's mode follows the umask,
    and a write that fails is exit 5 with the earlier file kept."""
    target = tmp_path / "target.txt"
    target.write_text("earlier\n")
    (tmp_path / "link.txt").symlink_to(target)
    result = rlscheck_process("assess", "-m", "Paxil", "-o", tmp_path / "link.txt")
    assert result.exit_code == 0 and (tmp_path / "link.txt").is_symlink()
    assert "paroxetine" in target.read_text().lower()
    completed = subprocess.run(f'umask 022; "{RLSCHECK}" assess -m Paxil -o new.txt', shell=True, cwd=tmp_path)
    assert completed.returncode == 0 and (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644
    completed = subprocess.run(f"ulimit -f 1; \"{RLSCHECK}\" assess -m Paxil --details -o target.txt", shell=True,
                               cwd=tmp_path, capture_output=True, preexec_fn=lambda: signal.signal(signal.SIGXFSZ,
                                                                                                  signal.SIG_IGN))
    assert completed.returncode == 5, completed.stderr
    assert "paroxetine" in target.read_text().lower() and not list(tmp_path.glob(".*.part"))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_assess_output_to_a_device_writes_to_it_and_never_replaces_it():
    result = rlscheck_process("assess", "-m", "Paxil", "-o", "/dev/full")
    assert result.exit_code == 5 and Path("/dev/full").is_char_device()


def test_assess_refuses_to_write_over_one_of_its_inputs(tmp_path):
    meds = tmp_path / "meds.txt"
    meds.write_text("Zoloft\n")
    result = rlscheck("assess", "--meds-file", meds, "-o", meds)
    assert result.exit_code == 2 and "also an input" in result.stderr and meds.read_text() == "Zoloft\n"


def test_integer_ids_beyond_64_bits_are_kept_exactly(tmp_path):
    source = tmp_path / "big.jsonl"
    source.write_text('{"id": 99999999999999999999, "meds": ["lithium"]}\n{"id": 1.5, "meds": []}\n')
    lines = rlscheck_process("batch", source, "-q").stdout.splitlines()
    assert lines[0].startswith(b'{"id":99999999999999999999,') and json.loads(lines[1])["id"] == 1.5


def test_several_jsonl_or_csv_inputs_are_refused_not_read_as_fhir(tmp_path, records):
    for args in ((records, records), ("--input-format", "jsonl", records, records)):
        result = rlscheck("batch", *args)
        assert result.exit_code == 2 and "Bulk Data" in result.stderr


def test_a_binary_medication_file_is_refused_not_read_as_names(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 4)
    result = rlscheck("assess", "--meds-file", junk)
    assert result.exit_code == 2 and "not text" in result.stderr
