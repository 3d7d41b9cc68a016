"""The ASGI application: CDS Hooks services, the JSON API and the page, on Starlette.

One Screener per worker process, created at start-up; requests are answered on the event
loop (an assessment takes about a millisecond), so the Screener is never used from two
threads at once. Logs are JSON lines on stderr and never hold patient data.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import sys
import time

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from rlscheck import __version__
from rlscheck.errors import RecordError, UsageError
from rlscheck.serve import cds, fhirclient, openapi, page
from rlscheck.serve.config import Settings
from rlscheck.serve.security import AuthError, Verifier

LOG_LEVEL = "RLSCHECK_SERVE_LOG_LEVEL"
log = logging.getLogger("rlscheck.serve")
access_log = logging.getLogger("rlscheck.serve.access")
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_COMMON_RAW = [(name.lower().encode(), value.encode()) for name, value in COMMON_HEADERS.items()]
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")


class JSON(Response):
    media_type = "application/json"

    def render(self, content) -> bytes:
        return orjson.dumps(content)


def error(status: int, message: str, headers=None) -> JSON:
    return JSON({"error": message}, status_code=status, headers=headers)


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": PAGE_POLICY})


class TooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, settings: Settings):
    """(the parsed body, None) or (None, an error response)."""
    try:
        body = await read_body(request, settings.max_body_bytes)
    except TooLarge:
        return None, error(413, f"the request body is larger than {settings.max_body_bytes} bytes")
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type not in ("application/json", "application/fhir+json"):
        return None, error(415, "send the body as application/json")
    try:
        return orjson.loads(body), None
    except orjson.JSONDecodeError:
        return None, error(400, "the request body is not valid JSON")


class Service:
    """What every route needs: the settings, the screener, the verifier, the page."""

    def __init__(self, settings: Settings):
        from rlscheck.api import Screener, load_knowledge_base

        self.settings = settings
        self.kb = load_knowledge_base(settings.kb_files)
        self.screener = Screener(self.kb)
        self.verifier = Verifier(settings)
        self.prefetch = cds.prefetch_templates(self.kb)
        self.page = page.Page(self.kb)
        self.form_html = self.page.render()
        self._warm_up()

    def _warm_up(self):
        """Load at start-up what the first requests would otherwise wait for (vocabularies, the
        FHIR reader, the JWT library, the HTTP client and its TLS context, the Markdown converter)."""
        import httpx
        import jwt  # noqa: F401

        httpx.AsyncClient(verify=fhirclient.tls())  # loads the transport; opens no connection

        bundle = {"resourceType": "Bundle", "entry": [{"resource": {
            "resourceType": "MedicationRequest", "status": "draft", "intent": "order",
            "medicationCodeableConcept": {"text": "sertraline 50 MG Oral Tablet"}}}]}
        document = self.screener.assess({"meds": ["sertraline", "zzqxv"], "conditions": ["G25.81"],
                                         "labs": {"ferritin": 40}, "fhir": bundle})
        page.report_html(document)

    @contextlib.asynccontextmanager
    async def lifespan(self, app):
        """Fetch the trusted issuers' JWK Sets while the server starts, not during the first call."""
        warming = None if self.settings.insecure_dev else asyncio.create_task(self.verifier.warm_up())
        yield
        if warming is not None:
            warming.cancel()

    def audience(self, request: Request) -> str:
        if self.settings.service_url:
            return self.settings.service_url + request.url.path
        return f"{request.url.scheme}://{request.url.netloc}{request.url.path}"

    async def authenticate(self, request: Request):
        """None when the caller may go on, else the error response."""
        if self.settings.insecure_dev:
            return None
        try:
            claims = await self.verifier.verify(request.headers.get("authorization"), self.audience(request))
        except AuthError as failure:
            request.state.auth = str(failure)
            return error(failure.status, str(failure), {"WWW-Authenticate": 'Bearer error="invalid_token"'}
                         if failure.status == 401 else None)
        request.state.iss = claims["iss"]
        return None

    # CDS Hooks -----------------------------------------------------------------------------

    async def discovery(self, request: Request):
        if not self.settings.public_discovery:
            refused = await self.authenticate(request)
            if refused:
                return refused
        return JSON(cds.discovery(self.prefetch))

    async def _service_body(self, request: Request):
        """(service id, JSON body) of an authenticated request to a known service, or (None,
        the error response)."""
        service_id = request.path_params["service_id"]
        if service_id not in cds.SERVICES:
            return None, error(404, "no such CDS service")
        refused = await self.authenticate(request)
        if refused:
            return None, refused
        body, failed = await read_json(request, self.settings)
        return (None, failed) if failed else (service_id, body)

    async def call(self, request: Request):
        service_id, body = await self._service_body(request)
        if service_id is None:
            return body
        hook = cds.SERVICES[service_id][0]
        request.state.hook = hook
        try:
            context = cds.check_request(service_id, body)
        except cds.RequestError as bad:
            return error(400, str(bad))
        prefetch = dict(body.get("prefetch") or {})
        missing = cds.missing_prefetch(prefetch, self.prefetch)
        not_read = []
        if missing:
            fetched, failure = await self._fetch(request, body, context, missing)
            if failure and any(key in missing for key in cds.REQUIRED):
                return error(412, f"the patient's data could not be had: {failure}")
            prefetch.update(fetched)
            not_read = [key for key in missing if key not in fetched and key != "patient"]
        if self.settings.require_rls_on_problem_list and not cds.has_rls(prefetch.get("conditions")):
            return JSON({"cards": []})
        record, sources = cds.record_for(context, prefetch, hook)
        try:
            document = self.screener.assess(record)
        except (RecordError, UsageError) as bad:
            return error(400, f"the FHIR data could not be read: {bad}")
        return JSON({"cards": cds.cards(document, hook, context, sources, self.settings, not_read)})

    async def _fetch(self, request, body, context, missing):
        """({key: data} fetched from the EHR's FHIR server, a reason when that failed)."""
        server = body.get("fhirServer")
        if server is None:
            return {}, "neither prefetched nor a fhirServer given"
        issuer = self.settings.issuer(getattr(request.state, "iss", None))
        try:
            base = fhirclient.check_server(server, issuer.fhir_servers if issuer else [])
            queries = {key: fhirclient.fill(template, context) for key, template in missing.items()}
            return await fhirclient.fetch_all(base, body.get("fhirAuthorization"), queries,
                                              self.settings.fhir_timeout_seconds), None
        except fhirclient.PrefetchError as failure:
            return {}, str(failure)

    async def feedback(self, request: Request):
        service_id, body = await self._service_body(request)
        if service_id is None:
            return body
        items = body.get("feedback") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items or not all(
                isinstance(i, dict) and isinstance(i.get("card"), str) and i.get("outcome") in ("accepted", "overridden")
                for i in items):
            return error(400, "feedback must be a non-empty array of {card, outcome: accepted|overridden, ...}")
        for item in items:
            reason = item.get("overrideReason") if isinstance(item.get("overrideReason"), dict) else {}
            coding = reason.get("reason") if isinstance(reason.get("reason"), dict) else {}
            accepted = item["acceptedSuggestions"] if isinstance(item.get("acceptedSuggestions"), list) else []
            # Card and suggestion ids and the reason code only: a user comment may hold patient data.
            log.info(json.dumps({"event": "feedback", "service": service_id, "card": item["card"][:64],
                                 "outcome": item["outcome"],
                                 "accepted": [str(s.get("id"))[:64] for s in accepted if isinstance(s, dict)],
                                 "reason": str(coding.get("code"))[:64] if coding.get("code") else None}))
        return JSON({})

    # JSON API and page ---------------------------------------------------------------------

    async def assess(self, request: Request):
        body, failed = await read_json(request, self.settings)
        if failed:
            return failed
        if isinstance(body, dict) and isinstance(body.get("resourceType"), str):
            body = {"fhir": body}
        try:
            return JSON(self.screener.assess(body))
        except (RecordError, UsageError) as bad:
            return error(400, str(bad))

    async def health(self, request: Request):
        return JSON({"status": "ok", "rlscheck_version": __version__})

    async def openapi(self, request: Request):
        return JSON(openapi.document(__version__))

    async def schema(self, request: Request):
        from importlib.resources import files

        name = request.path_params["name"]
        if name not in ("assess.schema.json", "cds-hooks-response.schema.json"):
            return error(404, "no such schema")
        return Response((files("rlscheck") / "schemas" / name).read_bytes(), media_type="application/schema+json")

    async def form(self, request: Request):
        return _page(self.form_html)

    async def submit(self, request: Request):
        try:
            raw = await read_body(request, self.settings.max_body_bytes)
        except TooLarge:
            return _page(self.page.render(error="The form is too large."), 413)
        fields = page.parse_form(raw)
        if fields is None:
            return _page(self.page.render(error="The form has too many fields."), 413)
        record = page.record_from_form(fields)
        if not record:
            return _page(self.page.render(fields, error="Enter at least one medication, condition, habit, risk "
                                                        "factor or lab result."), 400)
        try:
            document = self.screener.assess(record)
        except (RecordError, UsageError) as bad:
            return _page(self.page.render(fields, error=str(bad)), 400)
        return _page(self.page.render(fields, page.report_html(document)))

    async def stylesheet(self, request: Request):
        return Response(page.STYLE, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


class AccessLog:
    """One JSON line per request: method, path, status, duration. No bodies, no query strings,
    no headers (tokens and patient data stay out of the logs)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = [500]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", []))
                have = {name.lower() for name, _ in headers}
                headers += [header for header in _COMMON_RAW if header[0] not in have]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                state = scope.get("state") or {}
                access_log.info(orjson.dumps({
                    # an unknown path is not repeated: a misdirected client could put anything in it
                    "time": round(time.time(), 3), "method": scope["method"][:10],
                    "path": scope["path"][:200] if status[0] != 404 else "(unknown path)",
                    "status": status[0], "ms": round((time.perf_counter() - start) * 1000, 2),
                    "hook": state.get("hook"), "auth_error": state.get("auth")}).decode())


async def not_found(request, exc):
    return error(exc.status_code, exc.detail if isinstance(exc.detail, str) else "error")


async def internal_error(request, exc):
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return error(500, "internal error")


def create_app(settings: Settings | None = None) -> Starlette:
    worker = settings is None  # a worker started by `rlscheck serve`
    if worker:
        settings = Settings.from_environment()
        configure_logging(os.environ.get(LOG_LEVEL, "INFO"))
    service = Service(settings)
    if worker:
        # The knowledge base and the loaded modules live as long as the worker: the garbage
        # collector need not walk them again (a full walk would pause every request in flight).
        gc.collect()
        gc.freeze()
    routes = [
        Route("/", service.form, methods=["GET"]),
        Route("/", service.submit, methods=["POST"]),
        Route("/static/page.css", service.stylesheet, methods=["GET"]),
        Route("/health", service.health, methods=["GET"]),
        Route("/openapi.json", service.openapi, methods=["GET"]),
        Route("/schemas/{name}", service.schema, methods=["GET"]),
        Route("/assess", service.assess, methods=["POST"]),
        Route("/cds-services", service.discovery, methods=["GET"]),
        Route("/cds-services/{service_id}", service.call, methods=["POST"]),
        Route("/cds-services/{service_id}/feedback", service.feedback, methods=["POST"]),
    ]
    middleware = [
        Middleware(AccessLog),
        Middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                   allow_headers=["Authorization", "Content-Type"], max_age=600),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=service.lifespan,
                    exception_handlers={HTTPException: not_found, Exception: internal_error})
    return app


def configure_logging(level=logging.INFO):
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("rlscheck.serve", "rlscheck.serve.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler] if name == "rlscheck.serve" else []
        logger.setLevel(level)
