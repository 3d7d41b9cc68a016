"""Make user text safe to print: control, bidi and undecodable characters become visible escapes."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, bidirectional overrides/isolates/marks, lone surrogates from bad UTF-8.
# A string, compiled by re on first use: the JSON path never needs it.
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufeff]"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape of an undecodable byte
        return "\\x%02x" % (code - 0xDC00)
    if code <= 0xFF:
        return "\\x%02x" % code
    return "\\u%04x" % code


def safe(text: object) -> str:
    """Return text with every unsafe character shown as an escape sequence."""
    text = str(text)
    if text.isprintable():  # every unsafe character is unprintable: nothing to escape, nothing to compile
        return text
    return re.sub(_UNSAFE, _escape, text)


def clean_input(text: object) -> str:
    """User input as recorded in reports: trimmed, with undecodable bytes made visible."""
    text = str(text).strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = re.sub("[\ud800-\udfff]", _escape, text)
    return text
