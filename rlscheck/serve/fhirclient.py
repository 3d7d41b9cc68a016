"""Fetch what the EHR did not prefetch from its FHIR server (CDS Hooks `fhirServer` with the
bearer token in `fhirAuthorization`).

One attempt per query, all queries at once, each bounded by the configured timeout; no
retries (a slow EHR must not be hit harder), no redirects, a cap on pages and bytes. Any
failure is a PrefetchError, which the service answers with 412 as the specification asks.
"""

from __future__ import annotations

import asyncio
import functools
import re
from urllib.parse import quote, urljoin, urlsplit

MAX_PAGES = 5
MAX_BYTES = 8 * 1024 * 1024
_TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z0-9_]+)\s*\}\}")


class PrefetchError(Exception):
    """The data the service needs could not be had; the message holds no patient data."""


def fill(template: str, context: dict) -> str:
    """A prefetch template with its {{context.x}} tokens replaced (URL-encoded)."""
    def value(match):
        found = context.get(match.group(1))
        if not isinstance(found, (str, int)) or isinstance(found, bool) or found == "":
            raise PrefetchError(f"context.{match.group(1)} is needed and missing")
        return quote(str(found), safe="")
    return _TOKEN.sub(value, template)


def check_server(server, allowed) -> str:
    """The FHIR base URL, if it is http(s) and (when the config lists servers) allowed."""
    if not isinstance(server, str) or urlsplit(server).scheme not in ("http", "https") or not urlsplit(server).netloc:
        raise PrefetchError("fhirServer is missing or not an http(s) URL")
    base = server.rstrip("/") + "/"
    if allowed and not any(base.startswith(a.rstrip("/") + "/") for a in allowed):
        raise PrefetchError("fhirServer is not on this issuer's allow-list")
    return base


@functools.lru_cache(maxsize=None)
def tls():
    """The TLS context of every outgoing call (JWK Sets, FHIR servers): the CA certificates are
    read once per worker, not on each call (reading them costs tens of milliseconds of CPU)."""
    import httpx

    return httpx.create_ssl_context()


async def fetch_all(server: str, authorization, queries: dict, timeout: float) -> dict:
    """{key: FHIR resource or searchset Bundle} for each relative query."""
    import httpx

    headers = {"Accept": "application/fhir+json, application/json"}
    if isinstance(authorization, dict) and isinstance(authorization.get("access_token"), str):
        headers["Authorization"] = f"Bearer {authorization['access_token']}"
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, headers=headers, verify=tls()) as client:
        tasks = {key: asyncio.ensure_future(_fetch(client, server, urljoin(server, query)))
                 for key, query in queries.items()}
        done, pending = await asyncio.wait(tasks.values(), timeout=timeout * 2,
                                           return_when=asyncio.FIRST_EXCEPTION)
        for task in pending:  # one query failed or time ran out: the others are not needed
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        failed = [task.exception() for task in done if task.exception() is not None]
        if failed:
            raise failed[0]
        if pending:
            raise PrefetchError("the FHIR server did not answer in time")
    return {key: task.result() for key, task in tasks.items()}


async def _fetch(client, server, url):
    import httpx

    entries, bundle = [], None
    for _ in range(MAX_PAGES):
        try:
            response = await client.get(url)
        except httpx.HTTPError as error:
            raise PrefetchError(f"the FHIR server could not be reached ({type(error).__name__})") from None
        if response.status_code == 404 and bundle is None:
            return None
        if response.status_code != 200:
            raise PrefetchError(f"the FHIR server answered HTTP {response.status_code}")
        if len(response.content) > MAX_BYTES:
            raise PrefetchError("the FHIR server's answer is too large")
        try:
            page = response.json()
        except ValueError:
            raise PrefetchError("the FHIR server's answer is not JSON") from None
        if not isinstance(page, dict) or page.get("resourceType") == "OperationOutcome":
            raise PrefetchError("the FHIR server answered with an error")
        if page.get("resourceType") != "Bundle":
            return page
        bundle = bundle or page
        entries += [e for e in page.get("entry") or [] if isinstance(e, dict)]
        following = [link.get("url") for link in page.get("link") or []
                     if isinstance(link, dict) and link.get("relation") == "next"]
        if not following or not isinstance(following[0], str) or not following[0].startswith(server):
            break  # no next page, or one pointing off the EHR's server: not followed
        url = following[0]
    return {**bundle, "entry": entries}
