"""JSON output: the document exactly as built, UTF-8. Indented for a person at a terminal,
one compact line in a pipe (the same data either way).

The text is exactly what `json.dumps(..., ensure_ascii=False)` writes (a property test holds
the two equal); it is made here because importing the json package costs a command more
start-up time than encoding its document."""

import sys

_ESCAPES = {code: f"\\u{code:04x}" for code in range(32)}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t",
                 ord("\b"): "\\b", ord("\f"): "\\f"})
_CONSTANTS = {None: "null", True: "true", False: "false"}
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def render(document, pretty=None) -> str:
    if pretty is None:
        pretty = sys.stdout.isatty()
    return encode(document, indent=2 if pretty else None) + "\n"


def encode(value, indent=None) -> str:
    parts = []
    _encode(value, parts, indent, "\n")
    return "".join(parts)


def _string(text):
    if text.isprintable() and '"' not in text and "\\" not in text:  # the usual case: nothing to escape
        return '"' + text + '"'
    return '"' + text.translate(_ESCAPES) + '"'


def _encode(value, out, indent, newline):
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None or value is True or value is False:
        out.append(_CONSTANTS[value])
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, (list, tuple, dict)):
        if not value:
            out.append("{}" if isinstance(value, dict) else "[]")
            return
        inner = newline + " " * indent if indent else ""
        separator, colon = ("," + inner, ": ") if indent else (",", ":")
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        out.append(opening + inner)
        for position, item in enumerate(value.items() if isinstance(value, dict) else value):
            if position:
                out.append(separator)
            if isinstance(value, dict):
                out.append(_string(_key(item[0])) + colon)
                item = item[1]
            _encode(item, out, indent, inner)
        out.append(newline + closing if indent else closing)
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _float(number):
    text = float.__repr__(number)
    return _NON_FINITE.get(text, text)


def _key(key):
    if isinstance(key, str):
        return key
    if key is None or key is True or key is False:
        return _CONSTANTS[key]
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return _float(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
