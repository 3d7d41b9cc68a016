"""For the `rlscheck serve` tests: an EHR's keys and JWTs, a local server standing in for the
EHR (its JWK Sets and a small FHIR API), and the real service started in a subprocess."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ISSUER = "https://ehr.example.test"
FIXTURES = Path(__file__).parent / "fixtures" / "cds-hooks"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Keys:
    """An ES384 key pair as a JWK with a kid."""

    def __init__(self, kid):
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP384R1())
        self.jwk = {**ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True), "kid": kid, "use": "sig",
                    "alg": "ES384"}


def token(keys, audience, *, iss=ISSUER, lifetime=120, iat=None, jti=None, headers=None, claims=None,
          algorithm="ES384", key=None):
    now = int(time.time()) if iat is None else iat
    payload = {"iss": iss, "aud": audience, "iat": now, "exp": now + lifetime, "jti": jti or str(uuid.uuid4()),
               **(claims or {})}
    return jwt.encode(payload, key if key is not None else keys.private, algorithm=algorithm,
                      headers={"kid": keys.kid, "typ": "JWT", **(headers or {})})


class EhrServer:
    """The EHR side: /jwks.json, /jku-jwks.json, /other-jwks.json and a FHIR API under /fhir
    answering searches from `self.data` ({resourceType: [resources]}). Records each request."""

    def __init__(self, keys):
        self.keys = keys
        self.requests = []
        self.data = {}
        self.fail_with = None
        self.delay = 0  # seconds the FHIR API waits before answering
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.requests.append((self.path, self.headers.get("Authorization")))
                status, body = owner.answer(self.path)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that gave up (a timeout under test) is no error of the EHR's

        self.server = Quiet(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self):
        return [urlsplit(path).path for path, _ in self.requests]

    def answer(self, path):
        parts = urlsplit(path)
        if parts.path in ("/jwks.json", "/jku-jwks.json"):
            return 200, {"keys": [self.keys.jwk]}
        if parts.path == "/other-jwks.json":
            return 200, {"keys": [self.keys.jwk]}
        if not parts.path.startswith("/fhir/"):
            return 404, {"resourceType": "OperationOutcome"}
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with:
            return self.fail_with, {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}
        kind = parts.path[len("/fhir/"):]
        if "/" in kind:  # a read: Patient/123
            kind, _, ident = kind.partition("/")
            return 200, {"resourceType": kind, "id": ident}
        query = parse_qs(parts.query)
        patient = query.get("patient", [""])[0]
        found = [r for r in self.data.get(kind, []) if r.get("subject", {}).get("reference") in (None, f"Patient/{patient}")]
        return 200, {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                     "entry": [{"resource": r} for r in found]}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Service:
    """`rlscheck serve` in a subprocess on a free loopback port; stderr goes to a file."""

    def __init__(self, tmp_path, config=None, args=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"serve-{self.port}.log"
        command = [sys.executable, "-m", "rlscheck", "serve", "--port", str(self.port), *args]
        if config is not None:
            config_path = tmp_path / f"serve-{self.port}.yaml"
            config_path.write_text(json.dumps(config))  # JSON is YAML
            command += ["--config", str(config_path)]
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=dict(os.environ))
        deadline = time.monotonic() + 180  # a busy machine starts slowly
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()  # never leave a half-started server (and its workers) behind
                raise RuntimeError("rlscheck serve did not start:\n" + self.log_path.read_text())
            time.sleep(0.1)

    def logs(self):
        self.log.flush()
        return self.log_path.read_text()

    def close(self):
        self.process.terminate()  # uvicorn's parent stops its workers on SIGTERM
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


def fixture(path):
    return json.loads((FIXTURES / path).read_text())


def fixtures(folder):
    return sorted((FIXTURES / folder).glob("*.json"))


def condition(code, system="http://snomed.info/sct", display="Restless legs", status="active", ident="c-rls"):
    return {"resourceType": "Condition", "id": ident, "subject": {"reference": "Patient/1288992"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": status}]},
            "code": {"coding": [{"system": system, "code": code, "display": display}]}}


def medication_request(ident, display, status="active", code=None):
    coding = {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "display": display}
    if code:
        coding["code"] = code
    return {"resourceType": "MedicationRequest", "id": ident, "status": status, "intent": "order",
            "subject": {"reference": "Patient/1288992"}, "medicationCodeableConcept": {"coding": [coding]}}


def searchset(*resources):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
