"""Running the replay server and the proxy: uvicorn on a socket bound before it starts.

Binding first means the port is known (``--port 0`` works) and clients may connect
at once: the kernel queues them until the server accepts, so nobody sleeps to wait.

A cut is one log line, never a traceback: an exception marked ``one_line`` (a recorded reset
replayed, an upstream's cut passed on) is logged as its message alone, a client that goes away
is one line (``client_gone``), and asyncio's line per write into a closed socket is dropped.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from email.utils import formatdate

import uvicorn

SERVER_LOG = logging.getLogger("uvicorn.error")


def client_gone(line: str) -> None:
    """One line: a client closed its connection before the response ended."""
    SERVER_LOG.warning(line)


class _OneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "asyncio" and str(record.msg).startswith("socket.send() raised exception"):
            return False  # the client is gone; it was said once already
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and getattr(exc, "one_line", False):
            record.msg, record.args, record.exc_info, record.exc_text = " ".join(str(exc).split()), None, None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _quiet_cuts() -> None:
    for name in ("uvicorn.error", "asyncio"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OneLine) for f in logger.filters):
            logger.addFilter(_OneLine())


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket; a port outside 0-65535 is an ``OSError`` like any other that cannot be bound."""
    if not 0 <= port <= 65535:
        raise OSError(f"port {port} is out of range (0-65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said outright: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto
    # says TCP, and with it on, a body write after the headers waited for the client's delayed ACK
    # (40 ms before the first body byte on every reused connection)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class _OwnHeaders:
    """``date`` and ``server`` once each: the response's own (a replayed or proxied one carries the
    recorded upstream's), else quirktape's. uvicorn's are off: beside the recorded ones a client saw
    two of each, which the upstream never sent."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {bytes(name).lower() for name, _ in headers}
                if b"date" not in names:
                    headers.append((b"date", formatdate(usegmt=True).encode()))
                if b"server" not in names:
                    headers.append((b"server", b"quirktape"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


def _server(app, log_level: str) -> uvicorn.Server:
    config = uvicorn.Config(
        _OwnHeaders(app),
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=1,
        ws="none",  # no WebSocket route: nothing to import for it
        server_header=False,
        date_header=False,
    )
    _quiet_cuts()  # after the config, which sets uvicorn's logging up
    return uvicorn.Server(config)


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
