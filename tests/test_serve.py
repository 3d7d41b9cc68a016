"""`rlscheck serve`: the real server in a subprocess, called as an EHR, a script and a browser would."""

import base64
import copy
import json
import time
import uuid
from importlib import resources

import httpx
import jsonschema
import jwt
import pytest
from conftest import rlscheck
from serve_support import (ISSUER, EhrServer, Keys, Service, condition, fixture, fixtures, medication_request,
                           searchset, token)

CARDS_SCHEMA = json.loads(resources.files("rlscheck").joinpath("schemas/cds-hooks-response.schema.json").read_text())
ASSESS_SCHEMA = json.loads(resources.files("rlscheck").joinpath("schemas/assess.schema.json").read_text())
HTTP = httpx.Client(timeout=60)  # the machine may be busy: patience over flakiness
HOOK_OF = {"rlscheck-order-select": "order-select", "rlscheck-order-sign": "order-sign",
           "rlscheck-patient-view": "patient-view"}
RLS_SNOMED = condition("32914008")
RLS_ICD = condition("G25.81", system="http://hl7.org/fhir/sid/icd-10-cm", display="Restless legs syndrome")
METOCLOPRAMIDE = medication_request("draft-metoclopramide", "metoclopramide 10 MG Oral Tablet", "draft", "311666")
DIPHENHYDRAMINE = medication_request("draft-diphenhydramine", "diphenhydramine hydrochloride 25 MG Oral Capsule",
                                     "draft", "1049630")


def valid_cards(response):
    assert response.status_code == 200, response.text
    body = response.json()
    jsonschema.validate(body, CARDS_SCHEMA)
    return body["cards"]


@pytest.fixture(scope="module")
def keys():
    return Keys("ehr-key-1")


@pytest.fixture(scope="module")
def ehr(keys):
    server = EhrServer(keys)
    yield server
    server.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory, ehr):
    config = {"issuers": [{"iss": ISSUER, "jwks_url": ehr.url + "/jwks.json", "jku": [ehr.url + "/jku-jwks.json"],
                           "fhir_servers": [ehr.url + "/fhir"]}],
              "max_body_bytes": 200_000}
    running = Service(tmp_path_factory.mktemp("serve"), config)
    yield running
    running.close()


@pytest.fixture(scope="module")
def lenient(tmp_path_factory, ehr):
    """A service configured to speak whether or not RLS is on the problem list, behind a proxy URL."""
    config = {"service_url": "https://cds.example.org/rls", "require_rls_on_problem_list": False,
              "fhir_timeout_seconds": 1, "issuers": [{"iss": ISSUER, "jwks_url": ehr.url + "/jwks.json"}]}
    running = Service(tmp_path_factory.mktemp("lenient"), config)
    yield running
    running.close()


class Ehr:
    """Calls the service as a CDS client: a fresh signed JWT for each call."""

    def __init__(self, service, keys, audience_base=None):
        self.service, self.keys = service, keys
        self.base = audience_base or service.url

    def headers(self, path, **token_options):
        return {"Authorization": "Bearer " + token(self.keys, self.base + path, **token_options)}

    def get(self, path, **token_options):
        return HTTP.get(self.service.url + path, headers=self.headers(path, **token_options), timeout=30)

    def post(self, path, body, headers=None, **token_options):
        return HTTP.post(self.service.url + path, json=body, headers={**self.headers(path, **token_options),
                                                                       **(headers or {})}, timeout=30)


@pytest.fixture(scope="module")
def client(service, keys):
    return Ehr(service, keys)


def request(hook, context, prefetch=None, **extra):
    body = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context, **extra}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def full_prefetch(*conditions, meds=()):
    return {"patient": {"resourceType": "Patient", "id": "1288992"}, "medications": searchset(*meds),
            "statements": None, "conditions": searchset(*conditions), "labs": None}


