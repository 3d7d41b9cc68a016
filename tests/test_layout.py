"""The package's modules import one another without cycles, counting imports made inside
functions too (only imports for type checking are left out): data flows one way."""

import ast
from pathlib import Path

import rlscheck

PACKAGE = Path(rlscheck.__file__).parent


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path, modules):
    """The package's modules that `path` imports, anywhere in it but under `if TYPE_CHECKING:`."""
    found = set()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                found.update(f"{child.module}.{alias.name}" if f"{child.module}.{alias.name}" in modules
                             else child.module for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in found if name in modules and name != "rlscheck"}  # the package root re-exports


def test_no_module_imports_itself_through_others():
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: _imports(path, paths) - {name} for name, path in paths.items()}
    done, on_path = set(), []

    def walk(name):
        if name in on_path:
            raise AssertionError("import cycle: " + " -> ".join(on_path[on_path.index(name):] + [name]))
        if name in done:
            return
        on_path.append(name)
        for imported in sorted(graph[name]):
            walk(imported)
        on_path.pop()
        done.add(name)

    for name in sorted(graph):
        walk(name)
    assert len(graph) > 40  # every module was read
