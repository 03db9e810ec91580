"""A recording reverse proxy: gateways talk to it, it talks to the real upstream.

Each piece the upstream sends is passed on the moment it arrives (nothing is
buffered), and kept with its time; when the exchange ends, one redacted cassette
is written into the output directory. A cut upstream stays cut for the client.

An exchange is recorded in the dialect its response's payloads, or else its URL
path, speak (``sniff``), and in ``dialect`` only when neither tells. One that
nothing tells, or that quirktape does not translate (an Anthropic endpoint, other
APIs, anything that is not an LLM call), still reaches the client unchanged but is
not recorded: one log line says why, since a cassette labelled with a guess would
replay as an empty success.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..tape import SECRET_HEADERS, SECRET_QUERY, Cassette, CassetteError, Metadata, save
from .record import build_interaction

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class UpstreamCut(Exception):
    """Raised inside the response stream so the client's connection breaks as the upstream's did."""


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _secrets(request: Request) -> list[str]:
    found = []
    for name, value in request.headers.items():
        if name.lower() in SECRET_HEADERS:
            found.append(value)
            if " " in value:  # "Bearer <token>": the token alone is the secret too
                found.append(value.split(" ", 1)[1])
    found += [v for k, v in request.query_params.items() if k.lower() in SECRET_QUERY]
    return [s for s in found if len(s) >= 4]


def proxy_app(
    upstream: str,
    out_dir: str | Path,
    *,
    dialect: str | None = None,
    log: Callable[[str], None] = _stderr,
    timeout: float = 600.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The ASGI app; ``upstream`` is the real base URL (scheme, host, port, optional path prefix).

    ``dialect`` is the upstream's wire dialect for exchanges whose URL and payloads do not tell;
    ``log`` gets one line per exchange that is passed on but not recorded.
    """
    out = Path(out_dir)
    base = upstream.rstrip("/")
    client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=10.0), transport=transport)
    serial = itertools.count(1)

    async def forward(request: Request) -> Response:
        body = await request.body()
        query = request.url.query
        url = base + request.url.path + (f"?{query}" if query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["accept-encoding"] = "identity"
        secrets = _secrets(request)
        start = time.monotonic()
        try:
            reply = await client.send(
                client.build_request(request.method, url, headers=headers, content=body), stream=True
            )
        except httpx.HTTPError as exc:
            message = f"quirktape proxy: cannot reach the upstream: {type(exc).__name__}"
            return JSONResponse({"type": "error", "error": {"type": "api_error", "message": message}}, status_code=502)
        number = next(serial)

        async def relay():
            chunks: list[bytes] = []
            t_ms: list[float] = []
            ending = None
            try:
                async for chunk in reply.aiter_bytes():
                    if chunk:
                        t_ms.append(round((time.monotonic() - start) * 1000, 3))
                        chunks.append(chunk)
                        yield chunk
            except httpx.TimeoutException:
                ending = "timeout"
            except (httpx.RemoteProtocolError, httpx.ReadError):
                ending = "reset"
            finally:
                await reply.aclose()
                try:
                    interaction = build_interaction(
                        request.method,
                        url,
                        headers,
                        body,
                        reply.status_code,
                        reply.reason_phrase,
                        reply.headers.multi_items(),
                        chunks,
                        t_ms,
                        ending,
                        dialect=dialect,
                        stream=None,
                        secrets=secrets,
                        ask="--dialect",
                    )
                    name = f"{number:04d}-{re.sub(r'[^A-Za-z0-9]+', '-', request.url.path).strip('-') or 'root'}.yaml"
                    meta = Metadata(
                        title=f"proxied {request.method} {request.url.path}",
                        source=base,
                        provider=interaction.response.quirktape.dialect,
                    )
                    save(Cassette(interactions=[interaction], metadata=meta), out / name, secrets=secrets)
                except CassetteError as exc:  # passed on, not recorded: say why on one line
                    log(f"quirktape proxy: not recorded: {exc}")
            if ending:
                raise UpstreamCut(f"upstream {ending}")

        kept = [(k, v) for k, v in reply.headers.multi_items() if k.lower() not in _HOP_BY_HOP | {"content-encoding"}]
        response = StreamingResponse(relay(), status_code=reply.status_code)
        response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept]
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await client.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)], lifespan=lifespan)
