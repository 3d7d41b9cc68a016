"""Pieces of `rlscheck serve` that hold limits: the jti store, summaries, prefetch templates,
the FHIR server check, the config file, the form parser."""

import pytest
from conftest import rlscheck
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("starlette")

from rlscheck.errors import UsageError  # noqa: E402
from rlscheck.serve import cds, config, fhirclient, page  # noqa: E402
from rlscheck.serve.security import Busy, JtiStore  # noqa: E402


def test_the_jti_store_refuses_replays_and_forgets_only_expired_tokens():
    store = JtiStore(capacity=3)
    assert store.add("a", expires=100, now=0)
    assert not store.add("a", expires=100, now=50)  # replay while alive
    assert store.add("b", 100, 0) and store.add("c", 100, 0)
    with pytest.raises(Busy):
        store.add("d", 100, 1)  # full of live tokens: refuse rather than forget one
    assert store.add("d", 300, 101)  # a, b, c have expired and are forgotten
    assert len(store) == 1


def test_the_jti_store_stays_bounded_over_many_tokens():
    store = JtiStore(capacity=1000)
    for i in range(100_000):
        store.add(i, expires=i / 100 + 5, now=i / 100)
    assert len(store) <= 1000


@given(st.text(max_size=400), st.integers(min_value=20, max_value=200))
def test_a_summary_never_exceeds_its_limit(text, limit):
    short = cds.shorten(text, limit)
    assert len(short) <= limit
    if len(" ".join(text.split())) <= limit:
        assert short == " ".join(text.split())
    else:
        assert short.endswith("…")


def test_prefetch_templates_are_filled_url_encoded_and_need_their_token():
    assert cds.PREFETCH["conditions"].startswith("Condition?patient={{context.patientId}}")
    filled = fhirclient.fill(cds.PREFETCH["medications"], {"patientId": "a b&c"})
    assert filled == "MedicationRequest?patient=a%20b%26c&status=active"
    with pytest.raises(fhirclient.PrefetchError):
        fhirclient.fill(cds.PREFETCH["patient"], {})


def test_the_fhir_server_must_be_http_and_on_the_list_when_there_is_one():
    assert fhirclient.check_server("https://ehr.example/fhir", []) == "https://ehr.example/fhir/"
    assert fhirclient.check_server("https://ehr.example/fhir/", ["https://ehr.example/fhir"])
    for server, allowed in (("file:///etc/passwd", []), ("https://ehr.example.evil/fhir", ["https://ehr.example"]),
                            ("https://ehr.example/fhirx", ["https://ehr.example/fhir"]), (None, [])):
        with pytest.raises(fhirclient.PrefetchError):
            fhirclient.check_server(server, allowed)


def test_missing_and_failed_prefetch_are_told_apart_from_no_data():
    missing = cds.missing_prefetch({"patient": None, "medications": {"resourceType": "OperationOutcome"},
                                    "conditions": {"resourceType": "Bundle"}})
    assert set(missing) == {"medications", "statements", "labs"}


@pytest.mark.parametrize("status, verification, expected", [
    ("active", None, True), ("recurrence", "confirmed", True), ("resolved", None, False),
    ("active", "refuted", False), ("active", "entered-in-error", False), (None, None, True)])
def test_rls_on_the_problem_list(status, verification, expected):
    resource = {"resourceType": "Condition", "code": {"coding": [{"system": "http://snomed.info/sct",
                                                                  "code": "32914008"}]}}
    if status:
        resource["clinicalStatus"] = {"coding": [{"code": status}]}
    if verification:
        resource["verificationStatus"] = {"coding": [{"code": verification}]}
    assert cds.has_rls({"resourceType": "Bundle", "entry": [{"resource": resource}]}) is expected
    # the code alone, in another system, is not enough
    resource["code"]["coding"][0]["system"] = "http://example.org/local"
    assert not cds.has_rls(resource)


def test_the_config_file_is_read_and_checked(tmp_path):
    path = tmp_path / "serve.yaml"
    path.write_text("service_url: https://cds.example.org/\nissuers:\n  - iss: https://ehr\n"
                    "    jwks_url: https://ehr/jwks\nindicators: {probable: critical}\n")
    settings = config.load(path)
    assert settings.service_url == "https://cds.example.org"
    assert settings.issuer("https://ehr").jwks_url == "https://ehr/jwks"
    assert settings.indicators["probable"] == "critical" and settings.indicators["weak"] == "info"
    for text, words in (("max_body_bytes: -1\n", "positive"), ("public_discovery: maybe\n", "wrong type"),
                        ("indicators: {sure: critical}\n", "certainties"), ("issuers: [{iss: x}]\n", "jwks_url"),
                        ("- a\n", "mapping"), ("a: [\n", "yaml")):
        path.write_text(text)
        with pytest.raises(UsageError, match=words):
            config.load(path)


def test_the_form_parser_is_bounded():
    body = "&".join(f"med=x{i}" for i in range(500)).encode()
    assert page.parse_form(body) is None  # more fields than any form of ours has
    fields = page.parse_form(b"med=" + b"a" * 5000 + b"&ferritin=30")
    assert len(fields["med"][0]) == page.MAX_VALUE_LENGTH
    assert page.record_from_form(fields)["labs"] == {"ferritin": "30"}


def test_serve_has_help_with_examples():
    result = rlscheck("serve", "--help")
    assert result.exit_code == 0 and "Examples:" in result.stdout and "--insecure-dev" in result.stdout
