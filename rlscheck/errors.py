"""Exceptions that carry the exit code the contract gives them."""


class RlsError(Exception):
    exit_code = 1


class UsageError(RlsError):
    """A bad option value or an unrecognized input under --strict."""

    exit_code = 2


class KnowledgeBaseError(RlsError, RuntimeError):
    """A knowledge-base file is missing, unreadable, unsafe or invalid. `issues` lists each
    problem with its file, line and column."""

    exit_code = 3

    def __init__(self, issues):
        self.issues = list(issues)
        super().__init__("\n".join(issue.format() for issue in self.issues))


class RecordError(ValueError):
    """A record (one person's data) cannot be read: an unknown field, a field of the wrong type,
    a lab value that is not a number. The message says which."""