def order_context(*drafts, selections=None):
    context = {"userId": "Practitioner/example", "patientId": "1288992", "encounterId": "89284",
               "draftOrders": searchset(*drafts)}
    if selections is not None:
        context["selections"] = selections
    return context


# Discovery ---------------------------------------------------------------------------------


def test_discovery_lists_the_three_hooks_with_prefetch_templates(client):
    services = client.get("/cds-services").json()["services"]
    assert {s["hook"] for s in services} == {"order-select", "order-sign", "patient-view"}
    example = fixture("discovery/index-L0130-discovery-example.json")["services"][0]
    for entry in services:
        assert set(example) <= set(entry) | {"usageRequirements"}
        assert entry["description"] and entry["title"] and entry["id"].startswith("rlscheck-")
        templates = entry["prefetch"]
        assert set(templates) == {"patient", "medications", "statements", "conditions", "labs"}
        assert templates["patient"] == "Patient/{{context.patientId}}"
        assert templates["conditions"].startswith("Condition?patient={{context.patientId}}")
        assert "http://loinc.org|2276-4" in templates["labs"]  # ferritin


def test_discovery_prefetch_tokens_are_spelled_as_the_specification_spells_them(client):
    spec = fixture("discovery/index-L0417-example-prefetch-templates.json")["prefetch"]
    assert spec["patient"] == "Patient/{{context.patientId}}"
    ours = client.get("/cds-services").json()["services"][0]["prefetch"]
    for template in ours.values():
        assert "{{context.patientId}}" in template and "{{ " not in template


def test_discovery_needs_a_jwt(service):
    response = HTTP.get(service.url + "/cds-services")
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]


# The specification's examples ---------------------------------------------------------------


@pytest.mark.parametrize("path", fixtures("responses"), ids=lambda p: p.name)
def test_the_specification_response_examples_fit_the_derived_schema(path):
    document = fixture(f"responses/{path.name}")
    errors = list(jsonschema.Draft202012Validator(CARDS_SCHEMA).iter_errors(document))
    # Two examples leave out what the specification's own tables require: the systemActions
    # example an action's `description`, the autolaunchable example the card's `indicator`.
    if path.name.startswith("index-L0715"):
        assert [e.message for e in errors] == ["'description' is a required property"]
    elif path.name.startswith("index-L0793"):
        assert [e.message for e in errors] == ["'indicator' is a required property"]
    else:
        assert errors == []


