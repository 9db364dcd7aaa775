"""A real HTTP server standing in for an SMS gateway's webhook (the standard
library's ``http.server`` on 127.0.0.1 and a free port, in a thread): it keeps
every request it receives and answers with the status (and after the delay) a
test sets, so a test sees exactly what isotrack sent and how it reads the answer.

    with running_receiver() as receiver:
        receiver.status = 503
        ...
        request = receiver.requests[0]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    status: int = 202
    delay_seconds: float = 0.0
    requests: list[ReceivedRequest] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:  # the name http.server calls
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.receiver.requests.append(ReceivedRequest(self.path, headers, body))
        if self.receiver.delay_seconds:
            time.sleep(self.receiver.delay_seconds)
        try:
            self.send_response(self.receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def log_message(self, format: str, *args: object) -> None:  # http.server's name
        return


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver(url="")
    handler = type("Handler", (_Handler,), {"receiver": receiver})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    receiver.url = f"http://{host!s}:{port}/sms"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
