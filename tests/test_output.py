"""What a person sees at a terminal: screenshots-as-text of the main screens at 60, 80 and 120
columns, compared with the golden files in tests/golden/.

When a change of wording or layout is intended, regenerate the golden files with one command
and review the diff before committing:

    RLSCHECK_REGENERATE_GOLDEN=1 .venv/bin/pytest -q tests/test_output.py
"""

import io
import os
import re
from pathlib import Path

import pytest

from conftest import assess_json, rlscheck

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = bool(os.environ.get("RLSCHECK_REGENERATE_GOLDEN"))
WIDTHS = (60, 80, 120)

DESIGN_CARD = ["assess", "--med", "paroxetine", "--condition", "pregnancy"]
# 15 drugs, 3 ICD-10-CM codes, 3 labs.
REVIEW = ["assess", *[arg for med in ("sertraline", "Benadryl", "Tylenol PM", "metoclopramide", "haloperidol",
                                      "lithium", "metoprolol", "diphenhydramine", "Zyrtec", "loratadine",
                                      "metformin", "lisinopril", "Lipitor", "gabapentin", "tramadol")
                      for arg in ("-m", med)],
          "-c", "N18.4", "-c", "E11.42", "-c", "D50.9", "--lab", "egfr=25", "--lab", "ferritin=40",
          "--lab", "tsat=15%"]
SCREENS = {"design-card": DESIGN_CARD, "design-card-details": DESIGN_CARD + ["--details"], "review": REVIEW,
           "meds": ["meds"]}


def screenshot(monkeypatch, args, width):
    """The command's table output as Rich records it: Console(record=True, width=width)."""
    from rich.console import Console

    import rlscheck.render.console as consoles

    made = []

    def recording_console(color="auto", stderr=False, file=None, width_=None, **_):
        console = Console(record=True, width=width, file=io.StringIO(), color_system=None, markup=False,
                          highlight=False, emoji=False)
        made.append(console)
        return console

    monkeypatch.setattr(consoles, "make_console", recording_console)
    result = rlscheck(*args)
    assert result.exit_code == 0, result.stderr
    return "".join(console.export_text() for console in made)


def _words(screen):
    return re.findall(r"\w+", screen.casefold())


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", SCREENS)
def test_screens_match_their_golden_files_and_split_no_word(monkeypatch, name, width):
    screen = screenshot(monkeypatch, SCREENS[name], width)
    golden = GOLDEN / f"{name}-{width}.txt"
    if REGENERATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(screen, encoding="utf-8")
    assert screen == golden.read_text(encoding="utf-8"), f"{golden.name} differs; see this module's docstring"
    # Every word on the narrow screen is a whole word of the same screen laid out without wrapping.
    whole = set(_words(screenshot(monkeypatch, SCREENS[name], 1000)))
    split = [word for word in _words(screen) if word not in whole]
    assert not split, f"words split at {width} columns: {split[:10]}"
    # Lines fit the width, except URLs, which are printed whole so they can be clicked or copied.
    for line in screen.splitlines():
        assert len(line.rstrip()) <= width or re.fullmatch(r"\s*https?://\S+", line), line


@pytest.mark.parametrize("args", [["conditions", "--all"], ["show", "SSRI"], ["show", "ferritin"],
                                  ["assess", "-m", "Benadryl", "--details"]])
@pytest.mark.parametrize("width", [40, 60])
def test_narrow_terminals_split_no_word(monkeypatch, args, width):
    whole = set(_words(screenshot(monkeypatch, args, 1000)))
    screen = screenshot(monkeypatch, args, width)
    assert not [word for word in _words(screen) if word not in whole]


def test_compact_review_of_15_drugs_3_codes_and_3_labs_fits_one_screen(monkeypatch):
    screen = screenshot(monkeypatch, REVIEW, 80)
    assert len(screen.splitlines()) <= 50
    for name in ("sertraline", "Tylenol PM", "metoclopramide", "haloperidol", "lithium", "metoprolol", "Zyrtec",
                 "loratadine", "metformin", "lisinopril", "Lipitor", "gabapentin", "tramadol", "N18.4", "E11.42",
                 "D50.9", "egfr=25", "ferritin=40", "tsat=15%"):
        assert name.casefold() in screen.casefold()  # every input is named on the screen
    assert "Benadryl, Tylenol PM, diphenhydramine → diphenhydramine" in " ".join(screen.split())


