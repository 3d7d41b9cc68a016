"""Who may call the CDS services: the EHR's JSON Web Token, as CDS Hooks 2.0 requires.

Each call carries `Authorization: Bearer <JWT>`, signed with the EHR's private key (an
asymmetric algorithm; `none` and HMAC are refused). The issuer must be trusted in the config
file; the key is found by `kid` in the issuer's JWK Set (its configured URL, or a `jku` URL
that the config allows: the allow-list is checked before anything is fetched). `aud` must be
the URL being called, `exp`, `iat` and `jti` are required, the token may live at most
`max_token_lifetime_seconds`, and a `jti` is accepted once while its token is alive.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
JWKS_TTL_SECONDS = 300
JWKS_REFRESH_SECONDS = 30  # an unknown kid triggers at most one refetch per URL this often
JWKS_MAX_BYTES = 256 * 1024


class AuthError(Exception):
    """The call is not authenticated; the message says why (it holds no token content)."""

    status = 401


class Busy(AuthError):
    status = 503


class JtiStore:
    """The `jti`s seen, each kept until its token expires. Bounded: when full of live tokens,
    new calls are refused (503) rather than forgetting a jti that could then be replayed."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._seen: OrderedDict = OrderedDict()

    def __len__(self):
        return len(self._seen)

    def add(self, key, expires: float, now: float) -> bool:
        """False when `key` was already seen (a replay)."""
        seen = self._seen
        while seen:
            first = next(iter(seen))
            if seen[first] >= now:
                break
            del seen[first]
        if key in seen:
            if seen[key] >= now:
                return False
        elif len(seen) >= self.capacity:
            for old in [k for k, exp in seen.items() if exp < now]:
                del seen[old]
            if len(seen) >= self.capacity:
                raise Busy("too many live tokens; try again shortly")
        seen[key] = expires
        return True


class KeySets:
    """JWK Sets by URL, cached for JWKS_TTL_SECONDS: {kid: (PyJWK, the alg the key declares)}."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._cache: dict = {}  # url -> (fetched_at, {kid: PyJWK})
        self._locks: dict = {}

    async def key(self, url: str, kid: str):
        now = time.monotonic()
        fetched_at, keys = self._cache.get(url, (None, {}))
        fresh = fetched_at is not None and now - fetched_at < JWKS_TTL_SECONDS
        if kid in keys and fresh:
            return keys[kid]
        if fetched_at is not None and now - fetched_at < JWKS_REFRESH_SECONDS:
            return keys.get(kid)
        async with self._locks.setdefault(url, asyncio.Lock()):
            fetched_at, keys = self._cache.get(url, (None, {}))
            if fetched_at is None or time.monotonic() - fetched_at >= JWKS_REFRESH_SECONDS:
                keys = await self._fetch(url)
                self._cache[url] = (time.monotonic(), keys)
        return keys.get(kid)

    async def _fetch(self, url):
        import httpx
        import jwt

        from rlscheck.serve.fhirclient import tls

        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, verify=tls()) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise AuthError(f"JWK Set could not be fetched ({type(error).__name__})") from None
        if response.status_code != 200 or len(response.content) > JWKS_MAX_BYTES:
            raise AuthError(f"JWK Set could not be fetched (HTTP {response.status_code})")
        try:
            entries = response.json()["keys"]
        except (ValueError, KeyError, TypeError):
            raise AuthError("JWK Set is not valid JSON with 'keys'") from None
        keys = {}
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str) or "d" in entry:
                continue  # a key without kid cannot be chosen; a private key is never used
            try:
                keys[entry["kid"]] = (jwt.PyJWK(entry), entry.get("alg"))
            except jwt.PyJWTError:
                continue
        return keys


def _peek(token):
    """The header and claims, unverified: only to choose the issuer and key. PyJWT then parses
    and checks the whole token again (its parse is the costlier half; once is enough here)."""
    import base64

    import orjson

    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError
        header, claims = (orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
                          for part in parts[:2])
    except ValueError:  # binascii.Error and orjson's JSONDecodeError are ValueErrors
        raise AuthError("the bearer token is not a well-formed JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AuthError("the bearer token is not a well-formed JWT")
    return header, claims


class Verifier:
    def __init__(self, settings):
        self.settings = settings
        self.jtis = JtiStore(settings.jti_capacity)
        self.keysets = KeySets(settings.fhir_timeout_seconds)

    async def warm_up(self):
        """Fetch each trusted issuer's JWK Set, so that the first call need not wait for it. A JWK
        Set that cannot be had now is fetched by the first call that needs it."""
        for issuer in self.settings.issuers:
            try:
                await self.keysets.key(issuer.jwks_url, None)
            except AuthError:
                pass

    async def verify(self, authorization: str | None, audience: str) -> dict:
        """The token's claims, or AuthError."""
        import jwt

        if not authorization or not authorization.startswith("Bearer ") or not authorization[7:].strip():
            raise AuthError("an Authorization: Bearer <JWT> header is required")
        token = authorization[7:].strip()
        header, unverified = _peek(token)
        alg = header.get("alg")
        if alg not in ASYMMETRIC:
            raise AuthError("JWT alg must be an asymmetric signature algorithm (not none or HMAC)")
        if not isinstance(header.get("kid"), str) or not header["kid"]:
            raise AuthError("JWT header needs kid")
        if "typ" in header and header["typ"] != "JWT":
            raise AuthError("JWT header typ must be JWT")
        issuer = self.settings.issuer(unverified.get("iss"))
        if issuer is None:
            raise AuthError("JWT issuer is not trusted")
        jku = header.get("jku")
        if jku is not None and jku not in issuer.jku:
            raise AuthError("JWT jku is not on the issuer's allow-list")
        found = await self.keysets.key(jku or issuer.jwks_url, header["kid"])
        if found is None:
            raise AuthError("JWT kid is not in the issuer's JWK Set")
        key, declared_alg = found
        if declared_alg not in (None, alg):
            raise AuthError("JWT alg does not match the key's alg")
        skew = self.settings.clock_skew_seconds
        try:
            # On a thread: OpenSSL checks the signature (most of a call's CPU time) without the
            # GIL, so the event loop goes on serving other calls on another core meanwhile.
            claims = await asyncio.to_thread(jwt.decode, token, key.key, algorithms=[alg], audience=audience,
                                             issuer=issuer.iss, leeway=skew,
                                             options={"require": ["iss", "aud", "exp", "iat", "jti"]})
        except jwt.ExpiredSignatureError:
            raise AuthError("JWT has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError("JWT aud is not this service's URL") from None
        except jwt.PyJWTError as error:
            raise AuthError(f"JWT rejected: {type(error).__name__}") from None
        now = time.time()
        if not isinstance(claims["jti"], str) or not claims["jti"]:
            raise AuthError("JWT jti must be a non-empty string")
        if claims["iat"] > now + skew:
            raise AuthError("JWT iat is in the future")
        if claims["exp"] - claims["iat"] > self.settings.max_token_lifetime_seconds:
            raise AuthError("JWT lives longer than this service accepts")
        # A salted 64-bit hash keeps each remembered jti small; a collision only refuses a token.
        if not self.jtis.add(hash((issuer.iss, claims["jti"])), claims["exp"] + skew, now):
            raise AuthError("JWT jti was already used (replay)")
        return claims
