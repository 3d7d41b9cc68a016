"""Start-up guards: what each path imports (not timings), and the installed tool running anywhere."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import rlscheck_process


def imported_modules(*args, env=None):
    """Top-level modules a real `rlscheck ARGS` run imports (python -X importtime)."""
    # Run outside the checkout, so `-m rlscheck` imports the installed package, not the sources.
    completed = subprocess.run([sys.executable, "-X", "importtime", "-m", "rlscheck", *args],
                               capture_output=True, text=True, cwd=tempfile.gettempdir(),
                               env=dict(os.environ, **(env or {})))
    names = set()
    for line in completed.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return completed, names


def test_importing_the_cli_loads_neither_rich_nor_yaml():
    code = "import sys, rlscheck.cli; print(sorted({'rich', 'yaml', 'importlib.metadata'} & set(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.stdout.strip() == "[]"


def test_json_path_with_warm_cache_loads_no_yaml_and_no_rich():
    imported_modules("assess", "--med", "paroxetine", "--format", "json")  # warm the cache
    completed, modules = imported_modules("assess", "--med", "paroxetine", "--condition", "pregnancy",
                                          "--format", "json")
    assert completed.returncode == 0
    assert "yaml" not in modules and "rich" not in modules and "rapidfuzz" not in modules
    assert "drug_named_entity_recognition" not in modules and "simple_icd_10_cm" not in modules
    assert "orjson" not in modules and "csv" not in modules  # batch readers and writers only


def test_a_label_line_with_a_warm_cache_loads_no_yaml():
    """The directions vocabulary of medication lines comes from the cache store, not sig.yaml."""
    label = ["assess", "-m", "quetiapine 25 mg at bedtime", "--format", "json"]
    imported_modules(*label)  # warm the cache
    completed, modules = imported_modules(*label)
    assert completed.returncode == 0 and "drug.neuroleptic" in completed.stdout
    assert "yaml" not in modules


def test_help_loads_no_knowledge_base():
    for args in (["--help"], ["assess", "-h"]):
        completed, modules = imported_modules(*args)
        assert completed.returncode == 0 and "Usage:" in completed.stdout
        assert not {"yaml", "rich", "sqlite3", "rapidfuzz"} & modules


def test_installed_console_script_runs_from_any_directory(tmp_path):
    result = rlscheck_process("assess", "-m", "Paxil", "-c", "pregnant", "-f", "json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert b"drug.antidepressant" in result.stdout
    validated = rlscheck_process("kb", "validate", cwd=tmp_path)
    assert validated.exit_code == 0


def test_knowledge_base_and_schema_ship_with_the_package():
    from importlib import resources

    import rlscheck
    from rlscheck.knowledge import shipped_path

    assert Path(shipped_path()).is_file()
    assert resources.files("rlscheck").joinpath("schemas/assess.schema.json").is_file()
    package_dir = Path(rlscheck.__file__).parent
    if "site-packages" in str(package_dir):  # a real (non-editable) install
        assert Path(shipped_path()) == package_dir / "data" / "causes.yaml"
