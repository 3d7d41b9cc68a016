"""Pieces of `rlscheck serve` that hold limits: the jti store, summaries, prefetch templates,
the FHIR server check, the config file, the form parser."""

import pytest
from conftest import rlscheck
from hypothesis import given, settings
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
    from rlscheck.api import load_knowledge_base

    templates = cds.prefetch_templates(load_knowledge_base())
    missing = cds.missing_prefetch({"patient": None, "medications": {"resourceType": "OperationOutcome"},
                                    "conditions": {"resourceType": "Bundle"}}, templates)
    assert set(missing) == {"medications", "statements", "labs"}
    assert missing["labs"] == templates["labs"]


def test_the_lab_prefetch_asks_for_every_loinc_code_of_the_knowledge_base_labs():
    from rlscheck.api import load_knowledge_base

    kb = load_knowledge_base()
    labs = cds.prefetch_templates(kb)["labs"]
    assert labs.startswith("Observation?patient={{context.patientId}}&code=http://loinc.org|")
    asked = labs.split("&code=", 1)[1].split("&", 1)[0].split(",")
    listed = [code for code, entry_id in kb.loinc.items() if kb.get(entry_id)["kind"] == "lab"]
    assert sorted(asked) == sorted(f"http://loinc.org|{code}" for code in listed)
    assert {"http://loinc.org|2276-4", "http://loinc.org|50044-7"} <= set(asked)  # ferritin; an eGFR code


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


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                    max_leaves=20)
FHIRISH = st.fixed_dictionaries({"resourceType": st.sampled_from(["Bundle", "Condition", "MedicationRequest",
                                                                  "OperationOutcome", "Patient"])},
                                 optional={"entry": JSON, "code": JSON, "clinicalStatus": JSON, "status": JSON,
                                           "medicationCodeableConcept": JSON, "id": JSON})


@pytest.fixture(scope="module")
def app_client():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from rlscheck.serve.app import create_app
    from rlscheck.serve.config import Settings

    with TestClient(create_app(Settings(insecure_dev=True, require_rls_on_problem_list=False)),
                    raise_server_exceptions=False) as client:
        yield client


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(deadline=None, max_examples=50)
@given(hook=st.sampled_from(["order-select", "order-sign", "patient-view"]), context=JSON,
       drafts=FHIRISH, prefetch=st.dictionaries(st.sampled_from([*cds.PREFETCH, "labs"]), FHIRISH | st.none() | JSON),
       selections=JSON, feedback=JSON)
def test_no_body_however_odd_makes_the_service_fail(app_client, hook, context, drafts, prefetch, selections,
                                                     feedback):
    if isinstance(context, dict):
        context = {**context, "patientId": "p1", "draftOrders": drafts, "selections": selections}
    body = {"hook": hook, "hookInstance": "h", "context": context, "prefetch": prefetch}
    response = app_client.post(f"/cds-services/rlscheck-{hook}", json=body)
    assert response.status_code in (200, 400, 412), response.text
    if response.status_code == 200:
        assert isinstance(response.json()["cards"], list)
    response = app_client.post(f"/cds-services/rlscheck-{hook}/feedback", json={"feedback": feedback})
    assert response.status_code in (200, 400)
    response = app_client.post("/assess", json=context)
    assert response.status_code in (200, 400)
