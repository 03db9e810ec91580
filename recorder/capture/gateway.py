"""A live, recording Anthropic gateway: Claude Code (or any Anthropic client) -> quirktape -> a live upstream.

Each ``POST /v1/messages`` is translated for the upstream (``to_openai_request`` /
``to_gemini_request`` / ``to_responses_request``) and sent; what the upstream sends back is
translated as it arrives, read by read, and reaches the client at once (nothing is buffered),
while the raw bytes are kept exactly as ``record`` keeps them (reads, timing, ending,
redaction). When the exchange ends, it becomes a cassette holding the Anthropic request, the
upstream request and the response: the way to record quirks from a live endpoint with the
client people really run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from translator import Translator, encode_sse, reply_for, translate_response

from ..tape import Cassette, CassetteError, Metadata, has_userinfo, redact_url, save, scrub_text, url_secrets
from .record import USERINFO_REFUSED, build_interaction, upstream_calls
from .wire import no_cookies


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _scrubbing(log: Callable[[str], None], secrets: list[str], allow: list[str]) -> Callable[[str], None]:
    """``log``, with every line scrubbed of credentials (the known ones included) first."""
    return lambda line: log(scrub_text(line, allow, known=secrets))


def gateway_app(
    upstream: str,
    dialect: str,
    out_dir: str | Path,
    *,
    model: str | None = None,
    api_key: str | None = None,
    options: dict | None = None,
    ping_after: float | None = 10.0,
    timeout: float = 600.0,
    log: Callable[[str], None] = _stderr,
    transport: httpx.AsyncBaseTransport | None = None,
    allow: Iterable[str] = (),
) -> Starlette:
    """The ASGI app. ``upstream`` is the base URL (``…/v1`` for OpenAI and Responses, ``…/v1beta`` for Gemini);
    ``options`` are the translator's (``{"think_tags": "open"}`` for a server that leaves reasoning inline);
    ``ping_after``: seconds of upstream silence after which the client gets ``event: ping`` (None: never)."""
    if has_userinfo(upstream):  # credentials: the API key, never a user:password httpx would send instead
        raise CassetteError(f"{redact_url(upstream, [])}: {USERINFO_REFUSED}")
    out = Path(out_dir)
    secrets = ([api_key] if api_key else []) + url_secrets(upstream)
    allow = list(allow)
    log = _scrubbing(log, secrets, allow)
    client = httpx.AsyncClient(  # no cookie jar: one exchange's Set-Cookie never rides on the next request
        timeout=httpx.Timeout(timeout, connect=10.0), transport=transport, cookies=no_cookies()
    )
    serial = itertools.count(1)

    async def messages(request: Request) -> Response:
        try:
            anthropic = json.loads(await request.body())
        except ValueError:
            anthropic = None
        if not isinstance(anthropic, dict) or not isinstance(anthropic.get("messages"), list):
            return _error(400, "invalid_request_error", "the body must be an Anthropic Messages request (JSON)")
        streamed = bool(anthropic.get("stream"))
        upstream_model = model or str(anthropic.get("model") or "")
        try:
            url, headers, body = upstream_calls(dialect, upstream, upstream_model, anthropic, False, streamed, api_key)
        except (ValueError, KeyError, TypeError) as exc:
            return _error(400, "invalid_request_error", f"cannot translate the request for {dialect}: {exc}")
        exchange = _Exchange(url, headers, body, anthropic, dialect, streamed, options)
        start = time.monotonic()
        try:
            reply = await client.send(client.build_request("POST", url, headers=headers, content=body), stream=True)
        except httpx.HTTPError as exc:
            log(f"quirktape gateway: cannot reach the upstream: {type(exc).__name__}: {exc}")
            return _error(529 if isinstance(exc, httpx.TimeoutException) else 502, "api_error", "upstream unreachable")
        exchange.start(reply, start)
        number = next(serial)

        async def keep() -> None:
            await asyncio.to_thread(exchange.save, out, number, secrets, log, allow)

        if not streamed or reply.status_code >= 400:
            await exchange.drain(reply)
            await keep()
            status, payload = reply_for(exchange.events())
            return JSONResponse(payload, status_code=status)

        async def pieces():
            translator = Translator(dialect, status=reply.status_code, options=options)
            try:
                async for chunk in _with_silences(exchange.reads(reply), ping_after):
                    if chunk is None:  # the upstream is silent: the client's idle watchdog must hear something
                        yield _PING
                        continue
                    events = translator.feed(chunk)
                    if events:
                        yield b"".join(encode_sse(e) for e in events)
                tail = translator.close(exchange.ending or "eof")
                if tail:
                    yield b"".join(encode_sse(e) for e in tail)
            finally:
                await keep()

        return StreamingResponse(pieces(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
    app.state.client = client
    return app


_PING = encode_sse({"type": "ping"})


async def _with_silences(reads: AsyncIterator[bytes], every: float | None) -> AsyncIterator[bytes | None]:
    """The reads, and a None each time ``every`` seconds pass without one (the read itself keeps waiting)."""
    if not every:
        async for chunk in reads:
            yield chunk
        return
    waiting = asyncio.ensure_future(anext(reads))
    try:
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=every)
            if not done:
                yield None
                continue
            try:
                chunk = waiting.result()
            except StopAsyncIteration:
                return
            yield chunk
            waiting = asyncio.ensure_future(anext(reads))
    finally:
        waiting.cancel()


def _error(status: int, kind: str, message: str) -> Response:
    return JSONResponse({"type": "error", "error": {"type": kind, "message": message}}, status_code=status)


class _Exchange:
    """One exchange as it happens: the upstream request, every read and its time, how it ended."""

    def __init__(
        self, url: str, headers: dict, body: bytes, anthropic: dict, dialect: str, streamed: bool, options: dict | None
    ) -> None:
        self.options = options
        self.url, self.headers, self.body = url, headers, body
        self.anthropic, self.dialect, self.streamed = anthropic, dialect, streamed
        self.chunks: list[bytes] = []
        self.t_ms: list[float] = []
        self.ending: str | None = None
        self.status, self.reason, self.response_headers = 0, "", []
        self._start = 0.0

    def start(self, reply: httpx.Response, start: float) -> None:
        self.status, self.reason = reply.status_code, reply.reason_phrase
        self.response_headers = reply.headers.multi_items()
        self._start = start

    async def reads(self, reply: httpx.Response):
        try:
            async for chunk in reply.aiter_bytes():
                if chunk:
                    self.t_ms.append(round((time.monotonic() - self._start) * 1000, 3))
                    self.chunks.append(chunk)
                    yield chunk
        except httpx.TimeoutException:
            self.ending = "timeout"
        except (httpx.RemoteProtocolError, httpx.ReadError):
            self.ending = "reset"
        finally:
            await reply.aclose()

    async def drain(self, reply: httpx.Response) -> None:
        async for _ in self.reads(reply):
            pass

    def events(self) -> list[dict]:
        body = b"".join(self.chunks)
        if self.streamed and self.status < 400:
            translator = Translator(self.dialect, status=self.status, options=self.options)
            return translator.feed(body) + translator.close(self.ending or "eof")
        return translate_response(body, self.dialect, status=self.status, options=self.options)[0]

    def save(
        self, out: Path, number: int, secrets: list[str], log: Callable[[str], None], allow: Iterable[str] = ()
    ) -> None:
        try:
            interaction = build_interaction(
                "POST",
                self.url,
                self.headers,
                self.body,
                self.status,
                self.reason,
                self.response_headers,
                self.chunks,
                self.t_ms,
                self.ending,
                dialect=self.dialect,
                stream=self.streamed,
                secrets=secrets,
                ask="--dialect",
            )
            model = str(self.anthropic.get("model") or "")
            meta = Metadata(
                options=self.options or {},
                title=f"gateway {self.dialect} {model}",
                provider=self.dialect,
                model=model,
                request=self.anthropic,
            )
            name = f"{number:04d}-{'stream' if self.streamed else 'message'}.yaml"
            save(Cassette(interactions=[interaction], metadata=meta), out / name, secrets=secrets, allow=allow)
        except CassetteError as exc:
            log(f"quirktape gateway: not recorded: {exc}")
        except Exception as exc:  # noqa: BLE001 - the client has its answer; recording must not break it
            log(f"quirktape gateway: not recorded: {type(exc).__name__}: {' '.join(str(exc).split())}")
