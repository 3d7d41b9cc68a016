"""JSON output: the document exactly as built, UTF-8, stable key order."""

import json


def render(document) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
