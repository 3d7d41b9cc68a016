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


def test_real_bash_completes_a_name_with_spaces_as_one_word():
    """Types `rlscheck assess -f json -m tylenol\\ si<TAB>` into bash in a terminal, runs the
    completed line, and checks the program received the whole name as one argument."""
    pexpect = pytest.importorskip("pexpect")
    if not shutil.which("bash"):
        pytest.skip("bash is not installed")
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), PS1="$ ", TERM="dumb",
               INPUTRC="/dev/null")
    shell = pexpect.spawn("bash", ["--norc", "--noprofile"], env=env, encoding="utf-8", timeout=90,
                          dimensions=(40, 300))
    try:
        shell.sendline('eval "$(rlscheck completion bash)"; echo READY')
        shell.expect("READY")
        shell.send("rlscheck assess -f json -m tylenol\\ si\t")
        time.sleep(2)  # let completion fill in the word before the rest is typed
        shell.send(" | python3 -c 'import json, sys; "
                   "print(\"GOT\", json.load(sys.stdin)[\"findings\"][0][\"matched\"][0][\"input\"] + \"|\")'\n")
        shell.expect(r"GOT ([^|\r\n]*)\|")
        assert shell.match.group(1) == "Tylenol Simply Sleep"
    finally:
        shell.close(force=True)
