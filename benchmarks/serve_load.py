"""A bounded loopback load test of `rlscheck serve`: order-sign calls with prefetch, each with
its own ES384-signed JWT (verification on), against one worker.

    python benchmarks/serve_load.py                  # 3,000 requests at 8 and at 32 connections
    python benchmarks/serve_load.py --requests 20000 --memory-requests 50000

Reports p50/p99 latency and requests/s at each concurrency, the p99 of bodies never seen before
on a fresh process, the server's memory over a long run, non-2xx responses, and p99 against the
time of one in-process call. The load generator runs on the same machine as the server and
competes with it for CPU, so it is kept lean: every body is encoded and every token signed
(a unique jti each) before the timed phase, and the client writes the prepared bytes over
keep-alive HTTP/1.1 connections with raw asyncio streams. Both sides' CPU time per request
is reported: the server's (from /proc) is the steadier measure; latencies and rates depend
on what else the machine runs.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ISSUER = "https://ehr.load.test"
PATH = "/cds-services/rlscheck-order-sign"
COMMON = ["sertraline 50 MG Oral Tablet", "metformin 500 MG Oral Tablet", "lisinopril 10 MG Oral Tablet",
          "atorvastatin 20 MG Oral Tablet", "diphenhydramine 25 MG Oral Capsule", "levothyroxine 50 MCG Oral Tablet"]
ORDERED = ["metoclopramide 10 MG Oral Tablet", "promethazine 25 MG Oral Tablet", "haloperidol 5 MG Oral Tablet",
           "amoxicillin 500 MG Oral Capsule", "ondansetron 4 MG Oral Tablet", "hydroxyzine 25 MG Oral Tablet"]


def med(ident, display, status):
    return {"resourceType": "MedicationRequest", "id": ident, "status": status, "intent": "order",
            "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "display": display}]}}


def bundle(*resources):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def body(rng, names=None):
    """An order-sign request with prefetch: 1 draft order, 3 current medications, RLS on the problem list."""
    ordered = names[0] if names else rng.choice(ORDERED)
    current = names[1:] if names else rng.sample(COMMON, 3)
    rls = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
           "clinicalStatus": {"coding": [{"code": "active"}]},
           "code": {"coding": [{"system": "http://snomed.info/sct", "code": "32914008", "display": "Restless legs"}]}}
    return {"hook": "order-sign", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "p1", "draftOrders": bundle(med("d1", ordered, "draft"))},
            "prefetch": {"patient": {"resourceType": "Patient", "id": "p1"},
                         "medications": bundle(*[med(f"m{i}", n, "active") for i, n in enumerate(current)]),
                         "statements": None, "conditions": bundle(rls), "labs": None}}


class Ehr:
    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP384R1())
        jwk = {**ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True), "kid": "k1", "alg": "ES384"}
        raw = json.dumps({"keys": [jwk]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.jwks_url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def tokens(self, audience, count):
        now = int(time.time())
        return ["Bearer " + jwt.encode({"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 280,
                                        "jti": str(uuid.uuid4())}, self.private, algorithm="ES384",
                                       headers={"kid": "k1", "typ": "JWT"}) for _ in range(count)]


class Server:
    def __init__(self, ehr, workdir, log_level="info"):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = Path(workdir) / f"serve-{self.port}.yaml"
        config.write_text(json.dumps({"issuers": [{"iss": ISSUER, "jwks_url": ehr.jwks_url}],
                                      "jti_capacity": 1_000_000}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rlscheck", "serve", "--port", str(self.port), "--config", str(config),
             "--log-level", log_level], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.close()
        raise SystemExit("the server did not start")

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self):
        self.process.terminate()
        self.process.wait(10)


def prepared(url, payloads, tokens):
    """Each call as the exact bytes sent: encoded and signed before the timed phase."""
    host = url.split("://", 1)[1]
    return [(f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\n"
             f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload
            for payload, token in zip(payloads, tokens)]


async def response_status(reader):
    """The status of one HTTP/1.1 response, its body read (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        await reader.readexactly(length)
        return status
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return status


async def run(url, calls, concurrency):
    """(latencies in ms, non-2xx count, wall seconds, the generator's CPU seconds) for every
    prepared call, `concurrency` keep-alive connections at a time. The client is raw asyncio
    streams: a general HTTP client would cost more CPU than the server, on the same cores."""
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    latencies, failures, queue = [], [0], list(calls)

    async def worker():
        reader = writer = None
        while queue:
            call = queue.pop()
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, int(port))
                writer.write(call)
                status = await response_status(reader)
            except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                status = 0  # counted, not hidden: a dropped connection is a failure
                if writer is not None:
                    writer.close()
                reader = writer = None
            latencies.append((time.perf_counter() - started) * 1000)
            if not 200 <= status < 300:
                failures[0] += 1
        if writer is not None:
            writer.close()

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, failures[0], time.perf_counter() - started, time.process_time() - cpu


def drive(url, calls, concurrency):
    try:
        import uvloop  # the serve extra's event loop: a cheaper client
    except ImportError:
        return asyncio.run(run(url, calls, concurrency))
    return uvloop.run(run(url, calls, concurrency))


