"""The public API and the core stages are typed: mypy checks them with untyped definitions disallowed."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TYPED = ["rlscheck/__init__.py", "rlscheck/api.py", "rlscheck/errors.py", "rlscheck/textsafe.py", "rlscheck/model.py",
         "rlscheck/document.py", "rlscheck/rules", "rlscheck/resolve", "rlscheck/render",
         "rlscheck/knowledge"]


def test_public_api_is_mypy_clean():
    pytest.importorskip("mypy")
    completed = subprocess.run([sys.executable, "-m", "mypy", "--disallow-untyped-defs", "--disallow-incomplete-defs",
                                "--follow-imports=silent", "--ignore-missing-imports", *TYPED],
                               cwd=ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
