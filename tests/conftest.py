import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"
FHIR = FIXTURES / "fhir"


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory):
    """One cache for the whole run: the vocabularies are indexed once."""
    path = tmp_path_factory.mktemp("rlscheck-cache")
    os.environ["RLSCHECK_CACHE_DIR"] = str(path)
    os.environ.pop("NO_COLOR", None)
    os.environ.pop("FORCE_COLOR", None)
    rlscheck("cache", "build")  # the indexes are built once, as `rlscheck cache build` does for a user
    return path


@pytest.fixture(scope="session")
def kb():
    from rlscheck.knowledge import store as knowledge

    return knowledge.load()


class Result:
    def __init__(self, exit_code, stdout, stderr):
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr

    def json(self):
        return json.loads(self.stdout)


def rlscheck(*args, input=None):
    """Run the CLI in-process, as click's test runner does, with stdout and stderr apart."""
    from rlscheck.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def rlscheck_process(*args, input=None, env=None, cwd=None, timeout=120):
    """Run the installed console script as a real subprocess."""
    full_env = dict(os.environ, **(env or {}))
    command = [str(Path(sys.executable).parent / "rlscheck"), *map(str, args)]
    completed = subprocess.run(command, input=input, capture_output=True, env=full_env, cwd=cwd, timeout=timeout)
    return Result(completed.returncode, completed.stdout, completed.stderr)


def assess_json(*args):
    result = rlscheck("assess", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def finding_ids(document):
    return {finding["id"] for finding in document["findings"]}
