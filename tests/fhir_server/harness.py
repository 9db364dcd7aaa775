"""A real FHIR R4 server for the EHR tests: Medplum's FHIR router with its in-memory
repository (``@medplum/fhir-router`` from npm, ``tests/fhir_server/package.json``),
behind the small HTTP wrapper ``tests/fhir_server/server.mjs``.

The session fixture :func:`fhir_server` starts it with node on 127.0.0.1 and a free
port, loads Synthea patients (the transaction Bundles of ``shared/data/synthea-r4``)
through its own FHIR API (``POST`` of each Bundle to the base), and stops it at the
end; without node (or npm to install the package with ``npm ci``), or without the
Synthea data, the test is skipped and says why.

Bearer tokens: the in-memory router has no authorisation; the wrapper accepts a
request only with ``Authorization: Bearer <token>`` for one of the tokens it was
started with (:data:`TOKEN`, :data:`NARROW_TOKEN`) and answers anything else 401 with
an OperationOutcome; :data:`NARROW_TOKEN` may use only :data:`NARROW_TYPES` (403 with an
OperationOutcome otherwise), as a token with narrow scopes would. The scopes themselves
are not the server's business: a test passes the scopes the EHR "granted" to the code
under test.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import shared_dir
from tests.node_service import free_port, require_node_package, running_node_script

SERVER_DIR = Path(__file__).resolve().parent
SERVER_SCRIPT = SERVER_DIR / "server.mjs"
START_SECONDS = 60
BASE_PATH = "/fhir/R4"
TOKEN = "ehr-test-access-token"  # noqa: S105  # the test server's token, nowhere else
NARROW_TOKEN = "ehr-test-narrow-token"  # noqa: S105  # the test server's token, nowhere else
NARROW_TYPES = ("Patient", "Observation")
"""What :data:`NARROW_TOKEN` may read: any other type is answered 403 (as an EHR that
granted only ``patient/Patient.rs patient/Observation.rs`` would)."""
SYNTHEA_PATIENTS = (
    "Alfonso_Dietrich_96160268-66b9-4c07-aa11-0a72de133a52.json.gz",
    "Ammie_Huels_ea186cb3-ccb1-4dfc-a92e-dc9286aaa2ce.json.gz",
    "Carin_Kerluke_f71acd6f-7879-494b-b99b-da27234c2827.json.gz",
    "Elvina_Lemke_f2a4f241-ad65-4a1b-8b54-b5717a2338b6.json.gz",
)
"""The Synthea records loaded (a man, and women with weights, lipid panels, liver
enzymes and contraception); more would only slow the session."""


@dataclass
class FhirServer:
    """The running server: ``url`` is its FHIR base; ``patients`` maps each loaded
    Synthea file's stem to the id the server gave its Patient."""

    url: str
    token: str = TOKEN
    patients: dict[str, str] = field(default_factory=dict)

    def client(self, token: str | None = None) -> httpx.Client:
        """An httpx client that sends a bearer token (this server's by default)."""
        return httpx.Client(headers={"Authorization": f"Bearer {token or self.token}"}, timeout=30)

    def patient_id(self, first_name: str) -> str:
        """The server's id of the loaded patient whose file starts with ``first_name``."""
        return next(pid for stem, pid in self.patients.items() if stem.startswith(first_name))

    def read(self, path: str) -> dict[str, Any]:
        with self.client() as client:
            response = client.get(f"{self.url}/{path}")
        response.raise_for_status()
        return dict(response.json())

    def put(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Update the resource (a new version); the stored resource."""
        url = f"{self.url}/{resource['resourceType']}/{resource['id']}"
        with self.client() as client:
            response = client.put(url, json=resource)
        response.raise_for_status()
        return dict(response.json())

    def post(self, resource: dict[str, Any]) -> dict[str, Any]:
        with self.client() as client:
            response = client.post(f"{self.url}/{resource['resourceType']}", json=resource)
        response.raise_for_status()
        return dict(response.json())


def require_server_package() -> str:
    """The node executable, once @medplum/fhir-router is installed (npm ci when missing)."""
    return require_node_package(
        SERVER_DIR,
        "@medplum/fhir-router",
        why="the EHR tests run a real FHIR server (@medplum/fhir-router)",
    )


def synthea_files() -> list[Path]:
    folder = shared_dir() / "data" / "synthea-r4"
    files = [folder / name for name in SYNTHEA_PATIENTS]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        pytest.skip(f"Synthea sample data not found at {folder}: {', '.join(missing)}")
    return files


@pytest.fixture(scope="session")
def fhir_server() -> Iterator[FhirServer]:
    """The FHIR server with the Synthea patients of :data:`SYNTHEA_PATIENTS` loaded."""
    files = synthea_files()
    with running_fhir_server() as server:
        for path in files:
            server.patients[path.name.removesuffix(".json.gz")] = load_bundle(server, path)
        yield server


def load_bundle(server: FhirServer, path: Path) -> str:
    """POST the gzipped transaction Bundle to the server; the id of its Patient."""
    bundle = json.loads(gzip.decompress(path.read_bytes()))
    with server.client() as client:
        response = client.post(server.url, json=bundle)
    if response.status_code != 200:
        pytest.fail(f"the FHIR server refused {path.name}: {response.text[:500]}")
    for entry in response.json().get("entry", []):
        location = entry.get("response", {}).get("location", "")
        if location.startswith("Patient/"):
            return str(location.split("/")[1])
    pytest.fail(f"the FHIR server created no Patient from {path.name}")


@contextmanager
def running_fhir_server() -> Iterator[FhirServer]:
    """The server on 127.0.0.1 and a free port, empty, for the life of the block."""
    port = free_port()
    server = FhirServer(url=f"http://127.0.0.1:{port}{BASE_PATH}")
    env = {
        "FHIR_PORT": str(port),
        "FHIR_TOKENS": ",".join((TOKEN, NARROW_TOKEN)),
        "FHIR_TOKEN_TYPES": f"{NARROW_TOKEN}={'+'.join(NARROW_TYPES)}",
    }
    with running_node_script(
        require_server_package(),
        SERVER_SCRIPT,
        env=env,
        name="the FHIR server",
        answers=lambda: _answers(server),
        start_seconds=START_SECONDS,
    ):
        yield server


def _answers(server: FhirServer) -> bool:
    with server.client() as client:
        return client.get(f"{server.url}/Patient?_count=1", timeout=1).is_success