def test_the_schema_refuses_what_the_specification_forbids():
    card = {"summary": "x" * 140, "indicator": "info", "source": {"label": "s"}}
    for bad in (card, {**card, "summary": "ok", "indicator": "urgent"}, {**card, "summary": "ok", "source": {}},
                {**card, "summary": "ok", "links": []}, {**card, "summary": "ok", "detail": None},
                {**card, "summary": "ok", "suggestions": [{"label": "x"}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"cards": [bad]}, CARDS_SCHEMA)
    parts = {p.name: json.loads(p.read_text()) for p in fixtures("response-parts")}
    card = {"summary": "ok", "indicator": "info", **parts["index-L0592-source.json"],
            **parts["index-L0676-reasons-for-rejecting-a-card.json"],
            "suggestions": [{"label": "do", "actions": [parts["index-L0633-action.json"],
                                                         parts["index-L0647-action.json"],
                                                         parts["index-L0661-action.json"]]}],
            "selectionBehavior": "any"}
    jsonschema.validate({"cards": [card]}, CARDS_SCHEMA)


@pytest.mark.parametrize("path", fixtures("contexts"), ids=lambda p: p.name)
@pytest.mark.parametrize("service_id", sorted(HOOK_OF))
def test_every_specification_context_passes_through_every_service(client, path, service_id):
    context = copy.deepcopy(fixture(f"contexts/{path.name}")["context"])
    hook = HOOK_OF[service_id]
    body = request(hook, context, full_prefetch(RLS_SNOMED))
    response = client.post(f"/cds-services/{service_id}", body)
    needs = ["patientId"] + (["draftOrders"] if hook != "patient-view" else []) + (
        ["selections"] if hook == "order-select" else [])
    if all(key in context for key in needs) and (hook == "patient-view" or
                                                 context["draftOrders"].get("resourceType") == "Bundle"):
        cards = valid_cards(response)
        # Amoxicillin/clavulanate and a pureed diet are not linked to RLS; at most the service says
        # it could not check the antibiotic's long RxNorm name.
        assert all(card["indicator"] == "info" and "could not check Amoxicillin" in card["summary"]
                   for card in cards)
        assert hook != "patient-view" or cards == []
    else:
        assert response.status_code == 400
        assert any(key in response.json()["error"] for key in needs)


def test_the_order_sign_example_with_a_dopamine_blocker_gives_a_card(client):
    body = fixture("contexts/order-sign-L0039-example-r4.json")
    medication = body["context"]["draftOrders"]["entry"][1]["resource"]
    medication["medicationCodeableConcept"] = METOCLOPRAMIDE["medicationCodeableConcept"]
    cards = valid_cards(client.post("/cds-services/rlscheck-order-sign",
                                    request("order-sign", body["context"], full_prefetch(RLS_ICD))))
    assert len(cards) == 1
    card = cards[0]
    assert "metoclopramide" in card["summary"] and card["indicator"] in ("warning", "critical")
    assert card["source"]["label"] and card["source"]["url"].startswith("http")
    assert "metoclopramide 10 MG Oral Tablet" in card["detail"] and "discuss" in card["detail"].lower()
    assert card["uuid"] and all(link["type"] == "absolute" for link in card["links"])


@pytest.mark.parametrize("path", fixtures("requests"), ids=lambda p: p.name)
def test_the_specification_requests_are_answered_fetching_what_was_not_prefetched(client, ehr, path):
    body = fixture(f"requests/{path.name}")
    body["fhirServer"] = ehr.url + "/fhir"  # the example's server stands for the EHR's
    ehr.data = {"Condition": [RLS_SNOMED], "MedicationRequest": [medication_request("m1", "promethazine 25 MG")]}
    if "patientId" not in body["context"]:  # the extension example: patient-view requires patientId
        response = client.post("/cds-services/rlscheck-patient-view", body)
        assert response.status_code == 400 and "patientId" in response.json()["error"]
        body["context"]["patientId"] = "1288992"
    before = len(ehr.requests)
    cards = valid_cards(client.post("/cds-services/rlscheck-patient-view", body))
    fetched = ehr.requests[before:]
    paths = sorted(path.split("?")[0] for path, _ in fetched)
    assert paths == ["/fhir/Condition", "/fhir/MedicationRequest", "/fhir/MedicationStatement",
                     "/fhir/Observation", "/fhir/Patient/1288992"]
    token_given = (body.get("fhirAuthorization") or {}).get("access_token")
    assert {auth for _, auth in fetched} == {f"Bearer {token_given}" if token_given else None}
    assert any("promethazine" in card["summary"] for card in cards)


def test_the_specification_prefetch_example_is_read(client):
    prefetch = fixture("prefetch/index-L0441-example-prefetch-data.json")["prefetch"]
    prefetch.update(full_prefetch(RLS_SNOMED))
    cards = valid_cards(client.post("/cds-services/rlscheck-patient-view",
                                    request("patient-view", {"userId": "Practitioner/abc", "patientId": "1288992"},
                                            prefetch)))
    assert cards == []


@pytest.mark.parametrize("path", fixtures("feedback"), ids=lambda p: p.name)
def test_feedback_examples_are_accepted_and_logged_without_comments(client, service, path):
    body = fixture(f"feedback/{path.name}")
    response = client.post("/cds-services/rlscheck-order-sign/feedback", body)
    assert response.status_code == 200 and response.json() == {}
    time.sleep(0.2)
    logs = service.logs()
    assert body["feedback"][0]["card"] in logs
    assert "A comment entered by the clinician" not in logs


def test_feedback_that_is_not_feedback_is_refused(client):
    for body in ({}, {"feedback": []}, {"feedback": [{"card": "x", "outcome": "liked"}]}, [1]):
        response = client.post("/cds-services/rlscheck-order-sign/feedback", body)
        assert response.status_code == 400 and response.json()["error"]


# Cards -------------------------------------------------------------------------------------


def test_no_card_without_rls_on_the_problem_list(client):
    for conditions in ((), (condition("44054006", display="Diabetes type 2"),),
                       (condition("32914008", status="resolved"),)):
        cards = valid_cards(client.post("/cds-services/rlscheck-order-sign",
                                        request("order-sign", order_context(METOCLOPRAMIDE),
                                                full_prefetch(*conditions))))
        assert cards == []


def test_a_configured_service_speaks_without_rls_on_the_problem_list(lenient, keys):
    ehr = Ehr(lenient, keys, audience_base="https://cds.example.org/rls")
    cards = valid_cards(ehr.post("/cds-services/rlscheck-order-sign",
                                 request("order-sign", order_context(DIPHENHYDRAMINE), full_prefetch())))
    assert [c["summary"].split(" ")[0] for c in cards] == ["diphenhydramine"]
    # the audience is the configured public URL, not the address the server listens on
    wrong = Ehr(lenient, keys).post("/cds-services/rlscheck-order-sign",
                                    request("order-sign", order_context(DIPHENHYDRAMINE), full_prefetch()))
    assert wrong.status_code == 401


def test_order_select_speaks_about_the_selection_only(client):
    context = order_context(METOCLOPRAMIDE, DIPHENHYDRAMINE, selections=["MedicationRequest/draft-diphenhydramine"])
    cards = valid_cards(client.post("/cds-services/rlscheck-order-select",
                                    request("order-select", context, full_prefetch(RLS_SNOMED))))
    assert len(cards) == 1 and cards[0]["summary"].startswith("diphenhydramine")
    assert "Dopamine-blocking" in cards[0]["detail"]  # the other draft is part of the record


def test_a_suggestion_adds_a_draft_alternative_and_never_deletes(client):
    cards = valid_cards(client.post("/cds-services/rlscheck-order-sign",
                                    request("order-sign", order_context(DIPHENHYDRAMINE), full_prefetch(RLS_SNOMED))))
    suggestions = cards[0]["suggestions"]
    assert cards[0]["selectionBehavior"] == "at-most-one"
    names = [s["actions"][0]["resource"]["medicationCodeableConcept"]["text"] for s in suggestions]
    assert "loratadine" in names
    for suggestion in suggestions:
        for action in suggestion["actions"]:
            assert action["type"] == "create"
            assert action["resource"]["status"] == "draft"
            assert action["resource"]["subject"] == {"reference": "Patient/1288992"}


def test_cards_concern_the_orders_in_the_light_of_the_record(client):
    prefetch = full_prefetch(RLS_SNOMED, meds=[medication_request("home-1", "sertraline 50 MG Oral Tablet")])
    cards = valid_cards(client.post("/cds-services/rlscheck-order-sign",
                                    request("order-sign", order_context(METOCLOPRAMIDE), prefetch)))
    assert len(cards) == 1 and "metoclopramide" in cards[0]["summary"]
    assert "Antidepressants" in cards[0]["detail"]  # the current medication, as context
    cards = valid_cards(client.post("/cds-services/rlscheck-patient-view",
                                    request("patient-view", {"userId": "Practitioner/a", "patientId": "1288992"},
                                            prefetch)))
    assert [c["summary"].split(" ")[0] for c in cards] == ["sertraline"]


def test_each_draft_order_is_the_order_being_written_even_when_the_reader_joins_them(client):
    # two draft orders of one product (say, regular and as needed): the FHIR reader makes them one input
    second = {**METOCLOPRAMIDE, "id": "draft-metoclopramide-prn"}
    home = [medication_request("home-1", "metoclopramide 10 MG Oral Tablet", "active", "311666")]
    for hook, selections in (("order-sign", None), ("order-select", ["MedicationRequest/draft-metoclopramide-prn"])):
        context = order_context(METOCLOPRAMIDE, second, selections=selections)
        cards = valid_cards(client.post(f"/cds-services/rlscheck-{hook}",
                                        request(hook, context, full_prefetch(RLS_SNOMED, meds=home))))
        assert len(cards) == 1 and cards[0]["summary"].startswith("metoclopramide"), hook
        assert "Ordered: **metoclopramide 10 MG Oral Tablet**" in cards[0]["detail"]
    # taken at home and not being ordered: nothing to say at order-sign
    other = medication_request("draft-amoxicillin", "amoxicillin 500 MG Oral Capsule", "draft")
    cards = valid_cards(client.post("/cds-services/rlscheck-order-sign",
                                    request("order-sign", order_context(other), full_prefetch(RLS_SNOMED, meds=home))))
    assert cards == []


def test_an_ordered_drug_rlscheck_does_not_know_is_said_so(client):
    unknown = medication_request("draft-x", "zorbletamine 5 MG", "draft")
    cards = valid_cards(client.post("/cds-services/rlscheck-order-sign",
                                    request("order-sign", order_context(unknown), full_prefetch(RLS_SNOMED))))
    assert len(cards) == 1 and cards[0]["indicator"] == "info" and "could not check" in cards[0]["summary"]


def test_no_prefetch_and_no_fhir_server_is_412(client):
    response = client.post("/cds-services/rlscheck-order-sign", request("order-sign", order_context(METOCLOPRAMIDE)))
    assert response.status_code == 412 and "could not be had" in response.json()["error"]


def test_a_failing_or_unlisted_fhir_server_is_412(client, ehr):
    ehr.fail_with = 500
    try:
        body = request("order-sign", order_context(METOCLOPRAMIDE), fhirServer=ehr.url + "/fhir")
        assert client.post("/cds-services/rlscheck-order-sign", body).status_code == 412
    finally:
        ehr.fail_with = None
    # Queries cancelled after the first failure may still reach the EHR's log late (a busy
    # machine), so what is checked is that nothing was asked of the unlisted server.
    body = request("order-sign", order_context(METOCLOPRAMIDE), fhirServer=ehr.url + "/elsewhere")
    response = client.post("/cds-services/rlscheck-order-sign", body)
    assert response.status_code == 412 and "allow-list" in response.json()["error"]
    time.sleep(0.5)  # a query that was sent would be in the log by now
    assert not [path for path in ehr.paths() if path.startswith("/elsewhere")]


# Security ----------------------------------------------------------------------------------

SIGN = "/cds-services/rlscheck-order-sign"


def call_with(service, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    body = request("order-sign", order_context(METOCLOPRAMIDE), full_prefetch(RLS_SNOMED))
    return HTTP.post(service.url + SIGN, json=body, headers=headers, timeout=30)


def unsigned(header, payload):
    encode = lambda part: base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
    return f"{encode(header)}.{encode(payload)}."


def hmac_signed(keys, payload):
    """HS384 keyed with the EHR's public key (PEM), as an attacker who knows it would sign."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import serialization

    secret = keys.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    head = unsigned({"alg": "HS384", "typ": "JWT", "kid": keys.kid}, payload)[:-1]
    signature = hmac.new(secret, head.encode(), hashlib.sha384).digest()
    return head + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def claims_for(service, **extra):
    now = int(time.time())
    return {"iss": ISSUER, "aud": service.url + SIGN, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4()), **extra}


def test_a_good_token_is_accepted(service, keys):
    assert call_with(service, "Bearer " + token(keys, service.url + SIGN)).status_code == 200


@pytest.mark.parametrize("case", ["missing", "not bearer", "garbage", "alg none", "hmac", "wrong aud", "expired",
                                  "unknown kid", "untrusted iss", "other key", "no jti", "too long-lived",
                                  "issued in the future", "typ"])
def test_tokens_that_must_be_refused(service, keys, case):
    audience = service.url + SIGN
    authorization = {
        "missing": lambda: None,
        "not bearer": lambda: "Basic dXNlcjpwYXNz",
        "garbage": lambda: "Bearer not.a.jwt",
        "alg none": lambda: "Bearer " + unsigned({"alg": "none", "typ": "JWT", "kid": keys.kid}, claims_for(service)),
        # the classic confusion: HMAC keyed with the public key
        "hmac": lambda: "Bearer " + hmac_signed(keys, claims_for(service)),
        "wrong aud": lambda: "Bearer " + token(keys, service.url + "/cds-services/rlscheck-patient-view"),
        "expired": lambda: "Bearer " + token(keys, audience, iat=int(time.time()) - 600, lifetime=120),
        "unknown kid": lambda: "Bearer " + token(Keys("no-such-kid"), audience),
        "untrusted iss": lambda: "Bearer " + token(keys, audience, iss="https://evil.example"),
        "other key": lambda: "Bearer " + token(keys, audience, key=Keys(keys.kid).private),
        "no jti": lambda: "Bearer " + jwt.encode({k: v for k, v in claims_for(service).items() if k != "jti"},
                                                 keys.private, algorithm="ES384", headers={"kid": keys.kid}),
        "too long-lived": lambda: "Bearer " + token(keys, audience, lifetime=86400),
        "issued in the future": lambda: "Bearer " + token(keys, audience, iat=int(time.time()) + 3600),
        "typ": lambda: "Bearer " + token(keys, audience, headers={"typ": "at+jwt"}),
    }[case]()
    response = call_with(service, authorization)
    assert response.status_code == 401, response.text
    assert response.json()["error"]
    assert "cards" not in response.json()


def test_a_jku_off_the_allow_list_is_refused_before_any_fetch(service, keys, ehr):
    before = list(ehr.requests)
    response = call_with(service, "Bearer " + token(keys, service.url + SIGN,
                                                    headers={"jku": ehr.url + "/other-jwks.json"}))
    assert response.status_code == 401 and "jku" in response.json()["error"]
    assert ehr.requests == before


def test_a_jku_on_the_allow_list_is_used(service, keys, ehr):
    response = call_with(service, "Bearer " + token(keys, service.url + SIGN,
                                                    headers={"jku": ehr.url + "/jku-jwks.json"}))
    assert response.status_code == 200
    assert "/jku-jwks.json" in ehr.paths()


def test_the_jwk_set_is_fetched_at_start_up_not_by_the_first_call(tmp_path, keys):
    ehr = EhrServer(keys)
    running = Service(tmp_path, {"issuers": [{"iss": ISSUER, "jwks_url": ehr.url + "/jwks.json"}]})
    try:
        deadline = time.monotonic() + 30
        while "/jwks.json" not in ehr.paths() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ehr.paths() == ["/jwks.json"]
        response = call_with(running, "Bearer " + token(keys, running.url + SIGN))
        assert response.status_code == 200 and ehr.paths() == ["/jwks.json"]
    finally:
        running.close()
        ehr.close()


def test_a_replayed_jti_is_refused(service, keys):
    signed = "Bearer " + token(keys, service.url + SIGN)
    assert call_with(service, signed).status_code == 200
    replay = call_with(service, signed)
    assert replay.status_code == 401 and "replay" in replay.json()["error"]


def test_the_logs_hold_no_patient_data_and_no_tokens(client, service):
    secret = "Zebulon-Q-Patient"
    body = request("order-sign", order_context(METOCLOPRAMIDE), full_prefetch(RLS_SNOMED))
    body["context"]["patientId"] = secret
    client.post(SIGN, body)
    time.sleep(0.2)
    logs = service.logs()
    assert secret not in logs and "metoclopramide" not in logs.lower() and "eyJ" not in logs
    access = [json.loads(line) for line in logs.splitlines() if line.startswith('{"time"')]
    assert any(entry["path"] == SIGN and entry["status"] == 200 and entry["hook"] == "order-sign" for entry in access)


# Malformed requests, limits, CORS ----------------------------------------------------------


@pytest.mark.parametrize("content, content_type, status", [
    (b"{not json", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b'{"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "1"}}', "application/json", 400),
    (b'{"hook": "order-sign", "hookInstance": "x"}', "application/json", 400),
    (b'{"hook": "order-sign", "hookInstance": "x", "context": {"patientId": "1", "draftOrders": []}}',
     "application/json", 400),
    (b"hook=order-sign", "application/x-www-form-urlencoded", 415),
    (b'{"a": "' + b"x" * 300_000 + b'"}', "application/json", 413),
])
def test_malformed_bodies_get_a_json_error(client, service, content, content_type, status):
    response = HTTP.post(service.url + SIGN, content=content, timeout=30,
                          headers={"Content-Type": content_type, **client.headers(SIGN)})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json" and response.json()["error"]


def test_an_unknown_service_is_404_json(client):
    response = client.post("/cds-services/nope", {})
    assert response.status_code == 404 and response.json()["error"]


def test_cors_lets_the_cds_hooks_sandbox_in(service):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    allowed = HTTP.options(service.url + SIGN, headers={"Origin": "https://sandbox.cds-hooks.org", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://sandbox.cds-hooks.org"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    other = HTTP.options(service.url + SIGN, headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers


# JSON API ----------------------------------------------------------------------------------


def test_assess_takes_a_record(service):
    response = HTTP.post(service.url + "/assess", json={"id": "p1", "meds": ["Tylenol PM"], "labs": {"ferritin": 20}})
    assert response.status_code == 200
    document = response.json()
    jsonschema.validate(document, ASSESS_SCHEMA)
    assert document["id"] == "p1"
    assert {f["id"] for f in document["findings"]} >= {"drug.sedating-antihistamine", "lab.iron-deficiency"}
    assert document["disclaimer"]


def test_assess_takes_a_fhir_bundle(service):
    bundle = searchset(medication_request("m1", "Paxil 20 MG"), RLS_SNOMED)
    document = HTTP.post(service.url + "/assess", json=bundle).json()
    jsonschema.validate(document, ASSESS_SCHEMA)
    assert [m["source"] for f in document["findings"] for m in f["matched"]] == ["MedicationRequest/m1"]


def test_assess_answers_a_bad_record_with_400(service):
    for body in ({"meds": 5}, {"colour": "blue"}, {"labs": {"ferritin": "abc"}}, [1]):
        response = HTTP.post(service.url + "/assess", json=body)
        assert response.status_code == 400 and response.json()["error"], body


def test_health_and_openapi(service):
    assert HTTP.get(service.url + "/health").json()["status"] == "ok"
    described = HTTP.get(service.url + "/openapi.json").json()
    assert described["openapi"].startswith("3.")
    assert {"/assess", "/cds-services", "/cds-services/{id}", "/cds-services/{id}/feedback"} <= set(described["paths"])
    schema_url = described["paths"]["/assess"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert HTTP.get(service.url + schema_url["$ref"]).json()["title"] == ASSESS_SCHEMA["title"]


def test_every_response_says_not_to_cache_or_sniff(service):
    for response in (HTTP.get(service.url + "/"), HTTP.get(service.url + "/health")):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in HTTP.get(service.url + "/").headers["content-security-policy"]


# The page without a browser ----------------------------------------------------------------


def test_the_page_works_as_a_plain_form_post(service):
    page = HTTP.get(service.url + "/").text
    assert "<form" in page and "<script" not in page and 'list="med-names"' in page
    assert "<option value=\"Benadryl\">" in page  # completion without JavaScript
    answer = HTTP.post(service.url + "/", content="med=Benadryl&ferritin=20&med=%3Cb%3Ex%3C%2Fb%3E",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200
    assert "Sedating (first-generation) antihistamines" in answer.text
    assert "Low iron stores" in answer.text
    assert "<b>x</b>" not in answer.text and "&lt;b&gt;x&lt;/b&gt;" in answer.text
    assert "does not diagnose" in answer.text  # the disclaimer


def test_an_empty_form_asks_for_input(service):
    answer = HTTP.post(service.url + "/", content="med=", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400 and 'role="alert"' in answer.text
    flood = "&".join(f"med=x{i}" for i in range(500))
    answer = HTTP.post(service.url + "/", content=flood, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413 and 'role="alert"' in answer.text


# The command -------------------------------------------------------------------------------


def test_serve_refuses_to_run_open_without_saying_so():
    result = rlscheck("serve", "--port", "0")
    assert result.exit_code == 2 and "--insecure-dev" in result.stderr


def test_insecure_dev_stays_on_loopback():
    result = rlscheck("serve", "--insecure-dev", "--host", "0.0.0.0")
    assert result.exit_code == 2 and "loopback" in result.stderr


def test_a_bad_config_names_file_and_line(tmp_path):
    config = tmp_path / "serve.yaml"
    config.write_text("issuers:\n  - iss: https://ehr\n    jwks_url: ftp://nope\n")
    result = rlscheck("serve", "--config", str(config))
    assert result.exit_code == 2 and f"{config}:3" in result.stderr and "jwks_url" in result.stderr
    config.write_text("colour: blue\n")
    result = rlscheck("serve", "--config", str(config))
    assert result.exit_code == 2 and "unknown setting" in result.stderr


@pytest.mark.slow
def test_insecure_dev_warns_loudly_and_serves(tmp_path):
    running = Service(tmp_path, args=["--insecure-dev"])
    try:
        body = request("order-sign", order_context(METOCLOPRAMIDE), full_prefetch(RLS_SNOMED))
        cards = valid_cards(HTTP.post(running.url + SIGN, json=body))
        assert "metoclopramide" in cards[0]["summary"]
        assert "NOT authenticated" in running.logs()
    finally:
        running.close()


@pytest.mark.slow
def test_workers_each_get_the_settings(tmp_path, ehr, keys):
    config = {"issuers": [{"iss": ISSUER, "jwks_url": ehr.url + "/jwks.json"}]}
    running = Service(tmp_path, config, args=["--workers", "2"])
    try:
        ehr_client = Ehr(running, keys)
        for _ in range(4):
            cards = valid_cards(ehr_client.post(SIGN, request("order-sign", order_context(METOCLOPRAMIDE),
                                                               full_prefetch(RLS_SNOMED))))
            assert "metoclopramide" in cards[0]["summary"]
        assert HTTP.post(running.url + SIGN, json={}).status_code == 401  # no worker runs open
    finally:
        running.close()


def test_a_slow_fhir_server_gets_412_in_bounded_time(lenient, keys, ehr):
    client = Ehr(lenient, keys, audience_base="https://cds.example.org/rls")
    client.post("/cds-services/rlscheck-order-sign", request("order-sign", order_context(), full_prefetch()))
    ehr.delay = 4
    try:
        started = time.monotonic()
        response = client.post("/cds-services/rlscheck-patient-view",
                               request("patient-view", {"userId": "Practitioner/a", "patientId": "1288992"},
                                       fhirServer=ehr.url + "/fhir"))
        elapsed = time.monotonic() - started
    finally:
        ehr.delay = 0
    assert response.status_code == 412 and "could not be had" in response.json()["error"]
    assert elapsed < 3.5  # 1 s timeout per query, no retries
