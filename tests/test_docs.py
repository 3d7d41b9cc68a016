"""The documentation matches the program: commands, knowledge-base fields, the CI command."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
KB_DOC = (ROOT / "docs" / "knowledge-base.md").read_text()


def test_ci_runs_the_readme_test_command():
    command = "python3 -m venv .venv && .venv/bin/pip install '.[test]' && .venv/bin/pytest"
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text()


def test_readme_mentions_every_command():
    from rlscheck.cli import COMMANDS

    assert "rlscheck kb validate" in README
    for command in COMMANDS:
        assert f"rlscheck {command}" in README, command


def test_readme_documents_every_exit_code():
    for code in range(5):
        assert f"| {code} |" in README


def test_knowledge_base_doc_covers_every_section_and_closed_list():
    from rlscheck.knowledge.schema import CATEGORIES, CERTAINTIES, EVIDENCE, RELATIONS, SECTIONS

    for section in SECTIONS:
        assert f"`{section}`" in KB_DOC
    for value in RELATIONS + CATEGORIES + CERTAINTIES + tuple(EVIDENCE):
        assert f"`{value}`" in KB_DOC, value


def test_every_python_api_example_in_the_readme_runs(capsys):
    section = README.split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "Antidepressants" in printed and "unknown field" in printed
