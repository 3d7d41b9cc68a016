"""Exceptions that carry the exit code the contract gives them."""


class RlsError(Exception):
    exit_code = 1


class UsageError(RlsError):
    """A bad option value or an unrecognized input under --strict."""

    exit_code = 2


class KnowledgeBaseError(RlsError):
    """A knowledge-base file is missing, unreadable, unsafe or invalid."""

    exit_code = 3

    def __init__(self, issues):
        self.issues = list(issues)
        super().__init__("\n".join(issue.format() for issue in self.issues))
