"""meds, conditions, show, completion, --help and --version as users call them."""

import csv
import io

import pytest

from conftest import rlscheck, rlscheck_process


def test_meds_json_lists_every_linked_medication_with_classes_and_brands(kb):
    result = rlscheck("meds", "--format", "json")
    assert result.exit_code == 0
    medications = {m["name"]: m for m in result.json()["medications"]}
    assert len(medications) >= 100
    assert "Paxil" in medications["paroxetine"]["brands"]
    assert medications["paroxetine"]["classes"] == ["SSRI", "antidepressant"]
    assert medications["lorazepam"]["withdrawal"] == "withdrawal.sedative"
    for excluded in ("bupropion", "loratadine", "ondansetron"):
        assert excluded not in medications
    for treatment in ("gabapentin", "pregabalin"):  # listed only because stopping one is linked
        assert medications[treatment]["relation"] == "treatment"
        assert medications[treatment]["withdrawal"] == "withdrawal.gabapentinoid"


def test_meds_class_filter_and_csv():
    result = rlscheck("meds", "--class", "SSRIs", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    names = {row["name"] for row in rows}
    assert {"fluoxetine", "sertraline", "paroxetine", "citalopram", "escitalopram"} <= names
    assert "venlafaxine" not in names
    antidepressants = {m["name"] for m in rlscheck("meds", "--class", "antidepressant", "-f", "json").json()["medications"]}
    assert {"mirtazapine", "amitriptyline", "venlafaxine"} <= antidepressants and "bupropion" not in antidepressants
    with_all = {m["name"] for m in rlscheck("meds", "--class", "anticonvulsant", "--all", "-f", "json").json()["medications"]}
    assert "gabapentin" in with_all


def test_meds_unknown_class_suggests():
    result = rlscheck("meds", "--class", "betablokers")
    assert result.exit_code == 2 and "beta" in result.stderr


def test_conditions_lists_codes():
    result = rlscheck("conditions", "--format", "json")
    conditions = {c["id"]: c for c in result.json()["conditions"]}
    assert "N18.6" in conditions["condition.dialysis"]["icd10"] and "N18.5" in conditions["condition.kidney-failure"]["icd10"]
    assert conditions["condition.pregnancy"]["certainty"] == "established"
    table = rlscheck("conditions")
    assert "Pregnancy" in table.stdout


@pytest.mark.parametrize("term,expected", [
    ("Benadryl", "drug.diphenhydramine"), ("SSRI", "drug.ssri"), ("ESRD", "condition.dialysis"),
    ("coffee", "substance.caffeine"), ("ferritin", "lab.ferritin"), ("E11.42", "condition.peripheral-neuropathy"),
    ("family history", "risk.family-history"),
])
def test_show_finds_every_kind(term, expected):
    result = rlscheck("show", term, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert expected in {m["id"] for m in result.json()["matches"]}


def test_show_class_lists_members_and_exceptions():
    (record,) = rlscheck("show", "anticonvulsants", "-f", "json").json()["matches"]
    assert "phenytoin" in record["members"]
    assert any(e.startswith("gabapentin ") for e in record["exceptions"])
    table = rlscheck("show", "gabapentin")
    assert table.exit_code == 0 and "treatment" in table.stdout


def test_same_name_means_the_same_thing_everywhere():
    shown = rlscheck("show", "Zoloft", "-f", "json").json()["matches"][0]
    listed = {m["id"] for m in rlscheck("meds", "-f", "json").json()["medications"]}
    assessed = rlscheck("assess", "-m", "Zoloft", "-f", "json").json()["findings"][0]["matched"][0]
    assert shown["id"] == "drug.sertraline" and "drug.sertraline" in listed and assessed["resolved"] == "sertraline"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell):
    result = rlscheck("completion", shell)
    assert result.exit_code == 0 and "_RLSCHECK_COMPLETE" in result.stdout


def test_completion_of_names_with_descriptions():
    result = rlscheck_process("assess", "--med", "parox", env={
        "_RLSCHECK_COMPLETE": "zsh_complete", "COMP_WORDS": "rlscheck assess --med parox", "COMP_CWORD": "3"})
    text = result.stdout.decode()
    assert "paroxetine" in text
    result = rlscheck_process(env={"_RLSCHECK_COMPLETE": "zsh_complete", "COMP_WORDS": "rlscheck assess --med Pax",
                                   "COMP_CWORD": "3"})
    assert "brand of paroxetine" in result.stdout.decode()


COMMANDS = [["assess"], ["meds"], ["conditions"], ["show"], ["batch"], ["kb", "validate"], ["completion"]]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command):
    for flag in ("-h", "--help"):
        result = rlscheck(*command, flag)
        assert result.exit_code == 0
        assert "Usage:" in result.stdout
        assert "Examples:" in result.stdout and "rlscheck " in result.stdout


