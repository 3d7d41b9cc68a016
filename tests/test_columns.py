"""COLUMNS: one minimum width for help (click) and reports (Rich); 0 or junk means unset."""

import collections

import pytest

from conftest import rlscheck_process

REPORT = ("assess", "-m", "Paxil", "-c", "pregnant", "--lab", "ferritin=40", "--details")  # the compact view shortens to fit


def letters(text):
    """The report's text without spaces and box drawing: what must survive any width."""
    return collections.Counter(c for c in text if not c.isspace() and not "\u2500" <= c <= "\u257f")


@pytest.fixture(scope="module")
def wide():
    return {args: rlscheck_process(*args, env={"COLUMNS": "200"}).stdout.decode("utf-8")
            for args in (REPORT, ("--help",), ("show", "Paxil"))}


@pytest.mark.parametrize("columns", ["0", "1", "5", "junk", "-3", "", "99999999999999"])
def test_no_width_drops_text(wide, columns):
    for args, expected in wide.items():
        result = rlscheck_process(*args, env={"COLUMNS": columns})
        output = result.stdout.decode("utf-8")
        assert result.exit_code == 0 and output.strip(), (args, columns)
        assert letters(output) == letters(expected), (args, columns)
        borders = [len(line) for line in output.splitlines() if line and line[0] in "┏┌└─"]
        assert all(40 <= width <= 1000 for width in borders), (args, columns, borders)


def test_zero_is_unset_and_a_pipe_gets_eighty_columns():
    unset = rlscheck_process(*REPORT, env={"COLUMNS": ""}).stdout
    assert rlscheck_process(*REPORT, env={"COLUMNS": "0"}).stdout == unset
    borders = [line for line in unset.decode("utf-8").splitlines() if line and line[0] in "┏└─"]
    assert borders and {len(line) for line in borders} == {80}