def test_one_cause_found_by_a_code_and_a_lab_is_one_finding():
    document = assess_json("-c", "N18.4", "--lab", "egfr=25", "-c", "D50.9", "--lab", "ferritin=40")
    by_id = {finding["id"]: finding for finding in document["findings"]}
    assert set(by_id) == {"condition.ckd-severe", "condition.iron-deficiency"}
    kidney = by_id["condition.ckd-severe"]
    assert [(m["input"], m.get("kind")) for m in kidney["matched"]] == [("N18.4", None), ("egfr=25", "lab")]
    assert {"KDIGO12"} <= {ref["id"] for ref in kidney["references"]}
    assert document["summary"].startswith("2 ")
    import json
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("rlscheck").joinpath("schemas/assess.schema.json").read_text())
    jsonschema.validate(document, schema)
    # A lab alone still makes its own finding.
    assert [f["id"] for f in assess_json("--lab", "egfr=25")["findings"]] == ["lab.kidney-severe"]


def test_details_print_a_shared_paragraph_once_and_every_url_whole(monkeypatch):
    screen = screenshot(monkeypatch, ["assess", "-m", "Benadryl", "-m", "Tylenol PM", "-m", "Unisom",
                                      "--details"], 60)
    finding = assess_json("-m", "Benadryl")["findings"][0]
    shared = finding["matched"][0]["detail"].split(";")[0][:40]  # the diphenhydramine paragraph
    assert screen.count(shared) == 1
    urls = [ref["url"] for ref in finding["references"] if ref.get("url")]
    lines = [line.strip() for line in screen.splitlines()]
    assert urls and all(url in lines for url in urls)
    assert re.search(r"Sources: (\[\d+\] ?)+$", screen, re.M)


def test_markdown_prints_a_repeated_paragraph_once_and_numbers_its_references():
    report = rlscheck("assess", "-m", "lithium", "-m", "tramadol", "-m", "Benadryl", "-m", "Tylenol PM",
                      "-f", "markdown").stdout
    assert report.count("Ask the prescriber whether this medicine could be contributing") == 1
    shared = assess_json("-m", "Benadryl")["findings"][0]["matched"][0]["detail"].split(";")[0][:40]
    assert "*as ¶1 above*" in report and report.count(shared) == 1
    assert "## References" in report and "\n1. [" in report


def test_references_are_hyperlinks_on_a_terminal_and_plain_urls_in_a_pipe():
    url = next(ref["url"] for ref in assess_json("-m", "Benadryl")["findings"][0]["references"] if ref.get("url"))
    terminal = rlscheck("assess", "-m", "Benadryl", "--details", "--color", "always").stdout
    assert "\x1b]8;id=" in terminal and f";{url}\x1b\\" in terminal  # OSC 8, and the URL printed whole
    piped = rlscheck("assess", "-m", "Benadryl", "--details").stdout
    assert "\x1b" not in piped and f"    {url}\n" in piped


def test_colour_follows_meaning_and_is_never_alone():
    causes = rlscheck("assess", "-m", "paroxetine", "-c", "pregnancy", "-m", "metoprolol", "--color", "always").stdout
    assert "\x1b[1;31mestablished" in causes and "\x1b[31mprobable" in causes  # red: a likely cause
    assert "\x1b[2mweak" in causes  # dim: weak evidence
    assert "\x1b[32m" not in causes.split("Also worth knowing")[0]  # no green on a cause
    treatment = rlscheck("assess", "-m", "gabapentin", "--color", "always").stdout
    assert "\x1b[1;32mgabapentin" in treatment  # green: a treatment
    plain = rlscheck("assess", "-m", "paroxetine", "--color", "never").stdout
    assert "\x1b[" not in plain and "probable" in plain  # the certainty is written out


def test_isolated_reports_are_rendered_when_the_document_has_them():
    from rich.console import Console

    from rlscheck.render import table

    document = assess_json("-m", "paroxetine")
    document["isolated_reports"] = [{"input": "examplol", "resolved": "examplol", "text": "One case report."}]
    for details in (False, True):
        console = Console(record=True, width=80, file=io.StringIO())
        table.render(document, console, details)
        screen = console.export_text()
        assert "Isolated reports" in screen and "examplol" in screen and "One case report." in screen


