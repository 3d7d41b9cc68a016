"""The YAML knowledge base: read safely, validate, compile, cache and query."""

import os


def shipped_path() -> str:
    """data/causes.yaml inside the installed package, or at the top of a source checkout."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the rlscheck package
    installed = os.path.join(here, "data", "causes.yaml")
    checkout = os.path.join(os.path.dirname(here), "data", "causes.yaml")
    return checkout if not os.path.isfile(installed) and os.path.isfile(checkout) else installed
