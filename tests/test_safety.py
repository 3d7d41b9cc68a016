"""Hostile command lines through the real console script: no traceback, literal echo, no raw escapes."""

import json
import re
import time

import pytest

from conftest import rlscheck, rlscheck_process

ESC = b"\x1b"

HOSTILE = [
    # (arguments, expected exit code, text that must appear literally in stdout or stderr)
    (["assess", "-m", "[bold red]boom[/]"], 0, b"[bold red]boom[/]"),
    (["assess", "-m", "[link=https://evil.example]click[/link]"], 0, b"[link=https://evil.example]click[/link]"),
    (["assess", "-m", ":smile: :pile_of_poo:"], 0, b":smile: :pile_of_poo:"),
    (["assess", "-m", "\x1b[31mred\x1b[0m"], 0, b"\\x1b[31mred"),
    (["assess", "-c", "abc\u202edcba"], 0, b"\\u202e"),
    (["assess", "-s", "tab\there\x9bC1"], 0, b"\\x09here\\x9bC1"),
    (["assess", "-m", "[bold]x", "--format", "markdown"], 0, b"\\[bold\\]x"),
    (["assess", "--lab", "ferritin=\x1b[2J"], 2, b"\\x1b[2J"),
    (["assess", "--lab", "[red]=4"], 2, b"[red]"),
    (["show", "[blink]nothing[/blink]"], 2, b"[blink]nothing[/blink]"),
    (["meds", "--class", "\x1b]0;title\x07"], 2, b"\\x1b]0;title\\x07"),
    (["assess", "--format", "yaml"], 2, b"yaml"),
    (["assess", "-m", ""], 0, b"empty input"),
    (["assess", "--fhir", "/nonexistent/file.json"], 2, b"cannot read"),
    (["batch", "/nonexistent/file.jsonl"], 2, b"cannot read"),
    (["assess", "--kb", "/nonexistent/kb.yaml"], 3, b"file not found"),
    (["nonsense-command"], 2, b"nonsense-command"),
]


@pytest.mark.parametrize("args,code,literal", HOSTILE)
def test_hostile_command_lines(args, code, literal):
    result = rlscheck_process(*args, env={"COLUMNS": "250"})
    assert result.exit_code == code, result.stderr
    assert b"Traceback" not in result.stderr
    assert ESC not in result.stdout and ESC not in result.stderr
    assert literal in result.stdout + result.stderr


def test_invalid_utf8_on_the_command_line():
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = str(Path(sys.executable).parent / "rlscheck")
    completed = subprocess.run([script.encode(), b"assess", b"-m", b"caf\xe9\xff", b"-f", b"json"],
                               capture_output=True, env=dict(os.environ, LC_ALL="C.UTF-8"))
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["unrecognized"][0]["input"] == "caf\\xe9\\xff"


def test_json_escapes_control_characters():
    result = rlscheck_process("assess", "-m", "\x1b[31mx", "-f", "json")
    assert ESC not in result.stdout
    assert json.loads(result.stdout)["unrecognized"][0]["input"] == "\x1b[31mx"


@pytest.mark.slow
def test_huge_and_numerous_inputs_are_handled_in_linear_time():
    started = time.monotonic()
    result = rlscheck("assess", "-m", "x" * 100_000, "-c", "y" * 100_000, "-f", "json")
    assert result.exit_code == 0
    assert len(result.json()["unrecognized"]) == 2
    assert time.monotonic() - started < 5
    names = [a for i in range(2000) for a in ("-m", f"unknowndrug{i}")]
    started = time.monotonic()
    result = rlscheck("assess", *names, "-m", "Paxil", "-f", "json")
    assert result.exit_code == 0
    assert len(result.json()["unrecognized"]) == 2000 and result.json()["findings"]
    assert time.monotonic() - started < 30


@pytest.mark.slow
def test_no_color_and_piped_output_have_no_escapes():
    result = rlscheck_process("assess", "-m", "Benadryl", env={"FORCE_COLOR": ""})
    assert ESC not in result.stdout
    coloured = rlscheck_process("assess", "-m", "Benadryl", "--color", "always")
    assert ESC in coloured.stdout
    plain = rlscheck_process("assess", "-m", "Benadryl", "--color", "always", env={"NO_COLOR": "1"})
    assert not re.search(rb"\x1b\[[0-9;]*(3[0-7]|38;[25])[;m]", plain.stdout)  # styles, but no colours


def test_markdown_report_cannot_be_restructured_by_input():
    result = rlscheck("assess", "-m", "# Heading", "-c", "- item <script>", "--format", "markdown")
    lines = result.stdout.splitlines()
    assert not any(line.startswith("# Heading") or line.startswith("- item") for line in lines)
    assert "<script>" not in result.stdout and "\\<script\\>" in result.stdout