def test_inputs_not_covered_by_the_knowledge_base_are_named_apart():
    from rich.console import Console

    from rlscheck.render import table

    document = assess_json("-m", "metformin")
    document["not_linked"] = [
        {"input": "examplamine", "kind": "medication", "resolved": "examplamine", "covered": True},
        {"input": "examplumab", "kind": "medication", "resolved": "examplumab", "covered": False}]
    console = Console(record=True, width=80, file=io.StringIO())
    table.render(document, console)
    screen = console.export_text()
    assert "Not linked to RLS: examplamine" in screen
    assert "Not checked: no source in rlscheck's knowledge base covers it: examplumab" in screen


@pytest.mark.parametrize("output_format", ["table", "json", "markdown"])
def test_assess_writes_every_format_to_a_file_whole(tmp_path, output_format):
    target = tmp_path / "report.out"
    result = rlscheck("assess", "-m", "Paxil", "-f", output_format, "-o", target, "--details")
    assert result.exit_code == 0 and result.stdout == ""
    written = target.read_text(encoding="utf-8")
    assert "paroxetine" in written and "\x1b[" not in written
    assert [path.name for path in tmp_path.iterdir()] == ["report.out"]  # no temporary file left
    # A usage error stops the run before the file is touched.
    failed = rlscheck("assess", "-m", "Paxil", "--lab", "ferritin=abc", "-o", target)
    assert failed.exit_code == 2 and target.read_text(encoding="utf-8") == written


def test_assess_output_to_a_missing_folder_is_a_usage_error(tmp_path):
    result = rlscheck("assess", "-m", "Paxil", "-o", tmp_path / "missing" / "report.md")
    assert result.exit_code == 2 and "report.md" in result.stderr


@pytest.mark.parametrize("args", [[], ["kb"], ["completion"]])
def test_no_argument_invocations_show_the_ordinary_help(args):
    result = rlscheck(*args)
    assert "Usage: " in result.stderr + result.stdout
    assert "\\x0a" not in result.stderr and "\nOptions:\n" in result.stderr + result.stdout


@pytest.mark.parametrize("command", ["", "assess", "meds", "conditions", "show", "batch", "kb", "kb validate",
                                     "completion"])
def test_every_help_fits_80_columns(command):
    result = rlscheck(*command.split(), "--help")
    assert result.exit_code == 0
    assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout


def test_a_missing_option_value_names_the_option_typed_and_shows_usage():
    result = rlscheck("assess", "-m")
    assert result.exit_code == 2
    assert "assess [OPTIONS]" in result.stderr and "'-m'" in result.stderr and "--med" not in result.stderr


def test_conditions_table_names_the_code_system(monkeypatch):
    screen = screenshot(monkeypatch, ["conditions"], 100)
    assert "ICD-10-CM" in screen and "Icd10" not in screen


def test_listings_go_through_a_pager_on_a_terminal_only(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    import sys

    paged = tmp_path / "paged.txt"
    command = str(Path(sys.executable).parent / "rlscheck")
    env = dict(os.environ, PAGER=f"cat > {paged}", COLUMNS="80", TERM="xterm")
    child = pexpect.spawn(command, ["show", "SSRI"], env=env, timeout=60)
    child.expect(pexpect.EOF)
    assert "Selective serotonin" in paged.read_text() or "SSRI" in paged.read_text()
    paged.unlink()
    child = pexpect.spawn(command, ["show", "SSRI", "--no-pager"], env=env, timeout=60)
    child.expect(pexpect.EOF)
    assert b"SSRI" in child.before and not paged.exists()
    piped = rlscheck("meds", "--class", "SSRI")  # not a terminal: printed straight out
    assert "paroxetine" in piped.stdout and not paged.exists()


def test_meds_says_why_a_treatment_is_listed(monkeypatch):
    screen = screenshot(monkeypatch, ["meds", "--class", "opioid"], 100)
    assert "treatment, withdrawal" in screen


def test_kb_validate_reports_in_line_order_and_a_missing_file_without_a_position(tmp_path):
    from conftest import rlscheck as run

    broken = tmp_path / "broken.yaml"
    broken.write_text("drugs:\n  - id: drug.a\n    name: a\n  - id: drug.b\n    name: b\n"
                      "    relation: nonsense\n", encoding="utf-8")
    result = run("kb", "validate", "--standalone", broken, tmp_path / "missing.yaml")
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    positions = [tuple(map(int, line.split(":")[1:3])) for line in lines if line.startswith(str(broken) + ":")]
    assert len(positions) > 1 and positions == sorted(positions)
    assert f"{tmp_path / 'missing.yaml'}: [error]" in result.stdout and ":0:0" not in result.stdout
