"""rlscheck: find known secondary causes and aggravators of restless legs syndrome."""

from __future__ import annotations

TYPE_CHECKING = False  # True for type checkers only: `import rlscheck` imports nothing, not even typing
if TYPE_CHECKING:
    from typing import Any

    from rlscheck.api import KnowledgeBaseError, RecordError, Screener, assess_record, load_knowledge_base

__version__ = "0.1.0"

_API = ("KnowledgeBaseError", "RecordError", "Screener", "assess_record", "load_knowledge_base")
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    # The API is imported on first use, so the CLI's start-up does not pay for it.
    if name in _API:
        from rlscheck import api

        return getattr(api, name)
    raise AttributeError(f"module 'rlscheck' has no attribute {name!r}")
