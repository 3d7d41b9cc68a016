"""Property tests: parsers return a result or rlscheck's own error, never anything else, and
fast paths made by hand equal what they stand for."""

import io
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rlscheck as rlscheck_api
from rlscheck import textsafe
from rlscheck.batch import screening as batch
from rlscheck.inputs import batchfiles as readers
from rlscheck.inputs.records import Record, record_inputs
from rlscheck.inputs import fhir
from rlscheck.model import Input
from rlscheck.rules.engine import assess
from rlscheck.errors import UsageError
from rlscheck.knowledge.yamlsafe import load_bytes
from rlscheck.resolve.names import Resolver
from rlscheck.resolve.normalize import icd10_code, medication_keys, name_key
from rlscheck.resolve.labs import parse_lab

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@SETTINGS
@given(st.text(max_size=300))
def test_name_key_is_idempotent_and_plain(text):
    key = name_key(text)
    assert name_key(key) == key
    assert key == key.strip() and "  " not in key
    for candidate in medication_keys(text):
        assert candidate and candidate == name_key(candidate)


def regex_name_key(text):
    """The definition name_key implements with str methods: fold, drop apostrophes, and keep
    words of letters, digits and % separated by single spaces."""
    import unicodedata

    text = "".join(c for c in unicodedata.normalize("NFKD", str(text)) if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w%]+", " ", re.sub("['\u2019\u02bc`]", "", text)).replace("_", " ")
    return re.sub(r"\s+", " ", text).strip()


@SETTINGS
@given(st.text(max_size=80) | st.text(alphabet="ab _%'`\u2019\u00e9\u00df\u00b2\u2028\t-", max_size=30))
def test_name_key_matches_its_definition(text):
    assert name_key(text) == regex_name_key(text)


@SETTINGS
@given(st.text(max_size=40) | st.text(alphabet="a \n\x1b\x85\u061c\u200e\u202e\u2066\udc80\ufeff\u00a0", max_size=10))
def test_safe_text_escapes_exactly_the_unsafe_characters(text):
    assert textsafe.safe(text) == re.sub(textsafe._UNSAFE, textsafe._escape, text)


@SETTINGS
@given(st.text(max_size=20))
def test_icd10_code_shape(text):
    code = icd10_code(text)
    assert code is None or (code[0].isalpha() and code == code.upper())


@SETTINGS
@given(st.text(max_size=60), st.text(max_size=40))
def test_lab_parser_result_or_usage_error(kb, name, value):
    try:
        lab = parse_lab(kb, f"{name}={value}")
    except UsageError:
        return
    assert lab.value >= 0 and lab.lab_id.startswith("lab.")


@SETTINGS
@given(st.binary(max_size=400))
def test_yaml_loader_never_raises(raw):
    data, issues = load_bytes(raw, "fuzz.yaml")
    assert data is not None or issues
    for issue in issues:
        assert issue.file == "fuzz.yaml" and issue.format().startswith("fuzz.yaml:")


@SETTINGS
@given(st.text(alphabet=" abc:-[]{}&*!|>'\"#\n\t0123", max_size=200))
def test_yaml_loader_on_yamlish_text(text):
    data, issues = load_bytes(text.encode(), "fuzz.yaml")
    assert data is not None or issues


@pytest.mark.slow
@SETTINGS
@given(st.lists(st.binary(max_size=80) | json_values.map(lambda v: json.dumps(v).encode()), max_size=8))
def test_batch_reader_keeps_every_non_empty_line(kb, lines):
    raw = b"\n".join(line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines)
    records = list(readers.read_jsonl(io.BytesIO(raw)))
    non_empty = [line for line in raw.split(b"\n") if line.strip()]
    screener = batch.Screener(kb)
    out = [screener.line(record) for record in records]
    assert len(records) == len(non_empty) == len(out)
    for text, _, _ in out:
        assert "line" in json.loads(text)


@SETTINGS
@given(json_values)
def test_fhir_reader_result_or_usage_error(kb, document):
    try:
        inputs = fhir.extract(None, [(document, "FHIR")]).inputs
    except UsageError:
        return
    assess(kb, inputs)


@pytest.mark.slow
@SETTINGS
@given(st.dictionaries(st.sampled_from(["resourceType", "status", "medicationCodeableConcept", "code",
                                        "clinicalStatus", "entry", "contained", "medicationReference"]),
                       json_values, max_size=6))
def test_fhir_like_resources(kb, resource):
    resource.setdefault("resourceType", "MedicationRequest")
    try:
        inputs = fhir.extract(None, [(resource, "FHIR")]).inputs
    except UsageError:
        return
    assess(kb, inputs)


@pytest.mark.slow
@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["medication", "withdrawal", "condition", "substance", "risk-factor"]),
                          st.text(max_size=40)), max_size=6))
def test_any_inputs_are_all_accounted_for(kb, pairs):
    inputs = [Input(kind, text.strip()) for kind, text in pairs]
    document = assess(kb, inputs, resolver=Resolver(kb))
    seen = [m["input"] for f in document["findings"] for m in f["matched"]]
    for section in ("isolated_reports", "notes", "not_linked", "unrecognized"):
        seen += [item["input"] for item in document[section]]
    for inp in inputs:
        assert inp.text in seen


