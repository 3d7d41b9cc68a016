"""Knowledge-base files: the shipped one is clean; broken or hostile ones fail fast with FILE:LINE:COL."""

import time

import pytest

from conftest import rlscheck
from rlscheck.knowledge import shipped_path
from rlscheck.knowledge.validate import check_files

GOOD_EXTRA = """
drugs:
  - id: drug.examplamine
    name: examplamine
    classes: [drug.ssri]
    relation: cause-class
    evidence: [CLS]
    references: [BMJBP]
    brands: [Examplex]
"""


def test_shipped_knowledge_base_has_zero_issues():
    _, issues = check_files([shipped_path()])
    assert issues == []
    result = rlscheck("kb", "validate")
    assert result.exit_code == 0 and result.stdout == ""


def test_extra_file_adds_a_drug_with_no_code_change(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text(GOOD_EXTRA)
    assert rlscheck("kb", "validate", extra).exit_code == 0
    result = rlscheck("assess", "--kb", extra, "-m", "Examplex", "-f", "json")
    (finding,) = result.json()["findings"]
    assert finding["id"] == "drug.antidepressant"
    assert finding["matched"][0]["via"] == ["brand of examplamine", "SSRI", "antidepressant"]


def test_extra_file_overrides_a_field(tmp_path):
    extra = tmp_path / "override.yaml"
    extra.write_text("drugs:\n  - id: drug.metformin-example\n    name: metformin\n    classes: [drug.analgesic]\n"
                     "    relation: cause-weak\n    evidence: [CR]\n    references: [HOQUE10]\n"
                     "classes:\n  - id: drug.beta-blocker\n    certainty: probable\n")
    result = rlscheck("assess", "--kb", extra, "-m", "metformin", "-m", "atenolol", "-f", "json")
    assert result.exit_code == 0, result.stderr
    findings = {f["id"]: f for f in result.json()["findings"]}
    assert findings["drug.beta-blocker"]["certainty"] == "weak"  # atenolol itself is cause-weak
    assert "drug.metformin-example" in findings


BROKEN = {
    "duplicate-key": ("drugs:\n  - id: drug.a\n    name: a\n    name: b\n", 4),
    "yaml-syntax": ("drugs:\n  - id: drug.a\n    name: [unclosed\n", 4),
    "tab": ("drugs:\n\t- id: drug.a\n", 2),
    "unknown-field": ("drugs:\n  - id: drug.a\n    name: a\n    relation: cause\n    evidence: [CR]\n"
                      "    references: [HOQUE10]\n    colour: red\n", 7),
    "enum": ("drugs:\n  - id: drug.a\n    name: a\n    relation: sometimes\n    evidence: [CR]\n", 4),
    "type": ("drugs:\n  - id: drug.a\n    name: [a, b]\n    relation: cause\n    evidence: [CR]\n", 3),
    "missing-reference": ("drugs:\n  - id: drug.a\n    name: a\n    classes: [drug.nope]\n    relation: cause\n"
                          "    evidence: [CR]\n    references: [HOQUE10]\n", 4),
    "name-collision": ("drugs:\n  - id: drug.a\n    name: Paxil\n    relation: none\n    evidence: [UNS]\n", 3),
    "class-cycle": ("classes:\n  - id: drug.c1\n    name: c1\n    parents: [drug.c2]\n"
                    "  - id: drug.c2\n    name: c2\n    parents: [drug.c1]\n", 4),
    "duplicate-id": ("conditions:\n  - id: condition.pregnancy\n    name: again\n"
                     "drugs:\n  - id: condition.pregnancy\n    name: x\n    relation: none\n    evidence: [UNS]\n", 5),
    "code-collision": ("drugs:\n  - id: drug.a\n    name: a\n    rxcui: [6915]\n    code_references: [RXNORM]\n"
                       "    relation: none\n    evidence: [UNS]\n", 4),  # metoclopramide's RxCUI
    "code": ("brand_names:\n  - id: brand.a\n    name: Abrand\n    drug: drug.sertraline\n    countries: [GB]\n"
             "    references: [REG-EMC]\n    rxcui: [\"8 2112\"]\n    code_references: [RXNORM]\n", 7),
    "tag": ("drugs: !!python/object/apply:os.system ['echo hacked']\n", 1),
    "alias": ("a: &x [1]\nb: *x\n", 1),
}


@pytest.mark.parametrize("check", sorted(BROKEN))
def test_each_problem_is_reported_with_file_line_and_check(tmp_path, check):
    content, line = BROKEN[check]
    path = tmp_path / f"{check}.yaml"
    path.write_text(content)
    result = rlscheck("kb", "validate", path)
    assert result.exit_code == 3
    lines = [l for l in result.stdout.splitlines() if str(path) in l]
    assert lines, result.stdout
    if check in ("tab", "yaml-syntax"):
        assert any(f"{path}:{line}:" in l for l in lines) or "yaml-syntax" in result.stdout
    else:
        assert any(l.startswith(f"{path}:{line}:") and l.endswith(f"({check})") for l in lines), lines
    assert "hacked" not in result.stdout + result.stderr or check == "tag"


def test_an_rxcui_needs_the_sources_it_was_checked_against(tmp_path):
    path = tmp_path / "codes.yaml"
    path.write_text("products:\n  - id: product.a\n    name: Aproduct\n    ingredients: [drug.sertraline]\n"
                    "    rxcui: [99999991]\n")
    result = rlscheck("kb", "validate", path)
    assert result.exit_code == 3
    assert any(line.startswith(f"{path}:5:") and "code_references" in line and line.endswith("(missing-reference)")
               for line in result.stdout.splitlines()), result.stdout
    path.write_text(path.read_text() + "    code_references: [RXNORM]\n")
    assert rlscheck("kb", "validate", path).exit_code == 0


def test_all_problems_are_reported_not_only_the_first(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(BROKEN["unknown-field"][0] + "  - id: drug.b\n    name: b\n    relation: maybe\n    evidence: [CR]\n")
    result = rlscheck("kb", "validate", path)
    assert result.exit_code == 3
    assert "(unknown-field)" in result.stdout and "(enum)" in result.stdout


@pytest.mark.parametrize("make", ["empty", "directory", "missing", "binary", "latin1", "huge", "bomb"])
def test_hostile_files_rejected_fast_and_shipped_kb_still_usable(tmp_path, make):
    path = tmp_path / "kb.yaml"
    if make == "empty":
        path.write_text("")
    elif make == "directory":
        path.mkdir()
    elif make == "binary":
        path.write_bytes(b"\x00\x01\x02\xff\xfe" * 100)
    elif make == "latin1":
        path.write_bytes("drugs:\n  - id: drug.caf\xe9\n".encode("latin-1"))
    elif make == "huge":
        with open(path, "wb") as handle:
            handle.write(b"# padding\n" * (5 * 1024 * 1024))
    elif make == "bomb":
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
                  for i in range(1, 10)]
        path.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    result = rlscheck("assess", "--kb", path, "-m", "Paxil", "-f", "json")
    assert time.monotonic() - started < 10 or make == "huge"  # generous: an expanded bomb would take far longer
    assert result.exit_code == 3
    assert str(path) in result.stderr and "Traceback" not in result.stderr
    assert rlscheck("assess", "-m", "Paxil", "-f", "json").exit_code == 0


def test_fifty_megabyte_file_rejected_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    started = time.monotonic()
    result = rlscheck("kb", "validate", path)
    # Rejected by its size, unread: parsing 50 MB of YAML would take minutes. The bound is
    # generous because the machine may be busy.
    assert time.monotonic() - started < 15.0
    assert result.exit_code == 3 and "file-too-large" in result.stdout
