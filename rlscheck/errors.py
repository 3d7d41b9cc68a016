"""Exceptions that carry the exit code the contract gives them."""

from typing import Iterable


class RlsError(Exception):
    exit_code: int = 1


class UsageError(RlsError):
    """A bad option value or an unrecognized input under --strict."""

    exit_code = 2


class KnowledgeBaseError(RlsError, RuntimeError):
    """A knowledge-base file is missing, unreadable, unsafe or invalid. `issues` lists each
    problem with its file, line and column."""

    exit_code = 3

    def __init__(self, issues: Iterable) -> None:  # of rlscheck.knowledge.issues.Issue
        self.issues = list(issues)
        super().__init__("\n".join(issue.format() for issue in self.issues))


class RecordError(ValueError):
    """A record (one person's data) cannot be read: an unknown field, a field of the wrong type,
    a lab value that is not a number. The message says which."""


class OutputError(RlsError):
    """The results could not be written: a full disk, an I/O error, a closed stdout."""

    exit_code = 5

    def __init__(self, name: str, error: BaseException) -> None:
        self.name, self.error = name, error
        reason = (error.strerror or str(error)) if isinstance(error, OSError) else str(error)
        super().__init__(f"cannot write {name}: {reason}")


class Interrupted(RlsError):
    """Stopped by a signal (SIGTERM, or a worker process killed): exit 128 + its number."""

    def __init__(self, signal_number: int, what: str = "interrupted") -> None:
        import signal

        self.exit_code = 128 + signal_number
        try:
            name = signal.Signals(signal_number).name
        except ValueError:
            name = f"signal {signal_number}"
        super().__init__(f"{what} ({name})")
