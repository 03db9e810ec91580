"""The replay server, over real HTTP: impersonates an upstream, or a gateway, from cassettes.

``serve_app`` is ``ReplayTransport`` behind an ASGI app, so a gateway (LiteLLM, a proxy of
your own) can be pointed at it to reproduce a bug end to end: same status, headers and bytes,
in the recorded pieces, at the recorded pace if asked; a recorded reset or timeout breaks the
connection the same way. ``anthropic_app`` is the other side: an Anthropic client (Claude Code,
the SDKs) points ``ANTHROPIC_BASE_URL`` at it and gets each cassette's translation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..tape import Cassette, Metadata, iter_cassette_paths, load
from .anthropic_side import PING_AFTER
from .asgi import client_gone
from .playback import TranslateFn
from .transport import DEFAULT_MATCH, ReplayTransport


class RecordedCut(Exception):
    """Raised inside the response stream so the client's connection breaks as recorded.

    ``one_line``: the server logs it as its message alone, not as a traceback (``asgi``).
    """

    one_line = True


def library(paths: Iterable[str]) -> Cassette:
    """All interactions of the cassettes named (files or directories), in order, as one cassette."""
    interactions = [i for path in iter_cassette_paths(list(paths)) for i in load(path).interactions]
    return Cassette(interactions=interactions, metadata=Metadata(title="quirktape serve"))


def routes(paths: Iterable[str]) -> dict[str, Cassette]:
    """Each cassette named (files, or found under directories) under its route: its path without ``.yaml``.

    Under a directory the route is relative to it (``vllm/report-empty-tool-calls-text-lost``),
    so one server holds a whole library without ambiguity.
    """
    out: dict[str, Cassette] = {}
    for entry in paths:
        root = Path(entry)
        for path in iter_cassette_paths([entry]):
            name = path.relative_to(root) if root.is_dir() else Path(path.name)
            out[name.with_suffix("").as_posix()] = load(path)
    return out


def serve_app(
    cassette: Cassette, *, match: Iterable[str] = DEFAULT_MATCH, pace: str | float | None = None
) -> Starlette:
    """Impersonate the upstream: every request is matched against all interactions of ``cassette``."""
    transport = ReplayTransport(cassette, match=tuple(match), pace=pace)

    async def answer(request: Request) -> Response:
        return await relay(transport, request)

    return _app(answer, transport)


def anthropic_app(
    cassettes: dict[str, Cassette],
    *,
    pace: str | float | None = None,
    translate: TranslateFn | None = None,
    ping_after: float | None = PING_AFTER,
) -> Starlette:
    """Impersonate a gateway: ``POST [/ROUTE]/v1/messages`` gets the translation of that route's cassette.

    The route is a path prefix, or else the request's ``model``; with one cassette, every request is its.
    """
    transports = {
        route: ReplayTransport(c, side="anthropic", pace=pace, translate=translate, ping_after=ping_after)
        for route, c in cassettes.items()
    }

    async def answer(request: Request) -> Response:
        body = await request.body()
        transport = _route(transports, request.url.path, body)
        if transport is None:
            known = ", ".join(sorted(transports)[:10])
            message = f"quirktape: no cassette for {request.url.path} (routes: {known}; use /ROUTE/v1/messages)"
            return JSONResponse({"type": "error", "error": {"type": "not_found_error", "message": message}}, 404)
        return await relay(transport, request, body)

    return _app(answer, transports)


def _route(transports: dict[str, ReplayTransport], path: str, body: bytes) -> ReplayTransport | None:
    for route, transport in transports.items():
        if path.startswith(f"/{route}/"):
            return transport
    try:
        model = json.loads(body).get("model")
    except (ValueError, AttributeError, RecursionError):
        model = None
    if isinstance(model, str) and model in transports:
        return transports[model]
    return next(iter(transports.values())) if len(transports) == 1 else None


async def relay(transport: ReplayTransport, request: Request, body: bytes | None = None) -> Response:
    body = await request.body() if body is None else body
    outgoing = httpx.Request(request.method, str(request.url), headers=request.headers.raw, content=body)
    reply = await transport.handle_async_request(outgoing)

    where = f"{request.method} {request.url.path}"

    async def pieces():
        sent = 0
        try:
            async for piece in reply.stream:
                yield piece
                sent += len(piece)
        except (httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:
            why = " ".join(str(exc).split()).removeprefix("quirktape: ")
            raise RecordedCut(f"quirktape serve: {where}: {why} (cut as recorded)") from None
        except (GeneratorExit, anyio.get_cancelled_exc_class()):
            client_gone(f"quirktape serve: {where}: the client went away after {sent} bytes")
            raise

    response = StreamingResponse(pieces(), status_code=reply.status_code)
    response.raw_headers = [(k.lower(), v) for k, v in reply.headers.raw if k.lower() != b"content-length"]
    return response


def _app(answer, transport: object) -> Starlette:
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", answer, methods=methods)])
    app.state.transport = transport
    return app
