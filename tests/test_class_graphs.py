"""Class hierarchies: walked without recursion, each class once; `kb validate` refuses
hierarchies deeper or wider than sane, naming FILE:LINE."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import rlscheck
from rlscheck.knowledge import cache
from rlscheck.knowledge import store as kb
from rlscheck.knowledge.validate import MAX_CLASS_DEPTH, MAX_PARENTS

LINKED = {"cause", "cause-class"}


def knowledge_base(parents, linked=(), withdrawal=()):
    """A compiled knowledge base of classes only, straight from {id: [parent ids]}."""
    entries = {}
    for entry_id, ups in parents.items():
        entry = {"id": entry_id, "kind": "class", "name": entry_id, "parents": list(ups)}
        if entry_id in linked:
            entry["relation"] = "cause"
        if entry_id in withdrawal:
            entry["withdrawal"] = {"id": f"{entry_id}.stop"}
        entries[entry_id] = entry
    compiled = {"entries": entries, "sources": {}, "names": {}, "completions": {}, "children": {},
                "icd10": [], "snomed": {}, "disclaimer": "", "primary_rls": ""}
    return kb.KnowledgeBase(cache.Cached("kb", "test", lambda: kb._sections(compiled), store=False))


def all_paths(parents, entry_id):
    """Every way up, listed the slow way: the reference the walks must agree with."""
    ups = [p for p in parents[entry_id] if p in parents]
    return [[entry_id] + path for up in ups for path in all_paths(parents, up)] or [[entry_id]]


def counted(base):
    calls = []
    real = base._ups

    def ups(entry_id):
        calls.append(entry_id)
        return real(entry_id)

    base._ups = ups
    return calls


@st.composite
def graphs(draw, most=40):
    size = draw(st.integers(1, most))
    parents = {}
    for number in range(size):
        earlier = [f"c{n}" for n in range(number)]
        ups = draw(st.lists(st.sampled_from(earlier), max_size=4, unique=True)) if earlier else []
        parents[f"c{number}"] = ups
    linked = draw(st.sets(st.sampled_from(list(parents))))
    withdrawal = draw(st.sets(st.sampled_from(list(parents)), max_size=3))
    return parents, linked, withdrawal


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(graphs())
def test_class_lookups_visit_each_class_once_and_agree_with_every_path(graph):
    parents, linked, withdrawal = graph
    base = knowledge_base(parents, linked, withdrawal)
    for entry_id in parents:
        base._walks.clear()
        calls = counted(base)
        ancestors = base.ancestors(entry_id)
        found = base.topmost(entry_id, lambda entry: entry.get("relation") in LINKED)
        block = base.withdrawal_block(entry_id)
        relation = base.effective_relation(entry_id)
        assert len(calls) <= 3 * len(ancestors) and len(ancestors) <= len(parents)
        del base._ups
        paths = all_paths(parents, entry_id)
        firsts = list(dict.fromkeys(itertools.chain.from_iterable(paths)))
        assert ancestors == firsts  # the same order as listing every path
        expected = {}
        for path in paths:
            tops = [i for i, step in enumerate(path) if step in linked]
            if tops:
                expected.setdefault(path[tops[-1]], path[:tops[-1] + 1])
        assert {target: path for target, path in found} == expected
        stops = [(path[:i + 1], i) for path in paths for i, step in enumerate(path) if step in withdrawal]
        if stops:
            assert (block[1], block[2]) == stops[0]
        else:
            assert block is None
        assert (relation is not None) == any(step in linked for step in firsts)


def test_a_forty_level_diamond_is_walked_in_a_few_steps():
    parents = {"d0a": [], "d0b": []}
    for level in range(1, 41):
        for side in "ab":
            parents[f"d{level}{side}"] = [f"d{level - 1}a", f"d{level - 1}b"]
    base = knowledge_base(parents, linked={"d0a", "d0b"})
    calls = counted(base)
    found = base.topmost("d40a", lambda entry: entry.get("relation") in LINKED)
    assert {target for target, _ in found} == {"d0a", "d0b"}  # 2**40 ways up, two causes
    assert len(calls) <= 3 * 82


def test_a_chain_of_3000_classes_needs_no_recursion():
    parents = {f"c{n}": [f"c{n - 1}"] if n else [] for n in range(3000)}
    base = knowledge_base(parents, linked={"c0"})
    assert len(base.ancestors("c2999")) == 3000
    (target, path), = base.topmost("c2999", lambda entry: entry.get("relation") in LINKED)
    assert target == "c0" and len(path) == 3000


def chain_file(tmp_path, count, cycle=False):
    lines = ["classes:"]
    for n in range(count):
        up = f"drug.k{n - 1}" if n else (f"drug.k{count - 1}" if cycle else "")
        lines.append(f"  - id: drug.k{n}\n    name: kclass{n}" + (f"\n    parents: [{up}]" if up else ""))
    path = tmp_path / "chain.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_validate_refuses_a_deep_chain_with_file_and_line(tmp_path):
    path = chain_file(tmp_path, 3000)
    result = rlscheck("kb", "validate", path)
    assert result.exit_code == 3
    line = 3 * MAX_CLASS_DEPTH + 3  # where the first class too deep lists its parents
    assert f"chain.yaml:{line}:" in result.stdout and "(class-depth)" in result.stdout
    assert "recursion" not in result.stdout + result.stderr
    assessed = rlscheck("assess", "--kb", path, "-m", "kclass2999")
    assert assessed.exit_code == 3 and "class-depth" in assessed.stderr


def test_validate_reports_a_cycle_of_3000_classes(tmp_path):
    result = rlscheck("kb", "validate", chain_file(tmp_path, 3000, cycle=True))
    assert result.exit_code == 3 and "(class-cycle)" in result.stdout


def test_validate_refuses_a_diamond_forty_levels_deep(tmp_path):
    lines = ["classes:", "  - id: drug.d0a\n    name: dclass0a", "  - id: drug.d0b\n    name: dclass0b"]
    for level in range(1, 41):
        for side in "ab":
            lines.append(f"  - id: drug.d{level}{side}\n    name: dclass{level}{side}\n"
                         f"    parents: [drug.d{level - 1}a, drug.d{level - 1}b]")
    path = tmp_path / "diamond.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert len(path.read_bytes()) < 8_000
    result = rlscheck("kb", "validate", path)
    assert result.exit_code == 3 and result.stdout.count("(class-depth)") == 2


def test_validate_refuses_too_many_parents(tmp_path):
    lines = ["classes:"] + [f"  - id: drug.p{n}\n    name: pclass{n}" for n in range(MAX_PARENTS + 1)]
    ups = ", ".join(f"drug.p{n}" for n in range(MAX_PARENTS + 1))
    lines.append(f"  - id: drug.wide\n    name: wideclass\n    parents: [{ups}]")
    path = tmp_path / "wide.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = rlscheck("kb", "validate", path)
    assert result.exit_code == 3 and f"wide.yaml:{2 * (MAX_PARENTS + 1) + 4}:" in result.stdout
    assert "(class-fan-out)" in result.stdout


def test_the_shipped_hierarchy_is_within_the_limits():
    assert rlscheck("kb", "validate").exit_code == 0
