"""Live capture: one request to an upstream, every network read kept.

Each read's byte offset and its time (ms after the request was sent) are kept, and
how the body ended: ``done`` (the upstream's own end signal arrived), ``eof`` (the
connection closed without it), ``reset`` (it broke), ``timeout``. A connection that
breaks mid-stream still gives a cassette holding every byte that arrived.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

from translator import to_gemini_request, to_openai_request, to_responses_request, translate_stream
from translator.ir import DONE, FINISH

from ..tape import (
    UPSTREAMS,
    Body,
    Cassette,
    CassetteError,
    Interaction,
    Metadata,
    NotTranslatable,
    Request,
    Response,
    Status,
    Tape,
    body_framing,
    exchange_dialect,
    has_userinfo,
    redact_headers,
    redact_url,
    translatable,
    url_secrets,
)
from .wire import DEFAULT_TIMEOUT, Reads, no_cookies

Progress = Callable[[int, int, float], None]
"""Called after each read with (bytes so far, reads so far, seconds elapsed)."""


class RecordError(CassetteError):
    """The upstream could not be reached; the message is one line for the user."""


USERINFO_REFUSED = (
    "the URL holds a user:password, which httpx would send as Basic auth in place of the API key; "
    "remove it (the credential belongs in --api-key-env)"
)


def _ending(body: bytes, offsets: list[int], dialect: str, stream: bool) -> str:
    """``done`` when the upstream's own end signal (``[DONE]``, a finish reason, a closed array) arrived."""
    if not stream:
        return "done"
    pieces = [body[a:b] for a, b in zip(offsets, offsets[1:] + [len(body)])]
    _, ir = translate_stream(pieces, dialect, keep_ir=True)
    return "done" if any(f[0] in (DONE, FINISH) for f in ir or []) else "eof"


def capture(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes,
    dialect: str,
    stream: bool,
    secrets: list[str],
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
    notes: list[str] | None = None,
) -> Interaction:
    """Send one request and keep the response exactly as it arrived, read by read.

    The body is read raw and its content-coding undone here (``wire.Decoder``): when the coding
    is broken, the reads are kept as they arrived and ``notes`` gets one line saying what failed.
    ``progress`` is called once with zeros when the request is sent, then after each read.
    """
    import httpx  # imported where a request is made (see ``record``)

    ending = None
    start = clock()
    if progress:
        progress(0, 0, 0.0)
    try:
        with client.stream(method, url, headers=headers, content=body) as response:
            reads = Reads(response.headers.multi_items())
            try:
                for piece in response.iter_raw():
                    if piece:
                        reads.add(piece, round((clock() - start) * 1000, 3))
                        if progress:
                            progress(reads.size, len(reads.raw), clock() - start)
            except httpx.TimeoutException:
                ending = "timeout"
            except (httpx.RemoteProtocolError, httpx.ReadError):
                ending = "reset"
    except httpx.TimeoutException as exc:
        raise RecordError(
            f"{redact_url(url, secrets)}: no response within the timeout ({type(exc).__name__}; see --timeout)"
        ) from None
    except httpx.HTTPError as exc:
        raise RecordError(f"cannot reach {redact_url(url, secrets)}: {exc or type(exc).__name__}") from None
    chunks, t_ms, note = reads.finish()
    if note and notes is not None:
        notes.append(f"{'stream' if stream else 'non-stream'}: {note}")
    return build_interaction(
        method,
        url,
        headers,
        body,
        response.status_code,
        response.reason_phrase,
        response.headers.multi_items(),
        chunks,
        t_ms,
        ending,
        dialect=dialect,
        stream=stream,
        secrets=secrets,
    )


_NOT_KEPT = ("content-length", "content-encoding", "transfer-encoding")  # the body is stored decoded and whole


