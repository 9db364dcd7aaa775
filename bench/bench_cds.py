"""CDS Hooks benchmark: ``isotretinoin-order-sign`` against ``GET /health`` on one server.

Run from the checkout (not part of the tests; nothing is asserted)::

    .venv/bin/python bench/bench_cds.py                 # wrk (installed with apt when missing)
    .venv/bin/python bench/bench_cds.py --tool python   # an asyncio + httpx load generator

What it does, in one run:

1. makes a temporary SQLite database (``isotrack db upgrade``), an RS384 key and
   its JWKS file, and starts ``isotrack serve`` on 127.0.0.1 and a free port, with
   ``ISOTRACK_CDS_ISSUERS`` naming the JWKS, unsigned requests allowed
   (``ISOTRACK_ENV=test``) and rate limits too high to throttle;
2. builds a realistic order-sign request from a Synthea bundle: the patient and
   searchset Bundles of MedicationRequest, Condition, Observation (the LOINC codes
   the knowledge base knows), AllergyIntolerance and Procedure under the
   contract's prefetch keys, an isotretinoin draft order (20 mg capsules, 40 mg a
   day, 30 days), and the evaluation-date extension (the day after the record's
   last observation);
3. loads, with the same tool and the same concurrency, ``GET /health``, then
   order-sign without a token (unsigned mode), then order-sign with a fresh
   signed token (unique ``jti``) per request, each for ``--seconds`` (wrk; the
   python tool also stops after ``--requests``);
4. prints requests/s, p50 and p99 latency, the non-2xx count, and the ratio of
   order-sign to health throughput (the target is at least 0.3).

Loopback only; the server and the load tool share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "synthea-r4"
KNOWLEDGE = REPO / "src" / "isotrack" / "knowledge" / "data"
SERVICE_PATH = "/cds-services/isotretinoin-order-sign"
ISSUER = "https://ehr.bench.example"
KID = "bench-key-1"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ISOTRETINOIN_20_MG = ("197844", "isotretinoin 20 MG Oral Capsule")
PREFETCH_TYPES = {
    "medications": "MedicationRequest",
    "conditions": "Condition",
    "observations": "Observation",
    "allergies": "AllergyIntolerance",
    "procedures": "Procedure",
}

WRK_SCRIPT = r"""
local tokens = {}
local count = 0
local method = os.getenv("BENCH_METHOD")
local path = os.getenv("BENCH_PATH")
local body = nil
local body_file = os.getenv("BENCH_BODY")
if body_file ~= "" then
  local f = io.open(body_file, "rb"); body = f:read("*all"); f:close()
