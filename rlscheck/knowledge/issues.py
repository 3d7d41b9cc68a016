"""A problem found in a knowledge-base file, reported as FILE:LINE:COL: [level] message (check)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    file: str
    line: int
    col: int
    message: str
    check: str
    level: str = "error"
    entry: str = ""

    def format(self) -> str:
        from rlscheck.textsafe import safe

        where = f" [{self.entry}]" if self.entry else ""
        place = f"{safe(self.file)}:{self.line}:{self.col}" if self.line else safe(self.file)  # a whole-file problem
        return f"{place}: [{self.level}] {safe(self.message)}{safe(where)} ({self.check})"
