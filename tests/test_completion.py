"""Shell completion as users meet it: the scripts, the candidates, and real bash completing a
name with spaces in a terminal."""

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from conftest import rlscheck_process


def candidates(line, env=None):
    """What `rlscheck` offers bash for the last word of `line` (click's bash protocol)."""
    words = line.split(" ")
    result = rlscheck_process(env={"_RLSCHECK_COMPLETE": "bash_complete", "COMP_WORDS": line,
                                   "COMP_CWORD": str(len(words) - 1), **(env or {})})
    assert result.exit_code == 0, result.stderr
    return [row.split(",", 1)[1] for row in result.stdout.decode().splitlines() if row.startswith("plain,")]


def test_names_complete_whatever_the_case_typed():
    assert "Tylenol Simply Sleep" in candidates("rlscheck assess -m tylenol")
    assert "paroxetine" in candidates("rlscheck assess --med PAROX")


def test_meds_class_completes_classes_only():
    offered = candidates("rlscheck meds --class be")
    assert "beta blocker" in offered
    assert not [name for name in offered if name.casefold().startswith("benadryl")]  # a brand is no class


def test_lab_completes_lab_names():
    offered = candidates("rlscheck assess --lab fer")
    assert "ferritin=" in offered and all(name.endswith("=") for name in offered)


def test_completion_reads_kb_files_given_earlier_on_the_line(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("drugs:\n  - id: drug.examplamine\n    name: examplamine\n    classes: [drug.ssri]\n"
                     "    relation: cause-class\n    evidence: [CLS]\n    references: [BMJBP]\n"
                     "    brands: [Examplex Night]\n", encoding="utf-8")
    assert "Examplex Night" in candidates(f"rlscheck assess --kb {extra} -m examp")
    assert "Examplex Night" not in candidates("rlscheck assess -m examp")


def test_scripts_quote_names_in_bash_keep_typed_text_in_zsh_and_whole_names_in_fish():
    bash = rlscheck_process("completion", "bash").stdout.decode()
    assert "printf '%q'" in bash and "COMPREPLY+=($value)" not in bash
    zsh = rlscheck_process("completion", "zsh").stdout.decode()
    assert "m:{[:lower:][:upper:]}={[:upper:][:lower:]}" in zsh and " -U" not in zsh
    fish = rlscheck_process("completion", "fish").stdout.decode()
    assert 'string split -m 1 ","' in fish


SHELLS = {  # how to start each shell with rlscheck's completion loaded
    "bash": (["--norc", "--noprofile"], 'PS1="$ "; eval "$(rlscheck completion bash)"; echo READY'),
    "zsh": (["-f"], 'PS1="$ "; autoload -U compinit; compinit -u; eval "$(rlscheck completion zsh)"; echo READY'),
    "fish": (["--no-config"], "function fish_prompt; echo -n '$ '; end; rlscheck completion fish | source; echo READY"),
}
def complete_in(shell, typed, tmp_path, shown):
    """Types `typed` and TAB into a real shell in a terminal, waits until the terminal shows
    one of `shown`, then runs the completed line (an `assess -f json` of one input): the input
    the program received."""
    pexpect = pytest.importorskip("pexpect")
    if not shutil.which(shell):
        pytest.skip(f"{shell} is not installed")
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), TERM="dumb", INPUTRC="/dev/null",
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    arguments, setup = SHELLS[shell]
    terminal = pexpect.spawn(shell, arguments, env=env, encoding="utf-8", timeout=90, dimensions=(40, 300))
    try:
        # A shell discards what is typed while it sets up the terminal for the next line, so
        # each step waits until the shell has gone quiet.
        _settle(terminal, pexpect)
        for _ in range(3):  # typed before the shell was reading, the line may have been discarded
            terminal.sendline(setup)
            if terminal.expect(["\nREADY", pexpect.TIMEOUT], timeout=30) == 0:
                break
        else:
            pytest.fail(f"{shell} did not run its set-up line")
        terminal.expect(r"\$ ")  # the next prompt: the shell reads the next line from here on
        _settle(terminal, pexpect)
        terminal.send(typed + "\t")
        terminal.expect(shown)  # completion has answered (on a busy machine this takes a while)
        _settle(terminal, pexpect)
        terminal.send("\r")
        terminal.expect(r'"input": "([^"]*)"')
        return terminal.match.group(1)
    finally:
        terminal.close(force=True)


def _settle(terminal, pexpect, quiet=1.5, limit=60):
    """Read until the terminal has shown nothing new for `quiet` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            terminal.read_nonblocking(4096, timeout=quiet)
        except pexpect.TIMEOUT:
            return


@pytest.mark.slow
@pytest.mark.parametrize("shell", SHELLS)
def test_real_shells_complete_a_name_with_spaces_as_one_word(shell, tmp_path):
    assert complete_in(shell, "rlscheck assess -f json -m tylenol\\ si", tmp_path, ["Simply"]) == "Tylenol Simply Sleep"


@pytest.mark.slow
@pytest.mark.parametrize("shell", SHELLS)
def test_real_shells_keep_what_was_typed_when_candidates_differ_in_case(shell, tmp_path):
    received = complete_in(shell, "rlscheck assess -f json -m benz", tmp_path,
                           ["\x07", "(?i)benzo"])  # the bell, a candidate or the inserted prefix
    assert received.casefold().startswith("benz")
