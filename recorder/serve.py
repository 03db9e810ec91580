"""The replay server: impersonates an upstream from cassettes, over real HTTP.

It is ``ReplayTransport`` behind an ASGI app, so a gateway (LiteLLM, a proxy of your
own) can be pointed at it to reproduce a bug end to end: same status, headers and
bytes, in the recorded pieces, at the recorded pace if asked; a recorded reset or
timeout breaks the connection the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .cassette import Cassette, Metadata, iter_cassette_paths, load
from .transport import DEFAULT_MATCH, ReplayTransport


class RecordedCut(Exception):
    """Raised inside the response stream so the client's connection breaks as recorded."""


def library(paths: Iterable[str]) -> Cassette:
    """All interactions of the cassettes named (files or directories), in order, as one cassette."""
    interactions = [i for path in iter_cassette_paths(list(paths)) for i in load(path).interactions]
    return Cassette(interactions=interactions, metadata=Metadata(title="quirktape serve"))


def serve_app(
    cassette: Cassette, *, match: Iterable[str] = DEFAULT_MATCH, pace: str | float | None = None
) -> Starlette:
    transport = ReplayTransport(cassette, match=tuple(match), pace=pace)

    async def answer(request: Request) -> Response:
        body = await request.body()
        outgoing = httpx.Request(request.method, str(request.url), headers=request.headers.raw, content=body)
        reply = await transport.handle_async_request(outgoing)

        async def pieces():
            try:
                async for piece in reply.stream:
                    yield piece
            except (httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:
                raise RecordedCut(str(exc)) from None

        response = StreamingResponse(pieces(), status_code=reply.status_code)
        response.raw_headers = [(k.lower(), v) for k, v in reply.headers.raw if k.lower() != b"content-length"]
        return response

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", answer, methods=methods)])
    app.state.transport = transport
    return app