end
local token_file = os.getenv("BENCH_TOKENS")
if token_file ~= "" then
  for line in io.lines(token_file) do tokens[#tokens + 1] = line end
end
local headers = {}
if body then headers["Content-Type"] = "application/json" end

request = function()
  count = count + 1
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[((count - 1) % #tokens) + 1]
  end
  return wrk.format(method, path, headers, body)
end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    non2xx: int
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# --- the request -------------------------------------------------------------


def known_loinc_codes() -> set[str]:
    """Every LOINC code the knowledge base lists (the contract's observations filter)."""
    codes: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("system") == "loinc" and isinstance(node.get("code"), str):
                codes.add(node["code"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in KNOWLEDGE.glob("*.toml"):
        walk(tomllib.loads(path.read_text(encoding="utf-8")))
    return codes


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": f"urn:uuid:{r.get('id')}", "resource": r} for r in resources],
    }


def order_sign_request(bundle_path: Path) -> tuple[dict[str, Any], str]:
    """The order-sign request of the bundle's patient, and a one-line description."""
    bundle = json.loads(gzip.decompress(bundle_path.read_bytes()))
    resources = [entry["resource"] for entry in bundle.get("entry", [])]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    loinc = known_loinc_codes()

    def wanted(resource: dict[str, Any], kind: str) -> bool:
        if resource["resourceType"] != kind:
            return False
        if kind != "Observation":
            return True
        codings = resource.get("code", {}).get("coding", [])
        return any(c.get("system") == LOINC and c.get("code") in loinc for c in codings)

    prefetch: dict[str, Any] = {"patient": patient}
    for key, kind in PREFETCH_TYPES.items():
        prefetch[key] = searchset([r for r in resources if wanted(r, kind)])
    observed = [
        entry["resource"].get("effectiveDateTime", "")[:10]
        for entry in prefetch["observations"]["entry"]
    ]
    last = max((day for day in observed if day), default=datetime.now(UTC).date().isoformat())
    evaluation = (date.fromisoformat(last) + timedelta(days=1)).isoformat()
    order = draft_isotretinoin_order(patient["id"], evaluation)
    request = {
        "hookInstance": str(uuid.uuid4()),
        "hook": "order-sign",
        "context": {
            "userId": "Practitioner/bench",
            "patientId": patient["id"],
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": order}],
            },
        },
        "prefetch": prefetch,
        "extension": {"isotrack-evaluation-date": evaluation},
    }
    counts = ", ".join(f"{key} {len(prefetch[key]['entry'])}" for key in PREFETCH_TYPES)
    return request, f"{bundle_path.name[:40]}… ({counts}; evaluated {evaluation})"


def draft_isotretinoin_order(patient_id: str, day: str) -> dict[str, Any]:
    code, display = ISOTRETINOIN_20_MG
    return {
        "resourceType": "MedicationRequest",
        "id": "bench-draft-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": day,
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": code, "display": display}],
            "text": display,
        },
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 20,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": 0,
            "quantity": {
                "value": 60,
                "unit": "capsule",
                "system": "http://unitsofmeasure.org",
                "code": "{capsule}",
            },
            "expectedSupplyDuration": {
                "value": 30,
                "unit": "days",
                "system": "http://unitsofmeasure.org",
                "code": "d",
            },
        },
    }


# --- the EHR's key and tokens ------------------------------------------------


class Signer:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS384"}]}

    def tokens(self, count: int, audience: str) -> list[str]:
        now = int(time.time())
        return [
            jwt.encode(
                {
                    "iss": ISSUER,
                    "sub": "bench-ehr",
                    "aud": audience,
                    "iat": now,
                    "exp": now + 290,
                    "jti": str(uuid.uuid4()),
                },
                self.key,
                algorithm="RS384",
                headers={"kid": KID},
            )
            for _ in range(count)
        ]


# --- the server --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(folder: Path, jwks_path: Path) -> Iterator[str]:
    isotrack = str(Path(sys.executable).with_name("isotrack"))
    database = f"sqlite:///{folder / 'bench.db'}"
    env = {
        **os.environ,
        "ISOTRACK_ENV": "test",
        "ISOTRACK_DATABASE_URL": database,
        "ISOTRACK_RATE_LIMIT_PER_MINUTE": "1000000000",
        "ISOTRACK_RATE_LIMIT_BURST": "1000000000",
        "ISOTRACK_CDS_ISSUERS": json.dumps({ISSUER: str(jwks_path)}),
        "ISOTRACK_CDS_ALLOW_UNSIGNED": "true",
    }
    subprocess.run([isotrack, "db", "upgrade"], env=env, check=True, capture_output=True)  # noqa: S603  # our own CLI, fixed arguments
    port = free_port()
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(  # noqa: S603  # idem
        [isotrack, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped: see {folder / 'server.log'}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer /health within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


# --- load tools --------------------------------------------------------------


def ensure_wrk() -> str | None:
    """The path of wrk; installed with apt-get (when root) if it is missing."""
    found = shutil.which("wrk")
    apt = shutil.which("apt-get")
    if found or apt is None or os.geteuid() != 0:
        return found
    print("wrk is missing; installing it with apt-get …", file=sys.stderr)
    subprocess.run([apt, "install", "-y", "-q", "wrk"], check=False, capture_output=True)  # noqa: S603  # fixed arguments
    return shutil.which("wrk")


def load_with_wrk(
    wrk: str,
    folder: Path,
    base: str,
    name: str,
    *,
    method: str,
    path: str,
    body: Path | None,
    tokens: list[str],
    seconds: int,
    connections: int,
) -> Result:
    script = folder / "bench.lua"
    script.write_text(WRK_SCRIPT)
    token_file = folder / f"tokens-{name}.txt"
    token_file.write_text("\n".join(tokens) + ("\n" if tokens else ""))
    env = {
        **os.environ,
        "BENCH_METHOD": method,
        "BENCH_PATH": path,
        "BENCH_BODY": str(body) if body else "",
        "BENCH_TOKENS": str(token_file) if tokens else "",
    }
    completed = subprocess.run(  # noqa: S603  # wrk with fixed arguments
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    line = next(x for x in completed.stdout.splitlines() if x.startswith('{"requests"'))
    data = json.loads(line)
    return Result(
        name,
        data["requests"],
        data["duration_us"] / 1e6,
        data["non2xx"],
        data["errors"],
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
    )


def load_with_python(
    base: str,
    name: str,
    *,
    method: str,
    path: str,
    body: bytes | None,
    tokens: list[str],
    requests: int,
    seconds: int,
    connections: int,
) -> Result:
    async def run() -> Result:
        latencies: list[float] = []
        non2xx = errors = 0
        sent = 0
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
            start = time.perf_counter()
            stop_at = start + seconds

            async def worker() -> None:
                nonlocal sent, non2xx, errors
                while sent < requests and time.perf_counter() < stop_at:
                    index = sent
                    sent += 1
                    headers = {"Content-Type": "application/json"} if body else {}
                    if tokens:
                        headers["Authorization"] = f"Bearer {tokens[index % len(tokens)]}"
                    began = time.perf_counter()
                    try:
                        response = await client.request(method, path, content=body, headers=headers)
                    except httpx.HTTPError:
                        errors += 1
                        continue
                    latencies.append(time.perf_counter() - began)
                    if not 200 <= response.status_code < 300:
                        non2xx += 1

            await asyncio.gather(*(worker() for _ in range(connections)))
            elapsed = time.perf_counter() - start
        latencies.sort()
        p50 = statistics.median(latencies) if latencies else 0.0
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0.0
        return Result(name, len(latencies), elapsed, non2xx, errors, p50 * 1000, p99 * 1000)

    return asyncio.run(run())


# --- the run -----------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{now} · nproc {os.cpu_count()} · {model} · Python {platform.python_version()} · "
        f"{platform.system()} {platform.release()}"
    )


@dataclass
class Load:
    name: str
    method: str
    path: str
    body: Path | None
    tokens: list[str]


def run_load(
    load: Load, args: argparse.Namespace, wrk: str | None, folder: Path, base: str
) -> Result:
    """One load of ``args.seconds`` (wrk) or of at most ``args.requests`` and ``args.seconds``."""
    if wrk is not None:
        result = load_with_wrk(
            wrk,
            folder,
            base,
            str(abs(hash(load.name))),
            method=load.method,
            path=load.path,
            body=load.body,
            tokens=load.tokens,
            seconds=args.seconds,
            connections=args.connections,
        )
    else:
        result = load_with_python(
            base,
            load.name,
            method=load.method,
            path=load.path,
            body=load.body.read_bytes() if load.body else None,
            tokens=load.tokens,
            requests=args.requests,
            seconds=args.seconds,
            connections=args.connections,
        )
    result.name = load.name
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tool", choices=["wrk", "python"], default="wrk")
    parser.add_argument(
        "--bundle",
        default="Madalyn_Frami",
        help="start of the Synthea file name (default: %(default)s)",
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of each load")
    parser.add_argument(
        "--requests", type=int, default=5000, help="cap of each load with --tool python"
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1, help="health/unsigned/signed rounds")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time, in this process, each stage of one order-sign request",
    )
    args = parser.parse_args()

    bundle = next(iter(sorted(args.data.glob(f"{args.bundle}*.json.gz"))), None)
    if bundle is None:
        raise SystemExit(f"no Synthea bundle {args.bundle}* in {args.data}")
    request, described = order_sign_request(bundle)
    wrk = ensure_wrk() if args.tool == "wrk" else None
    if args.tool == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk) — or use --tool python")
    signer = Signer()
    results: list[list[Result]] = []
    with tempfile.TemporaryDirectory(prefix="isotrack-bench-cds-") as tmp:
        folder = Path(tmp)
        jwks_path = folder / "ehr-jwks.json"
        jwks_path.write_text(json.dumps(signer.jwks()))
        body_path = folder / "order-sign.json"
        body_path.write_bytes(json.dumps(request).encode())
        with running_server(folder, jwks_path) as base:
            audience = base + SERVICE_PATH
            cards = first_answer(body_path, audience, signer)
            health = Load("GET /health", "GET", "/health", None, [])
            unsigned = Load("order-sign (unsigned mode)", "POST", SERVICE_PATH, body_path, [])
            for _ in range(args.rounds):
                row = [run_load(health, args, wrk, folder, base)]
                row.append(run_load(unsigned, args, wrk, folder, base))
                # One fresh token per request: enough for 1.5x the unsigned rate (wrk runs
                # for a fixed time); a token used twice would be a 401, counted as non-2xx.
                wanted = int(row[1].rate * args.seconds * 1.5) + 200 if wrk else args.requests
                tokens = signer.tokens(wanted, audience)
                signed = Load("order-sign (signed RS384)", "POST", SERVICE_PATH, body_path, tokens)
                row.append(run_load(signed, args, wrk, folder, base))
                results.append(row)

    print(f"machine: {machine()}")
    print(
        f"load: {args.tool}, {args.connections} connections, {args.seconds} s each, "
        "one uvicorn process on 127.0.0.1"
    )
    print(
        f"request: {described}; body {body_path_size(request) / 1024:.0f} KiB; "
        f"{len(cards)} cards ({', '.join(c.get('indicator', '?') for c in cards)})"
    )
    print()
    print(
        f"{'endpoint':<28} {'requests':>9} {'non-2xx':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    )
    for row in results:
        for r in row:
            print(
                f"{r.name:<28} {r.requests:>9} {r.non2xx + r.errors:>8} {r.rate:>9.1f} "
                f"{r.p50_ms:>8.1f} {r.p99_ms:>8.1f}"
            )
    if args.breakdown:
        print()
        print_breakdown(request, signer)
    print()
    for health_result, unsigned_result, signed_result in results:
        print(
            "order-sign / health throughput: "
            f"signed {signed_result.rate / health_result.rate:.3f}×, "
            f"unsigned {unsigned_result.rate / health_result.rate:.3f}× (target ≥ 0.3×)"
        )


def first_answer(body_path: Path, audience: str, signer: Signer) -> list[dict[str, Any]]:
    """The cards of one signed request (and proof the service answers 200 before loading it)."""
    answer = httpx.post(
        audience,
        content=body_path.read_bytes(),
        timeout=30,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {signer.tokens(1, audience)[0]}",
        },
    )
    if answer.status_code != 200:
        raise SystemExit(f"order-sign answered {answer.status_code}: {answer.text[:500]}")
    cards: list[dict[str, Any]] = answer.json().get("cards", [])
    return cards


def print_breakdown(request: dict[str, Any], signer: Signer, repeats: int = 50) -> None:
    """Milliseconds per request of each stage of order-sign, in this process (no HTTP)."""
    from isotrack.cds.cards import CardSettings
    from isotrack.cds.discovery import SERVICES
    from isotrack.cds.models import CardsResponse, decode_hook_request, encode
    from isotrack.cds.security import EhrTokenVerifier
    from isotrack.cds.service import answer_hook
    from isotrack.knowledge import default_knowledge

    kb = default_knowledge()
    cards = CardSettings(kb, None)
    service = SERVICES["isotretinoin-order-sign"]
    body = json.dumps(request).encode()
    audience = "http://bench" + SERVICE_PATH
    verifier = EhrTokenVerifier({ISSUER: "memory"}, jwks_fetcher=lambda _: signer.jwks())
    tokens = iter(signer.tokens(repeats + 1, audience))
    decoded = decode_hook_request(body)
    today = datetime.now(UTC).date()
    answer = answer_hook(decoded, service, kb=kb, cards=cards, today=today, reader=None)
    stages = {
        "verify the JWT": lambda: verifier.verify(next(tokens), audiences=[audience]),
        "decode the request": lambda: decode_hook_request(body),
        "answer the hook (FHIR → snapshot → screen → cards)": lambda: answer_hook(
            decoded, service, kb=kb, cards=cards, today=today, reader=None
        ),
        "encode the cards": lambda: encode(CardsResponse(answer.cards)),
    }
    print("in-process stages of one order-sign request (ms, mean of", repeats, "runs):")
    for name, stage in stages.items():
        stage()
        began = time.perf_counter()
        for _ in range(repeats):
            stage()
        print(f"  {name:<52} {(time.perf_counter() - began) / repeats * 1000:8.2f}")


def body_path_size(request: dict[str, Any]) -> int:
    return len(json.dumps(request).encode())


if __name__ == "__main__":
    main()