def test_help_keeps_examples_as_written_and_wraps_the_rest_to_the_terminal():
    import os

    for width in (100, 80, 60):  # click lays help out no narrower than 50 columns
        os.environ["COLUMNS"] = str(width)
        try:
            lines = rlscheck_process("assess", "--help").stdout.decode().splitlines()
        finally:
            del os.environ["COLUMNS"]
        assert "    rlscheck assess --med paroxetine --condition pregnancy" in lines
        examples = [line for line in lines if line.startswith("    rlscheck ")]
        assert len(examples) == 4  # never wrapped, even where longer than the terminal
        assert all(len(line) <= width for line in lines if line not in examples)
        assert any("--fail-on-findings" in line for line in lines)  # an option name stays whole


def test_root_help_lists_each_command_with_its_own_summary():
    import click

    from rlscheck.cli import COMMANDS, cli

    context = click.Context(cli)
    for name, (_, _, summary) in COMMANDS.items():
        assert cli.get_command(context, name).get_short_help_str(limit=1000) == summary
        assert name in rlscheck("--help").stdout


def test_short_and_long_options_mean_the_same_and_values_stay_values():
    long_form = rlscheck("assess", "--med", "-f", "--med", "Paxil", "--format", "json", "--condition", "pregnant")
    short_form = rlscheck("assess", "-m", "-f", "-m", "Paxil", "-f", "json", "-c", "pregnant")
    assert short_form.exit_code == long_form.exit_code == 0
    assert short_form.json() == long_form.json()
    assert [item["input"] for item in short_form.json()["unrecognized"]] == ["-f"]  # a value, though it looks like -f
    attached = rlscheck("assess", "-mPaxil", "-fjson")
    assert attached.json()["findings"] and attached.json()["findings"][0]["matched"][0]["input"] == "Paxil"
    assert rlscheck("-V").stdout == rlscheck("--version").stdout
    unknown = rlscheck("assess", "-V")  # the root's -V is not assess's
    assert unknown.exit_code == 2 and "No such option '-V'" in unknown.stderr
    missing = rlscheck("assess", "-m")
    assert missing.exit_code == 2 and "requires an argument" in missing.stderr


def test_version():
    result = rlscheck("--version")
    from rlscheck import __version__

    assert result.stdout.strip() == f"rlscheck {__version__}"


def test_version_matches_package_metadata():
    from importlib.metadata import version

    from rlscheck import __version__

    assert version("rlscheck") == __version__


def test_python_dash_m():
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", "rlscheck", "--version"], capture_output=True, text=True)
    assert completed.returncode == 0 and "rlscheck" in completed.stdout


@pytest.mark.parametrize("term,first", [("Tylenol PM", "product.tylenol-pm"), ("withdrawal.opioid", "withdrawal.opioid"),
                                        ("ferritin", "lab.ferritin")])
def test_show_products_withdrawal_entries_and_labs(term, first):
    result = rlscheck("show", term, "-f", "json")
    assert result.exit_code == 0, result.stderr
    matches = result.json()["matches"]
    assert matches[0]["id"] == first and len({m["id"] for m in matches}) == len(matches)
    table = rlscheck("show", term, "--color", "never").stdout
    assert "\\x0a" not in table


def test_cache_build_makes_every_index_and_later_runs_do_not_rebuild(tmp_path):
    env = {"RLSCHECK_CACHE_DIR": str(tmp_path)}
    built = rlscheck_process("cache", "build", env=env)
    assert built.exit_code == 0, built.stderr
    for line in (b"knowledge base: ready", b"drug vocabulary: ready", b"ICD-10-CM index: ready",
                 b"medication-line directions: ready"):
        assert line in built.stderr
    assert (tmp_path / "cache.sqlite").is_file()
    store = (tmp_path / "cache.sqlite").stat().st_mtime_ns
    used = rlscheck_process("assess", "-m", "metformin", "-c", "I50.9", "-f", "json", env=env)
    assert used.exit_code == 0 and b"indexing" not in used.stderr
    assert (tmp_path / "cache.sqlite").stat().st_mtime_ns == store  # nothing rebuilt


def test_a_first_run_on_a_terminal_says_what_it_is_indexing(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    import os
    import sys
    from pathlib import Path

    command = str(Path(sys.executable).parent / "rlscheck")
    env = dict(os.environ, RLSCHECK_CACHE_DIR=str(tmp_path))
    terminal = pexpect.spawn(command, ["assess", "-m", "metformin"], env=env, encoding="utf-8", timeout=120)
    terminal.expect(r"indexing the drug vocabulary into the cache, once")
    terminal.expect(r"done in [\d.]+ s")
    terminal.expect(pexpect.EOF)
    piped = rlscheck_process("assess", "-m", "lisinopril", env={"RLSCHECK_CACHE_DIR": str(tmp_path / "other")})
    assert piped.exit_code == 0 and b"indexing" not in piped.stderr  # quiet in a pipe