def progress(args, key, value):
    if not args.json:
        print(f"... {key}: {json.dumps(value)}", file=sys.stderr, flush=True)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(server, calls, concurrency):
    """The latencies, rate and failures of one timed phase, with the CPU time per request of
    the server (process time from /proc: independent of what else the machine runs) and of
    the load generator."""
    cpu = server.cpu_seconds()
    latencies, failures, wall, client_cpu = drive(server.url, calls, concurrency)
    return {"requests": len(latencies), "p50_ms": round(percentile(latencies, 0.5), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2), "requests_per_s": round(len(latencies) / wall),
            "non_2xx_or_dropped": failures,
            "server_cpu_ms_per_request": round((server.cpu_seconds() - cpu) * 1000 / len(latencies), 3),
            "client_cpu_ms_per_request": round(client_cpu * 1000 / len(latencies), 3)}


def in_process_ms(rng, ehr):
    """Median time of one in-process call: assess_record (builds a Screener each call, as a
    notebook would) and Screener.assess (warm, as the server does); and the CPU time of
    checking one ES384 token with PyJWT, the floor of what the server spends on a call."""
    from rlscheck.api import Screener, assess_record
    from rlscheck.serve import cds

    sample = body(rng)
    record, _ = cds.record_for(sample["context"], sample["prefetch"], "order-sign")
    assess_record(record)
    cold = []
    for _ in range(20):
        started = time.perf_counter()
        assess_record(record)
        cold.append((time.perf_counter() - started) * 1000)
    screener = Screener()
    screener.assess(record)
    warm = []
    for _ in range(200):
        started = time.perf_counter()
        screener.assess(record)
        warm.append((time.perf_counter() - started) * 1000)
    tokens = [token[7:] for token in ehr.tokens("urn:aud", 300)]
    public = ehr.private.public_key()
    cpu = time.process_time()
    for token in tokens:
        jwt.decode(token, public, algorithms=["ES384"], audience="urn:aud", issuer=ISSUER,
                   options={"require": ["iss", "aud", "exp", "iat", "jti"]})
    verify = (time.process_time() - cpu) * 1000 / len(tokens)
    return statistics.median(cold), statistics.median(warm), verify


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests at each concurrency")
    parser.add_argument("--fresh-requests", type=int, default=300, help="never-seen bodies on a fresh process")
    parser.add_argument("--memory-requests", type=int, default=10000, help="requests of the memory run")
    parser.add_argument("--log-level", default="info", choices=["info", "warning"],
                        help="the server's log level (info, the default, writes an access line per request)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    args = parser.parse_args()
    rng = random.Random(17)
    ehr = Ehr()
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        server = Server(ehr, workdir, args.log_level)
        try:
            audience = server.url + PATH
            payloads = [json.dumps(body(rng)).encode() for _ in range(max(args.requests, 1))]
            for concurrency in (8, 32):
                drive(server.url, prepared(server.url, payloads[:200], ehr.tokens(audience, 200)), concurrency)  # warm-up
                calls = prepared(server.url, payloads[: args.requests], ehr.tokens(audience, args.requests))
                results[f"concurrency_{concurrency}"] = measure(server, calls, concurrency)
                progress(args, f"concurrency_{concurrency}", results[f"concurrency_{concurrency}"])
            memory = [server.rss_mib()]
            done = failures = 0
            while done < args.memory_requests:
                chunk = min(5000, args.memory_requests - done)
                calls = prepared(server.url, [payloads[i % len(payloads)] for i in range(chunk)],
                                 ehr.tokens(audience, chunk))
                failures += drive(server.url, calls, 32)[1]
                done += chunk
                memory.append(server.rss_mib())
                progress(args, "memory", {"requests": done, "rss_mib": round(memory[-1], 1)})
            results["memory"] = {"requests": done, "rss_mib": [round(m, 1) for m in memory],
                                 "non_2xx_or_dropped": failures}
        finally:
            server.close()

        # Fresh process, bodies never seen: drug names drawn from the knowledge base and unknown ones.
        from rlscheck.api import load_knowledge_base

        names = [n for n, _ in load_knowledge_base().completions("medication")]
        fresh = [json.dumps(body(rng, [f"{rng.choice(names)} {rng.randint(1, 500)} MG Oral Tablet"
                                       for _ in range(4)] + [f"zz{uuid.uuid4().hex[:8]}"])).encode()
                 for _ in range(args.fresh_requests)]
        server = Server(ehr, workdir, args.log_level) if fresh else None
        try:
            if server:
                calls = prepared(server.url, fresh, ehr.tokens(server.url + PATH, len(fresh)))
                results["fresh_process_unseen_bodies"] = measure(server, calls, 8)
        finally:
            if server:
                server.close()
    cold, warm, verify = in_process_ms(rng, ehr)
    results["in_process_ms"] = {"assess_record": round(cold, 3), "screener_assess": round(warm, 3),
                                "es384_jwt_decode_cpu": round(verify, 3)}
    for key in ("concurrency_8", "concurrency_32"):
        results[key]["p99_over_assess_record"] = round(results[key]["p99_ms"] / cold, 1)
        results[key]["p99_over_screener_assess"] = round(results[key]["p99_ms"] / warm, 1)
        results[key]["server_cpu_over_es384_jwt_decode"] = round(results[key]["server_cpu_ms_per_request"] / verify, 2)
    results["cpus"] = os.cpu_count()
    results["load_average"] = os.getloadavg()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key}: {json.dumps(value)}")


if __name__ == "__main__":
    main()
