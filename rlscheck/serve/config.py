"""The service's configuration file (YAML, read safely) and its defaults.

    service_url: https://cds.example.org   # the public base URL; a JWT's aud is {service_url}/cds-services/{id}
    issuers:                               # the EHRs trusted to call the service
      - iss: https://ehr.example.com
        jwks_url: https://ehr.example.com/.well-known/jwks.json
        jku: [https://ehr.example.com/jwks]       # jku header values accepted (optional)
        fhir_servers: [https://ehr.example.com/fhir]  # fhirServer values the service may call (optional)
    require_rls_on_problem_list: true      # cards only for patients with RLS on the problem list
    public_discovery: false                # true: GET /cds-services needs no JWT
    cors_origins: [https://sandbox.cds-hooks.org]
    max_body_bytes: 1048576
    fhir_timeout_seconds: 5
    max_token_lifetime_seconds: 300        # exp - iat, and how long a jti is remembered
    clock_skew_seconds: 60
    jti_capacity: 200000
    indicators: {established: critical, probable: warning, possible: warning}

The parsed settings travel to worker processes as JSON in an environment variable.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from rlscheck.errors import UsageError
from rlscheck.textsafe import safe

ENVIRONMENT = "RLSCHECK_SERVE_SETTINGS"
SANDBOX_ORIGIN = "https://sandbox.cds-hooks.org"
CERTAINTIES = ("established", "probable", "possible", "conflicting", "weak", "indirect", "class-inference")
DEFAULT_INDICATORS = {"established": "critical", "probable": "warning", "possible": "warning",
                      "conflicting": "info", "weak": "info", "indirect": "info", "class-inference": "info"}


@dataclass
class Issuer:
    iss: str
    jwks_url: str
    jku: list = field(default_factory=list)
    fhir_servers: list = field(default_factory=list)


@dataclass
class Settings:
    service_url: str = ""
    issuers: list = field(default_factory=list)
    require_rls_on_problem_list: bool = True
    public_discovery: bool = False
    cors_origins: list = field(default_factory=lambda: [SANDBOX_ORIGIN])
    max_body_bytes: int = 1024 * 1024
    fhir_timeout_seconds: float = 5.0
    max_token_lifetime_seconds: int = 300
    clock_skew_seconds: int = 60
    jti_capacity: int = 200_000
    indicators: dict = field(default_factory=lambda: dict(DEFAULT_INDICATORS))
    insecure_dev: bool = False
    kb_files: list = field(default_factory=list)

    def issuer(self, iss):
        return next((issuer for issuer in self.issuers if issuer.iss == iss), None)

    def to_environment(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> "Settings":
        raw = os.environ.get(ENVIRONMENT)
        if not raw:
            return cls()
        data = json.loads(raw)
        data["issuers"] = [Issuer(**issuer) for issuer in data.get("issuers", [])]
        return cls(**data)


_SCALARS = {"service_url": str, "require_rls_on_problem_list": bool, "public_discovery": bool,
            "max_body_bytes": int, "fhir_timeout_seconds": (int, float), "max_token_lifetime_seconds": int,
            "clock_skew_seconds": int, "jti_capacity": int}


def load(path) -> Settings:
    """Settings from a YAML file; UsageError naming the file and line of the first problem."""
    from rlscheck.knowledge import yamlsafe

    data, issues = yamlsafe.load_file(path)
    if issues:
        raise UsageError(f"config {issues[0].format()}")
    if not isinstance(data, dict):
        raise UsageError(f"config {safe(path)}: must be a mapping of settings")

    def fail(node, key, message):
        line = node.where(key)[0] if hasattr(node, "where") else 0
        raise UsageError(f"config {safe(path)}:{line}: {safe(key)}: {message}")

    settings = Settings()
    for key, value in data.items():
        if key in _SCALARS:
            kind = _SCALARS[key]
            if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
                fail(data, key, "has the wrong type")
            if kind is not bool and kind is not str and value <= 0:
                fail(data, key, "must be positive")
            setattr(settings, key, value)
        elif key == "cors_origins":
            if not isinstance(value, list) or not all(isinstance(o, str) for o in value):
                fail(data, key, "must be a list of origins")
            settings.cors_origins = list(value)
        elif key == "indicators":
            if not isinstance(value, dict) or any(k not in CERTAINTIES or v not in ("info", "warning", "critical")
                                                  for k, v in value.items()):
                fail(data, key, f"maps certainties ({', '.join(CERTAINTIES)}) to info, warning or critical")
            settings.indicators.update(value)
        elif key == "issuers":
            if not isinstance(value, list):
                fail(data, key, "must be a list")
            settings.issuers = [_issuer(item, index, fail, value) for index, item in enumerate(value)]
        else:
            fail(data, key, "unknown setting")
    if settings.service_url:
        settings.service_url = _url(settings.service_url, lambda m: fail(data, "service_url", m)).rstrip("/")
    return settings


def _issuer(item, index, fail, parent):
    if not isinstance(item, dict):
        fail(parent, index, "each issuer is a mapping with iss and jwks_url")
    for key in item:
        if key not in ("iss", "jwks_url", "jku", "fhir_servers"):
            fail(item, key, "unknown issuer setting")
    if not isinstance(item.get("iss"), str) or not item["iss"]:
        fail(item, "iss", "each issuer needs iss (its URI)")
    jwks_url = _url(item.get("jwks_url"), lambda m: fail(item, "jwks_url", m))
    lists = {}
    for key in ("jku", "fhir_servers"):
        value = item.get(key, [])
        if not isinstance(value, list):
            fail(item, key, "must be a list of URLs")
        lists[key] = [_url(url, lambda m, key=key: fail(item, key, m)) for url in value]
    return Issuer(item["iss"], jwks_url, lists["jku"], lists["fhir_servers"])


def _url(value, fail):
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
        fail("must be an http(s) URL")
    return value
