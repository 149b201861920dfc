"""A bank's webhook receiver for the tests: a real HTTP server on 127.0.0.1 that verifies what it gets."""
from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


class Receiver:
    """Records every request; `answer(n)` gives the status of the n-th request (1-based), 204 by default."""

    def __init__(self, port: int = 0, answer: Callable[[int], int] | None = None):
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.answer = answer or (lambda n: 204)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    status = receiver.answer(len(receiver.requests) + 1)
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Shut the server down and free its port."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def delivered(self, secret: str) -> list[dict]:
        """The payloads it accepted (2xx), each signature checked with the standardwebhooks library."""
        hook = Webhook(secret)
        return [hook.verify(body, headers) for headers, body, status in self.requests if 200 <= status < 300]


def reserved_port() -> socket.socket:
    """A socket bound to a free loopback port but not listening: connections to it are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock
