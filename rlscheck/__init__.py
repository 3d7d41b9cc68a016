"""rlscheck: find known secondary causes and aggravators of restless legs syndrome."""

__version__ = "0.1.0"

_API = ("KnowledgeBaseError", "RecordError", "Screener", "assess_record", "load_knowledge_base")
__all__ = ["__version__", *_API]


def __getattr__(name):
    # The API is imported on first use, so the CLI's start-up does not pay for it.
    if name in _API:
        from rlscheck import api

        return getattr(api, name)
    raise AttributeError(f"module 'rlscheck' has no attribute {name!r}")
