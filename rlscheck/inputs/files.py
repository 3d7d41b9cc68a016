"""Reading a user's file (or standard input) whole, with a size limit."""

import sys

from rlscheck.errors import UsageError
from rlscheck.textsafe import safe


def decode(raw):
    """Text as people export it: UTF-8 (with or without BOM) first, Latin-1 as the fallback."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_bounded(path, limit, what, too_large_hint=""):
    """The bytes of file `path` ('-': standard input), at most `limit` of them; UsageError naming
    `what` ("FHIR file") when it cannot be read or is larger (then adding `too_large_hint`)."""
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(limit + 1)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(limit + 1)
    except OSError as error:
        raise UsageError(f"cannot read {what} '{safe(path)}': {error.strerror or error}") from None
    if len(raw) > limit:
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 * 2 else f"{limit // 1024} KB"
        raise UsageError(f"{what} '{safe(path)}' is larger than {size}{too_large_hint}")
    return raw
