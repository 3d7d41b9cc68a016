"""JSON output: the document exactly as built, UTF-8. Indented for a person at a terminal,
one compact line in a pipe (the same data either way)."""

from __future__ import annotations

import json
import sys
from typing import Any


def render(document: Any, pretty: bool | None = None) -> str:
    if pretty is None:
        pretty = sys.stdout.isatty()
    if pretty:
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
