"""Running the replay server and the proxy: uvicorn on a socket bound before it starts.

Binding first means the port is known (``--port 0`` works) and clients may connect
at once: the kernel queues them until the server accepts, so nobody sleeps to wait.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import uvicorn


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def _server(app, log_level: str) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan="on", timeout_graceful_shutdown=1))


def serve_forever(app, sock: socket.socket, log_level: str = "warning") -> None:
    _server(app, log_level).run(sockets=[sock])


@contextlib.contextmanager
def running(app, host: str = "127.0.0.1", log_level: str = "error") -> Iterator[str]:
    """Serve ``app`` in a background thread for the ``with`` block; yields its base URL."""
    sock = bind(host, 0)
    server = _server(app, log_level)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