# Inputs whose contributions interact: shared findings, a finding that folds into a stronger
# one, labs graded by a condition, checks fired or silenced by labs, repeats and unknowns.
POOL = {
    "meds": st.sampled_from(["Zoloft", "sertraline 50 mg", "Paxil CR", "Benadryl", "Tylenol PM", "diphenhydramine",
                             "gabapentin", "metformin", "parxetine", "", "lithium", "haloperidol", "tramadol",
                             "bupropion", "NyQuil", "loratadine", "nitrofurantoin", "valproate"]),
    "conditions": st.sampled_from(["diabetes", "E11.42", "peripheral neuropathy", "ESRD", "pregnancy", "anemia",
                                   "D50.9", "chronic kidney disease", "N18.6", "O09.90", "hypertension", "Z99",
                                   "dialysis", "fibromyalgia", "D63.1"]),
    "substances": st.sampled_from(["coffee", "alcohol", "smoking", "tea"]),
    "withdrawal": st.sampled_from(["oxycodone", "paroxetine", "clonazepam", "metformin"]),
    "risks": st.sampled_from(["stress", "family history", "sleep deprivation"]),
}
LAB_POOL = st.sampled_from(["ferritin=40", "ferritin=150", "ferritin=250", "ferritin=80", "egfr=10", "egfr=50",
                            "tsat=15%", "tsat=30%", "tsat=50%", "ferritin=190", "b12=150", "b12=250 pg/mL", "hemoglobin=10", "magnesium=1.2"])
records = st.fixed_dictionaries({}, optional={
    **{field: st.lists(values, max_size=4) for field, values in POOL.items()},
    "labs": st.lists(LAB_POOL, max_size=3, unique_by=lambda lab: lab.split("=")[0]),
    "trimester": st.sampled_from([1, 2, 3]),
})
SCREENER = {}


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records, min_size=1, max_size=5))
def test_batch_lines_equal_assess_documents(kb, people):
    """Batch shares each input's contribution between records; no record may see another's."""
    screener = SCREENER.setdefault("shared", batch.Screener(kb))  # shared across examples on purpose
    for number, person in enumerate(people, start=1):
        inputs, labs, trimester = record_inputs(kb, dict(person))
        expected = assess(kb, inputs, labs, trimester)
        expected.pop("disclaimer")
        text, had_findings, was_error = screener.line(Record(number, dict(person), "", f"p{number}"))
        line = json.loads(text)
        assert (line.pop("id"), line.pop("line")) == (f"p{number}", number)
        assert line == json.loads(json.dumps(expected)) and had_findings == bool(expected["findings"])
        assert not was_error
        api_document = SCREENER.setdefault("api", rlscheck_api.Screener(kb)).assess(dict(person))
        api_document.pop("disclaimer")
        assert json.loads(json.dumps(api_document)) == json.loads(json.dumps(expected))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records)
def test_the_cli_gives_the_api_document(kb, person):
    """`rlscheck assess` with the same inputs as options gives the document the API gives."""
    args = [arg for field, option in (("meds", "-m"), ("conditions", "-c"), ("substances", "-s"),
                                      ("withdrawal", "-w"), ("risks", "-r"), ("labs", "--lab"))
            for value in person.get(field, []) for arg in (option, value)]
    if "trimester" in person:
        args += ["--trimester", str(person["trimester"])]
    if not args:
        return
    from conftest import rlscheck

    cli = rlscheck("assess", *args, "--format", "json")
    assert cli.exit_code == 0, cli.stderr
    document = rlscheck_api.assess_record(dict(person), kb=kb)
    for field in ("findings", "isolated_reports", "unrecognized", "check_next"):
        assert cli.json()[field] == json.loads(json.dumps(document[field])), field
    assert {finding["id"] for finding in cli.json()["findings"]} == {finding["id"] for finding in document["findings"]}


@SETTINGS
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"") + b"\n"), max_size=60),
       st.integers(1, 7), st.integers(1, 200))
def test_jsonl_blocks_keep_every_line_and_its_number(lines, size, most_bytes):
    from rlscheck.batch import pipeline

    blocks = list(pipeline.jsonl_blocks(io.BytesIO(b"".join(lines)), size, most_bytes))
    assert [line for _, block in blocks for line in block] == lines
    assert all(0 < len(block) <= size for _, block in blocks)
    starts = [start for start, _ in blocks]
    assert starts == [1 + sum(len(block) for _, block in blocks[:index]) for index in range(len(blocks))]


def _with_a_key_twice(value):
    """The JSON text of a non-empty object with its first key written twice."""
    key = json.dumps(next(iter(value)))
    return json.dumps(value).replace("{" + key + ":", "{" + key + ": 0, " + key + ":", 1)


@SETTINGS
@given(st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=5), st.booleans())
def test_a_record_line_giving_a_key_twice_is_always_found(value, indent):
    """The quick colon count never lets a repeated key through, and never refuses a line that
    gives each key once, whatever colons its texts hold."""
    value.pop("id", None)
    if not value or "resourceType" in value:
        return
    plain = json.dumps(value, indent=1 if indent else None).replace("\n", " ").encode()
    (record,) = readers.read_jsonl([plain])
    assert "more than once" not in (record.error or "")
    twice = _with_a_key_twice(value).encode()
    (record,) = readers.read_jsonl([twice])
    assert "more than once" in record.error
