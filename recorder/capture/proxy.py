"""A recording reverse proxy: gateways talk to it, it talks to the real upstream.

Each piece the upstream sends is passed on the moment it arrives (nothing is
buffered), exactly as sent (a content-coding included), and kept with its time;
when the exchange ends, one redacted cassette is written into the output
directory, its body decoded (or, when the coding is broken, as received, with one
log line). A cut upstream stays cut for the client. Whatever keeps an exchange
from being recorded never reaches the client; it, a cut and a client that goes
away are one log line each, never a traceback.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_process
import anyio.to_thread
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..tape import (
    Cassette,
    CassetteError,
    Metadata,
    has_userinfo,
    redact_url,
    request_secrets,
    save,
    scrub_text,
)
from .record import USERINFO_REFUSED, build_interaction
from .wire import Reads, no_cookies

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
    """Raised inside the response stream so the client's connection breaks as the upstream's did.

    ``one_line``: the server logs it as its message alone, not as a traceback (``replay.asgi``).
    """

    one_line = True


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


IN_PROCESS_LIMIT = 1 << 20
"""Bodies smaller than this (bytes) are recorded in a worker thread; larger ones in a worker process."""


@dataclass
class _Exchange:
    """One proxied exchange, everything ``_record`` needs (picklable: it may go to a worker process)."""

    method: str
    path: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int
    reason: str
    reply_headers: list[tuple[str, str]]
    reads: list[bytes]
    t_ms: list[float]
    note: str | None
    ending: str | None
    dialect: str | None
    secrets: list[str]
    allow: list[str]
    number: int
    base: str
    out: Path


def _record(x: _Exchange) -> list[str]:
    """Write ``x`` as a cassette; the lines to log (the client never notices what goes wrong here)."""
    where = f"{x.method} {x.path}"
    try:
        interaction = build_interaction(
            x.method,
            x.url,
            x.headers,
            x.body,
            x.status,
            x.reason,
            x.reply_headers,
            x.reads,
            x.t_ms,
            x.ending,
            dialect=x.dialect,
            stream=None,
            secrets=x.secrets,
            ask="--dialect",
        )
        name = f"{x.number:04d}-{re.sub(r'[^A-Za-z0-9]+', '-', x.path).strip('-') or 'root'}.yaml"
        meta = Metadata(
            title=f"proxied {x.method} {x.path}",
            source=x.base,
            provider=interaction.response.quirktape.dialect,
            **({"notes": [x.note]} if x.note else {}),
        )
        save(Cassette(interactions=[interaction], metadata=meta), x.out / name, secrets=x.secrets, allow=x.allow)
        return [f"quirktape proxy: {where}: {x.note}"] if x.note else []
    except CassetteError as exc:  # passed on, not recorded: say why on one line
        return [f"quirktape proxy: not recorded: {' '.join(str(exc).split())}"]
    except Exception as exc:  # noqa: BLE001 - the client has its answer; recording must not break it
        return [f"quirktape proxy: {where}: not recorded: {type(exc).__name__}: {' '.join(str(exc).split())}"]


def proxy_app(
    upstream: str,
    out_dir: str | Path,
    *,
    dialect: str | None = None,
    log: Callable[[str], None] = _stderr,
    timeout: float = 600.0,
    transport: httpx.AsyncBaseTransport | None = None,
    allow: Iterable[str] = (),
) -> Starlette:
    """The ASGI app; ``upstream`` is the real base URL (scheme, host, port, optional path prefix).

    ``dialect`` is the upstream's wire dialect for exchanges whose URL and payloads do not tell;
    ``log`` gets one line (scrubbed of credentials) per exchange that is passed on but not
    recorded, per body recorded as received because its content-coding is broken, and per client
    that goes away. The credentials a request carries are known secrets: an upstream that echoes
    one gets its exchange refused. ``allow``: values that only look like credentials. No cookie
    carries over from one exchange to the next. An upstream URL holding a user:password is refused.
    """
    if has_userinfo(upstream):
        raise CassetteError(f"{redact_url(upstream, [])}: {USERINFO_REFUSED}")
    out = Path(out_dir)
    base = upstream.rstrip("/")
    allow = list(allow)
    client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=10.0), transport=transport, cookies=no_cookies())
    serial = itertools.count(1)

    async def forward(request: Request) -> Response:
        body = await request.body()
        query = request.url.query
        url = base + request.url.path + (f"?{query}" if query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["accept-encoding"] = "identity"
        secrets = request_secrets(request.headers.items(), str(request.url), body)
        start = time.monotonic()
        try:
            reply = await client.send(
                client.build_request(request.method, url, headers=headers, content=body), stream=True
            )
        except httpx.HTTPError as exc:
            message = f"quirktape proxy: cannot reach the upstream: {type(exc).__name__}"
            return JSONResponse({"type": "error", "error": {"type": "api_error", "message": message}}, status_code=502)
        number = next(serial)

        where = f"{request.method} {request.url.path}"

        def say(line: str) -> None:
            log(scrub_text(line, allow, known=secrets))

        async def keep(reads: Reads, ending: str | None) -> None:
            """The exchange as a cassette, written off the event loop (``_record``): in a worker thread,
            or for a large body in a worker process, whose CPU time does not hold this process's GIL
            while the loop relays other exchanges. Whatever goes wrong is one line."""
            exchange = _Exchange(
                request.method,
                request.url.path,
                url,
                headers,
                body,
                reply.status_code,
                reply.reason_phrase,
                reply.headers.multi_items(),
                *reads.finish(),
                ending,
                dialect,
                secrets,
                allow,
                number,
                base,
                out,
            )
            if reads.size < IN_PROCESS_LIMIT:
                lines = await anyio.to_thread.run_sync(_record, exchange)
            else:
                try:
                    lines = await anyio.to_process.run_sync(_record, exchange)
                except Exception as exc:  # noqa: BLE001 - no worker process here: the thread does it
                    say(f"quirktape proxy: {where}: recording in this process ({type(exc).__name__}: {exc})")
                    lines = await anyio.to_thread.run_sync(_record, exchange)
            for line in lines:
                say(line)

        async def relay():
            """The upstream's bytes as they arrive (raw: any content-coding reaches the client as sent),
            recorded decoded; bytes whose coding is broken are recorded as they arrived."""
            reads = Reads(reply.headers.multi_items())
            ending, gone = None, False
            try:
                async for piece in reply.aiter_raw():
                    if piece:
                        reads.add(piece, round((time.monotonic() - start) * 1000, 3))
                        yield piece
            except httpx.TimeoutException:
                ending = "timeout"
            except (httpx.RemoteProtocolError, httpx.ReadError):
                ending = "reset"
            except (GeneratorExit, anyio.get_cancelled_exc_class()):
                gone = True
                raise
            finally:
                with anyio.CancelScope(shield=True):
                    await reply.aclose()
                    if gone:
                        say(f"quirktape proxy: {where}: the client went away after {reads.size} bytes; not recorded")
                    else:  # the YAML, the redaction and the disk: off the event loop, which relays on
                        await keep(reads, ending)
            if ending:
                what = "timed out" if ending == "timeout" else "broke the connection"
                raise UpstreamCut(
                    f"quirktape proxy: {where}: the upstream {what} after {reads.size} bytes; so does the client"
                )

        kept = [(k, v) for k, v in reply.headers.multi_items() if k.lower() not in _HOP_BY_HOP]
        response = StreamingResponse(relay(), status_code=reply.status_code)
        response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept]
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await client.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)], lifespan=lifespan)