def build_interaction(
    method: str,
    url: str,
    request_headers: dict[str, str],
    request_body: bytes,
    status: int,
    reason: str,
    response_headers: list[tuple[str, str]],
    chunks: list[bytes],
    t_ms: list[float],
    ending: str | None,
    *,
    dialect: str | None,
    stream: bool | None,
    secrets: list[str],
    ask: str | None = "--upstream",
) -> Interaction:
    """A redacted interaction from what went out and every read that came back.

    The dialect is what the response's payloads say, else what the URL path says, and ``dialect``
    only when neither tells: a label the bytes contradict would replay as an empty success. A
    format quirktape does not translate, or one nothing tells, is a ``NotTranslatable`` naming the
    option (``ask``) that decides; with ``ask=None`` it is kept as a plain HTTP exchange (no dialect),
    which replays as recorded and is not judged. ``stream=None`` reads it off the body: one JSON document is a
    complete response, anything else a stream.
    """
    raw = b"".join(chunks)
    offsets, size = [], 0
    for chunk in chunks:
        offsets.append(size)
        size += len(chunk)
    kept: dict[str, list[str]] = {}
    for name, value in response_headers:
        if name.lower() not in _NOT_KEPT:
            kept.setdefault(name.lower(), []).append(value)
    text = raw.decode("utf-8", "replace")
    found = exchange_dialect(url, text) or dialect
    try:
        dialect = translatable(found, ask) if ask is not None or found in UPSTREAMS else None
    except NotTranslatable as exc:
        raise NotTranslatable(f"{method} {redact_url(url, secrets)}: {exc}") from None
    if stream is None:
        stream = body_framing(text, ",".join(kept.get("content-type", []))) != "whole"
    try:
        string: str | bytes = raw.decode("utf-8")
    except UnicodeDecodeError:
        string = raw
    return Interaction(
        request=Request(
            method=method,
            uri=redact_url(url, secrets),
            body=request_body.decode("utf-8", "replace"),
            headers=redact_headers({k.lower(): [v] for k, v in request_headers.items()}, secrets),
        ),
        response=Response(
            status=Status(code=status, message=reason or ""),
            headers=redact_headers(kept, secrets),
            body=Body(string=string),
            quirktape=Tape(
                dialect=dialect,
                stream=stream,
                offsets=offsets or None,
                t_ms=t_ms or None,
                ending=ending or (_ending(raw, offsets or [0], dialect, stream) if dialect else "done"),
            ),
        ),
    )


_OPENAI_STYLE = {"openai": ("chat/completions", to_openai_request), "responses": ("responses", to_responses_request)}
"""The OpenAI-style dialects a request is sent in: the path under the base URL, the request translator."""


def upstream_calls(
    upstream: str, base_url: str, model: str, request: dict, raw: bool, stream: bool, api_key: str | None
):
    """(url, headers, body) of one upstream call for an Anthropic request (or a raw upstream request)."""
    base, _, query = base_url.partition("?")  # a query on the base URL (Gemini's ?key=) rides on every call
    base = base.rstrip("/")
    headers = {"content-type": "application/json", "accept-encoding": "identity"}
    if upstream == "gemini":
        url = f"{base}/models/{model}:" + ("streamGenerateContent?alt=sse" if stream else "generateContent")
        body = request if raw else to_gemini_request(request)
        if api_key:
            headers["x-goog-api-key"] = api_key
    else:  # OpenAI-style: they differ only in the path and the request translator
        path, translate = _OPENAI_STYLE[upstream]
        url = f"{base}/{path}"
        body = dict(request) if raw else translate({**request, "model": model}, stream=stream)
        if raw:
            body["stream"] = stream
        body.setdefault("model", model)
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
    if query:
        url += ("&" if "?" in url else "?") + query
    return url, headers, json.dumps(body).encode()


def record(
    *,
    upstream: str,
    base_url: str,
    model: str,
    request: dict,
    raw: bool,
    modes: tuple[bool, ...],
    api_key: str | None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Cassette:
    """Record the streaming and/or non-streaming answer to one request into a cassette.

    A ``base_url`` holding a user:password is refused (httpx would send it as Basic auth in place
    of the API key); its ``?key=`` (Gemini) is a known secret, like ``api_key``. No cookie carries
    over from one answer to the next request.
    """
    if has_userinfo(base_url):
        raise RecordError(f"{redact_url(base_url, [])}: {USERINFO_REFUSED}")
    secrets = ([api_key] if api_key else []) + url_secrets(base_url)
    interactions = []
    notes: list[str] = []
    import httpx  # here, not above: every other command imports this module and needs no HTTP client

    client = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), transport=transport, cookies=no_cookies())
    with client:
        for stream in modes:
            url, headers, body = upstream_calls(upstream, base_url, model, request, raw, stream, api_key)
            interactions.append(
                capture(
                    client,
                    "POST",
                    url,
                    headers=headers,
                    body=body,
                    dialect=upstream,
                    stream=stream,
                    secrets=secrets,
                    progress=progress,
                    notes=notes,
                )
            )
    metadata: dict[str, Any] = {
        "title": f"{upstream} {model}",
        "source": redact_url(base_url, secrets),
        "provider": upstream,
        "model": model,
        "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if not raw:
        metadata["request"] = request
    if notes:
        metadata["notes"] = notes
    return Cassette(interactions=interactions, metadata=Metadata(**metadata))
