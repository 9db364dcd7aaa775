"""Every CDS response of the test suite is checked against the CDS Hooks 2.0.1 schema.

Loaded for the whole suite by ``tests/conftest.py``: a session-wide wrapper around
``httpx.Client.send`` and ``httpx.AsyncClient.send`` (the clients under Starlette's
TestClient and under every real HTTP call the tests make) checks each response to a
request under ``/cds-services`` with :func:`tests.cds.schema.check_exchange`, so a test
anywhere in the suite that gets a non-conformant CDS response fails with
:class:`~tests.cds.schema.CdsConformanceError`, whatever it asserts itself. Each test
records how many CDS responses it had checked (``cds_responses_checked``); the run's
summary adds them up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.cds.schema import check_exchange

COUNT_PROPERTY = "cds_responses_checked"


class _Tally:
    checked = 0


def check_response(request: httpx.Request, response: httpx.Response, stream: bool) -> None:
    if stream:  # a streamed body is not read here; no CDS test streams a response
        return
    kind = check_exchange(
        request.method,
        request.url.path,
        response.status_code,
        response.headers.get("content-type", ""),
        response.content,
    )
    if kind is not None:
        _Tally.checked += 1


@pytest.fixture(scope="session", autouse=True)
def _cds_responses_conform() -> Iterator[None]:
    original, original_async = httpx.Client.send, httpx.AsyncClient.send

    def send(self: httpx.Client, request: httpx.Request, **options: Any) -> httpx.Response:
        response = original(self, request, **options)
        check_response(request, response, bool(options.get("stream")))
        return response

    async def send_async(
        self: httpx.AsyncClient, request: httpx.Request, **options: Any
    ) -> httpx.Response:
        response = await original_async(self, request, **options)
        check_response(request, response, bool(options.get("stream")))
        return response

    patch = pytest.MonkeyPatch()
    patch.setattr(httpx.Client, "send", send)
    patch.setattr(httpx.AsyncClient, "send", send_async)
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _count_cds_responses(request: pytest.FixtureRequest) -> Iterator[None]:
    before = _Tally.checked
    yield
    if _Tally.checked > before:
        request.node.user_properties.append((COUNT_PROPERTY, _Tally.checked - before))
