"""Read knowledge-base YAML safely, keeping the line and column of every key and item.

Only plain data is accepted: no tags or aliases (alias bombs are refused at the first
repeat, before anything is expanded), no duplicate keys.
Scalars keep their text unless they are plainly numbers or true/false, so `no`, `on` and
dates stay strings.
"""

from __future__ import annotations

import os
import re
from typing import Any

from rlscheck.knowledge.issues import Issue

MAX_BYTES = 8 * 1024 * 1024

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\Z")
_NULL = {"", "~", "null", "Null", "NULL"}
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:merge",
    "tag:yaml.org,2002:value",
}


class Located:
    """Mixin: where the node starts, and where each child key or item starts."""

    line = 0
    col = 0

    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[Any, tuple[int, int]] = {}  # key or index -> (line, column)

    def where(self, key: Any = None) -> tuple[int, int]:
        return self.marks.get(key, (self.line, self.col))


class LocDict(Located, dict):
    pass


class LocList(Located, list):
    pass


class _Rejected(Exception):
    def __init__(self, message: str, mark: Any, check: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.check = check


def load_file(path: str | os.PathLike[str]) -> tuple[Any, list[Issue]]:
    """Return (data, issues). data is None when the file could not be read at all."""
    path = str(path)
    if path != "-" and not os.path.exists(path):
        return None, [Issue(path, 0, 0, "file not found", "file-missing")]
    if os.path.isdir(path):
        return None, [Issue(path, 0, 0, "is a directory, not a YAML file", "file-unreadable")]
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            return None, [Issue(path, 0, 0, f"file is {size} bytes; the limit is {MAX_BYTES}", "file-too-large")]
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        return None, [Issue(path, 0, 0, f"cannot read file: {error.strerror or error}", "file-unreadable")]
    return load_bytes(raw, path)


def load_bytes(raw: bytes, path: str = "<string>") -> tuple[Any, list[Issue]]:
    """(data, issues) of YAML bytes, as load_file; path names them in issues."""
    if len(raw) > MAX_BYTES:
        return None, [Issue(path, 0, 0, f"more than {MAX_BYTES} bytes", "file-too-large")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        col = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        return None, [Issue(path, line, col, "file is not valid UTF-8 text", "encoding")]
    if not text.strip():
        return None, [Issue(path, 1, 1, "file is empty", "empty")]
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when available
    loader = None
    try:
        loader = loader_class(text)
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(part for part in (error.context, error.problem) if part)
        return None, [_issue_at(path, mark, message or "invalid YAML", "yaml-syntax")]
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        return None, [Issue(path, line, 1, f"character #x{error.character:04x} is not allowed in YAML", "yaml-syntax")]
    except yaml.YAMLError as error:
        return None, [Issue(path, 0, 0, f"invalid YAML: {error}", "yaml-syntax")]
    except RecursionError:
        return None, [Issue(path, 0, 0, "YAML nested too deeply", "yaml-syntax")]
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        return None, [Issue(path, 1, 1, "file holds no YAML document", "empty")]
    issues: list[Issue] = []
    try:
        data = _construct(node, path, issues, set())
    except _Rejected as error:
        return None, [_issue_at(path, error.mark, str(error), error.check)]
    except RecursionError:
        return None, [Issue(path, 0, 0, "YAML nested too deeply", "yaml-syntax")]
    if data is None and not issues:
        issues.append(Issue(path, 1, 1, "file holds no data", "empty"))
    return data, issues


def _issue_at(path: str, mark: Any, message: str, check: str) -> Issue:
    if mark is None:
        return Issue(path, 0, 0, message, check)
    return Issue(path, mark.line + 1, mark.column + 1, message, check)


def _construct(node: Any, path: str, issues: list[Issue], seen: set[int]) -> Any:
    """Plain data (LocDict, LocList, scalars) from a YAML node; problems are added to issues."""
    import yaml

    result: LocDict | LocList

    if id(node) in seen:  # the composer hands back the very same node for each *name: a repeat is an alias
        raise _Rejected("this anchored node is repeated by an alias (*name); aliases are not allowed",
                        node.start_mark, "alias")
    if not isinstance(node, yaml.ScalarNode):
        seen.add(id(node))
    if node.tag not in _STANDARD_TAGS:
        issues.append(_issue_at(path, node.start_mark, f"tag {node.tag!r} is not allowed", "tag"))
        return None
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    result = LocDict() if isinstance(node, yaml.MappingNode) else LocList()
    result.line, result.col = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(result, LocList):
        for index, item in enumerate(node.value):
            result.marks[index] = (item.start_mark.line + 1, item.start_mark.column + 1)
            result.append(_construct(item, path, issues, seen))
        return result
    for key_node, value_node in node.value:
        key = _construct(key_node, path, issues, seen)
        if not isinstance(key, (str, int)):
            issues.append(_issue_at(path, key_node.start_mark, "mapping keys must be plain text", "type"))
            continue
        if key in result:
            first = result.marks[key]
            issues.append(_issue_at(path, key_node.start_mark,
                                    f"duplicate key {key!r} (first defined at line {first[0]})", "duplicate-key"))
            continue
        result.marks[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        result[key] = _construct(value_node, path, issues, seen)
    return result


def _scalar(node: Any) -> Any:
    value = node.value
    if node.style:  # quoted or block scalars are always text (plain: None, or "" from libyaml)
        return value
    if value in _NULL:
        return None
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    return value
