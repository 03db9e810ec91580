"""Replay a cassette to any httpx or httpx2 client, sync or async, with no server and no network.

``ReplayTransport`` answers each request from the recorded interaction that matches it: the
recorded status, headers and body bytes, delivered in the recorded reads (or re-cut, see
``recorder.replay.rechunk``), optionally at the recorded pace, and ending the way the recorded
connection ended: a ``reset`` raises the client library's ``RemoteProtocolError`` after the last
byte, a ``timeout`` its ``ReadTimeout``. So an SDK (``openai``, ``anthropic``, ``google-genai``) or
a gateway sees exactly what it saw live::

    client = httpx2.Client(transport=ReplayTransport("cassettes/vllm/report-empty-tool-calls-text-lost.yaml"))
    openai.OpenAI(api_key="x", base_url="http://127.0.0.1:8000/v1", http_client=client)

httpx and httpx2 share the transport API but not their classes, so the response, its byte stream
and the exceptions are built from the library the request came from.
"""

from __future__ import annotations

import inspect
import itertools
import json
import os
import re
import sys
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..tape import Cassette, CassetteError, Interaction, Tape, body_of, load, parse_cassette
from .anthropic_side import PING_AFTER, answer
from .playback import TranslateFn, rechunk

__all__ = ["BODY_KEYS", "DEFAULT_MATCH", "ReplayTransport"]

DEFAULT_MATCH = ("method", "path", "body")
# The parts of a JSON request body that decide the answer: the model, streaming or not, the
# conversation (OpenAI/Anthropic ``messages``, Gemini ``contents``). Sampling knobs, tools and
# SDK defaults are left out so that a client's harmless extras do not break a replay.
BODY_KEYS = ("model", "stream", "messages", "contents")
MATCHERS = ("method", "scheme", "host", "path", "exact_path", "query", "body", "raw_body", "body:KEY")
PACES = ("none", "recorded")
SIDES = ("upstream", "anthropic")

_DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding"})
_PLACEHOLDER_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_NOT_JSON = object()

Matcher = Callable[[Any, Interaction], bool]
Sleep = Callable[[float], Any]


def _json_or_not(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _NOT_JSON


def _body_value(data: Any, key: str) -> Any:
    value = data.get(key) if isinstance(data, dict) else None
    return bool(value) if key == "stream" else value  # an absent stream flag means false


_API_VERSION = re.compile(r"(?<=/)v\d+(?:(?:alpha|beta)\d*)?(?=/|$)")


def _versionless(path: str) -> str:
    """``path`` with its API-version segments (``v1``, ``v1beta``, ``v1alpha2``…) made one.

    The same API answers under several versions (google-genai 3.x calls ``/v1/``, the Gemini
    cassettes were recorded on ``/v1beta/``), so by default a version does not decide a match;
    ``exact_path`` compares the path as written.
    """
    return _API_VERSION.sub("v*", path)


def _query(query: str) -> tuple:
    return tuple(sorted(parse_qsl(query, keep_blank_values=True)))


@dataclass
class _Request:
    """What matching compares, for a live request and a recorded one alike."""

    method: str
    scheme: str
    host: str
    exact_path: str
    query: tuple
    body: bytes
    data: Any
    path: str = field(init=False, default="")
    """``exact_path`` without its API version: what ``path`` matching compares."""

    def __post_init__(self) -> None:
        self.path = _versionless(self.exact_path)


@dataclass
class _Incoming(_Request):
    """A live request, as matching sees it."""

    request: Any = None

    @classmethod
    def of(cls, request: Any, body: bytes) -> _Incoming:
        url = request.url
        return cls(
            request.method.upper(),
            url.scheme,
            url.host,
            url.path,
            _query(url.query.decode("ascii", "replace") if isinstance(url.query, bytes) else url.query),
            body,
            _json_or_not(body),
            request=request,
        )


@dataclass
class _Recorded(_Request):
    """A recorded interaction, as matching sees it, parsed once."""

    index: int = 0
    interaction: Interaction | None = None
    any_path: bool = False

    @classmethod
    def of(cls, index: int, interaction: Interaction) -> _Recorded:
        request = interaction.request
        url = urlsplit(request.uri)
        body = request.body or b""
        body = body.encode("utf-8") if isinstance(body, str) else body
        # Imported from a bare stream: nobody knows the request, so the body matches anything,
        # and a placeholder address (loopback, no port) matches any path too.
        placeholder = not body and (url.hostname or "") in _PLACEHOLDER_HOSTS and url.port is None
        return cls(
            request.method.upper(),
            url.scheme,
            url.hostname or "",
            unquote(url.path) or "/",
            _query(url.query),
            body,
            _json_or_not(body) if body else _NOT_JSON,
            index=index,
            interaction=interaction,
            any_path=placeholder,
        )

    def describe(self) -> str:
        return f"{self.method} {'*' if self.any_path else self.exact_path}{_summary(self.data, bool(self.body))}"


def _summary(data: Any, has_body: bool) -> str:
    if not has_body:
        return " (any body)"
    if not isinstance(data, dict):
        return " (non-JSON body)"
    parts = [f"model={data['model']}"] if "model" in data else []
    if "stream" in data:  # Gemini says it in the URL, not the body
        parts.append(f"stream={'true' if data.get('stream') else 'false'}")
    conversation = data.get("messages", data.get("contents"))
    if isinstance(conversation, list):
        parts.append(f"{len(conversation)} message{'' if len(conversation) == 1 else 's'}")
    return f" ({', '.join(parts)})"


def _body_matches(live: _Incoming, rec: _Recorded, keys: Iterable[str]) -> bool:
    if not rec.body:
        return True
    if rec.data is _NOT_JSON or live.data is _NOT_JSON:
        return live.body == rec.body
    return all(_body_value(live.data, key) == _body_value(rec.data, key) for key in keys)


_CRITERIA: dict[str, Callable[[_Incoming, _Recorded], bool]] = {
    "method": lambda live, rec: live.method == rec.method,
    "scheme": lambda live, rec: rec.any_path or live.scheme == rec.scheme,
    "host": lambda live, rec: rec.any_path or live.host == rec.host,
    "path": lambda live, rec: rec.any_path or live.path == rec.path,
    "exact_path": lambda live, rec: rec.any_path or live.exact_path == rec.exact_path,
    "query": lambda live, rec: rec.any_path or live.query == rec.query,
    "body": lambda live, rec: _body_matches(live, rec, BODY_KEYS),
    "raw_body": lambda live, rec: not rec.body or live.body == rec.body,
}


def _criterion(spec: str | Matcher) -> Callable[[_Incoming, _Recorded], bool]:
    if callable(spec):
        return lambda live, rec: bool(spec(live.request, rec.interaction))
    if spec in _CRITERIA:
        return _CRITERIA[spec]
    if isinstance(spec, str) and spec.startswith("body:") and spec[5:]:
        key = spec[5:]
        return lambda live, rec: _body_matches(live, rec, (key,))
    raise ValueError(f"unknown match criterion {spec!r} (known: {', '.join(MATCHERS)}, or a callable)")


_WILD = object()
_PATH_PARTS = ("scheme", "host", "path", "exact_path", "query")
_BODY_PARTS = ("body", "raw_body")


def _canon(value: Any) -> Any:
    """A hashable stand-in for a JSON value: equal (``==``) values, and only they, get equal stand-ins
    (``1``, ``1.0`` and ``True`` alike; objects whatever their key order)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool or kind is int:
        return ("n", int(value))
    if kind is float:
        return ("n", int(value)) if value.is_integer() else ("n", value)
    if kind is list:
        return ("l", tuple(_canon(v) for v in value))
    if kind is dict:
        return ("d", frozenset((k, _canon(v)) for k, v in value.items()))
    if value is None:
        return ("z",)
    return ("o", id(value))  # not a JSON value: equal only to itself


class _Bucket:
    """The recorded interactions that share one index key, in recorded order, and where the first
    unused one is (used ones are only ever added, so the search resumes where it stopped)."""

    __slots__ = ("items", "head")

    def __init__(self) -> None:
        self.items: list[_Recorded] = []
        self.head = 0

    def first_unused(self, used: set[int]) -> _Recorded | None:
        items, head = self.items, self.head
        while head < len(items) and items[head].index in used:
            head += 1
        self.head = head
        return items[head] if head < len(items) else None


class _Index:
    """Matching in O(1) of the number of interactions: each recorded request under a key made of the
    parts the string criteria compare (method, the URL's parts, the body's matched fields or bytes),
    with the URL part a wildcard for a placeholder address and the body part one for an empty body.
    A live request looks in at most four buckets; callable criteria then filter those alone.
    """

    def __init__(self, recorded: list[_Recorded], specs: tuple) -> None:
        self.fixed = [spec for spec in specs if spec == "method"]
        self.path = [spec for spec in specs if spec in _PATH_PARTS]
        self.body = [s for s in specs if isinstance(s, str) and (s in _BODY_PARTS or s.startswith("body:"))]
        self.buckets: dict[tuple, _Bucket] = {}
        for rec in recorded:
            self.buckets.setdefault(self.key(rec, rec.any_path, not rec.body), _Bucket()).items.append(rec)

    def key(self, req: _Request, any_path: bool, any_body: bool) -> tuple:
        path = _WILD if any_path or not self.path else tuple(getattr(req, part) for part in self.path)
        body = _WILD if any_body or not self.body else tuple(self._body_part(req, spec) for spec in self.body)
        return (tuple(req.method for _ in self.fixed), path, body)

    @staticmethod
    def _body_part(req: _Request, spec: str) -> Any:
        if spec == "raw_body" or req.data is _NOT_JSON:
            return ("raw", req.body)
        keys = BODY_KEYS if spec == "body" else (spec[5:],)
        return ("json", tuple(_canon(_body_value(req.data, key)) for key in keys))

    def buckets_for(self, live: _Incoming) -> list[_Bucket]:
        keys = {self.key(live, any_path, any_body) for any_path in (False, True) for any_body in (False, True)}
        return [self.buckets[k] for k in keys if k in self.buckets]


def _pace_scale(pace: str | float | None) -> float:
    if pace is None or pace == "none":
        return 0.0
    if pace == "recorded":
        return 1.0
    if isinstance(pace, (int, float)) and not isinstance(pace, bool) and pace >= 0:
        return float(pace)
    raise ValueError(f"bad pace {pace!r} (known: None, 'none', 'recorded', or a non-negative factor)")


def _delays(tape: Tape, pieces: Iterable[bytes], scale: float) -> Iterable[float]:
    """Seconds to wait before each piece: the recorded gap between the reads the pieces start in.

    Made piece by piece each time the stream is read (re-cut into single bytes, a large body has
    one piece per byte: nothing here is kept per piece).
    """
    if not scale or not tape.t_ms:
        return _Repeat(lambda: itertools.repeat(0.0))
    offsets, t_ms = tape.offsets or [0], tape.t_ms
    return _Repeat(lambda: _gaps(offsets, t_ms, pieces, scale))


class _Repeat:
    """An iterable that starts over on every iteration."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Iterator[float]]) -> None:
        self.make = make

    def __iter__(self) -> Iterator[float]:
        return self.make()


def _gaps(offsets: list[int], t_ms: list[float], pieces: Iterable[bytes], scale: float) -> Iterator[float]:
    pos, before = 0, None
    for piece in pieces:
        now = t_ms[max(bisect_right(offsets, pos) - 1, 0)]
        yield 0.0 if before is None else max(0.0, (now - before) * scale / 1000.0)
        before = now
        pos += len(piece)


def _library(request: Any) -> ModuleType:
    """httpx or httpx2 (or whichever httpx-like library made ``request``)."""
    for cls in type(request).__mro__:
        lib = sys.modules.get(cls.__module__.partition(".")[0])
        if lib is not None and all(
            hasattr(lib, name) for name in ("Response", "SyncByteStream", "AsyncByteStream", "RemoteProtocolError")
        ):
            return lib
    raise TypeError(f"ReplayTransport serves httpx and httpx2 requests, not {type(request).__qualname__}")


class _ReplayStream:
    """The recorded pieces, for sync and async iteration alike; then the recorded ending.

    Read once, like a body off the network: a second iteration raises the library's
    ``StreamConsumed``, so a client that drains a body twice fails here as it would live.
    """

    _consumed: type[Exception] = RuntimeError

    def __init__(
        self,
        pieces: Iterable[bytes],
        delays: Iterable[float],
        failure: Callable[[], Exception] | None,
        sleep: Sleep | None,
    ) -> None:
        self.pieces = pieces
        self._delays = delays
        self._failure = failure
        self._sleep = sleep
        self._read = False

    def _start(self) -> None:
        if self._read:
            raise self._consumed()
        self._read = True

    def __iter__(self):
        self._start()
        sleep = self._sleep or time.sleep
        for piece, delay in zip(self.pieces, self._delays):
            if delay:
                sleep(delay)
            yield piece
        if self._failure is not None:
            raise self._failure()

    async def __aiter__(self):
        self._start()
        for piece, delay in zip(self.pieces, self._delays):
            if delay:
                await _async_sleep(self._sleep, delay)
            yield piece
        if self._failure is not None:
            raise self._failure()

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


async def _async_sleep(sleep: Sleep | None, seconds: float) -> None:
    if sleep is None:
        import anyio  # an httpx dependency; sleeps under asyncio and trio alike

        await anyio.sleep(seconds)
        return
    result = sleep(seconds)
    if inspect.isawaitable(result):
        await result


_STREAM_TYPES: dict[tuple[type, type], type] = {}


def _stream_type(lib: ModuleType) -> type:
    """A ``_ReplayStream`` that is also ``lib``'s SyncByteStream and AsyncByteStream.

    Keyed by the base classes themselves, so a re-imported library gets a matching class.
    """
    key = (lib.SyncByteStream, lib.AsyncByteStream)
    kind = _STREAM_TYPES.get(key)
    if kind is None:
        kind = type(
            "ReplayStream",
            (_ReplayStream, *dict.fromkeys(key)),
            {"__module__": __name__, "_consumed": getattr(lib, "StreamConsumed", RuntimeError)},
        )
        _STREAM_TYPES[key] = kind
    return kind


class ReplayTransport:
    """An httpx/httpx2 transport (sync and async) that answers from a cassette.

    ``match``: what must agree between a request and a recorded one: ``method``, ``path``
    (default; its API-version segment aside: ``/v1/`` and ``/v1beta/`` are one path),
    ``exact_path`` (the version too), ``scheme``, ``host``, ``query``, ``body`` (the JSON keys in ``BODY_KEYS``; the
    exact bytes when either body is not JSON), ``raw_body``, ``body:KEY`` (one JSON key), or a
    callable ``(request, interaction) -> bool``. A recorded request with an empty body matches any
    body; with a placeholder address (``http://127.0.0.1/...``, no port) it matches any URL too.
    Equal matches answer in recorded order; once all were used, the last answers again if
    ``allow_repeats``. An unmatched request gets a 404 Anthropic-style error saying what was recorded.

    ``side``: ``"upstream"`` (default) answers as the upstream did; ``"anthropic"`` answers a
    ``POST …/v1/messages`` as a gateway would, with the cassette's translation (by quirktape's
    translator, or ``translate``), the request's turn choosing the exchange (``anthropic_side``).

    ``rechunk``: how the body is cut into reads (``recorded``, ``bytes``, ``lines``, ``random:SEED``).
    ``pace``: ``None``/``"none"`` no waiting, ``"recorded"`` the recorded gaps between reads
    (``quirktape.t_ms``; none before the first), a number scales them. ``sleep`` replaces
    ``time.sleep`` (sync clients) and ``anyio.sleep`` (async clients; an awaitable result is awaited).
    """

    def __init__(
        self,
        cassette_or_path: Cassette | str | os.PathLike | dict,
        *,
        match: Iterable[str | Matcher] = DEFAULT_MATCH,
        rechunk: str = "recorded",
        pace: str | float | None = None,
        allow_repeats: bool = True,
        sleep: Sleep | None = None,
        side: str = "upstream",
        translate: TranslateFn | None = None,
        ping_after: float | None = PING_AFTER,
    ) -> None:
        self.ping_after = ping_after
        if side not in SIDES:
            raise ValueError(f"unknown side {side!r} (known: {', '.join(SIDES)})")
        self.side = side
        self.translate = translate
        if isinstance(cassette_or_path, Cassette):
            self.cassette = cassette_or_path
        elif isinstance(cassette_or_path, dict):
            self.cassette = parse_cassette(cassette_or_path)
        else:
            self.cassette = load(cassette_or_path)
        if isinstance(match, str):
            match = (match,)
        self.match = tuple(match)
        self._criteria = [_criterion(spec) for spec in self.match]
        _check_strategy(rechunk)
        self.rechunk = rechunk
        self._scale = _pace_scale(pace)
        self.pace = pace
        self.allow_repeats = allow_repeats
        self._sleep = sleep
        self._recorded = [_Recorded.of(i, x) for i, x in enumerate(self.cassette.interactions)]
        self._used: set[int] = set()
        try:
            self._index: _Index | None = _Index(self._recorded, self.match)
        except RecursionError:  # a recorded body nested too deeply to key: every request compared the slow way
            self._index = None
        self._filters = [test for spec, test in zip(self.match, self._criteria) if callable(spec)]
        self._lock = threading.Lock()
        self.calls: list[tuple[str, str, int | None]] = []
        """Each request answered: (method, URL, index of the interaction, or None when unmatched)."""
        self.received: list[dict] = []
        """``side="anthropic"``: each ``/v1/messages`` request body, parsed (what the client sent)."""

    @property
    def unused(self) -> list[int]:
        """Indices of the interactions no request has used yet."""
        return [r.index for r in self._recorded if r.index not in self._used]

    # The transport API, for both libraries.

    def handle_request(self, request: Any) -> Any:
        lib = _library(request)
        return self._respond(lib, request, request.read())

    async def handle_async_request(self, request: Any) -> Any:
        lib = _library(request)
        return self._respond(lib, request, await request.aread())

    def respond(self, request: Any, body: bytes, *, unmatched: bool = True) -> Any | None:
        """The answer to ``request`` whose body was already read; with ``unmatched=False``, None when
        nothing recorded matches, for a caller that sends such a request elsewhere (a live upstream)."""
        return self._respond(_library(request), request, body, unmatched)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    def __enter__(self) -> ReplayTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> ReplayTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # Matching and answering.

    def _respond(self, lib: ModuleType, request: Any, body: bytes, unmatched: bool = True) -> Any:
        live = _Incoming.of(request, body)
        if self.side == "anthropic":
            return self._as_gateway(lib, live)
        with self._lock:
            chosen, why = self._choose(live)
            if chosen is None and not unmatched:
                return None
            self.calls.append((live.method, str(request.url), chosen.index if chosen else None))
        if chosen is None:
            return _not_found(lib, why)
        return self._answer(lib, request, chosen.interaction)

    def _choose(self, live: _Incoming) -> tuple[_Recorded | None, str]:
        chosen, last = self._find(live)
        if chosen is not None:
            self._used.add(chosen.index)
            return chosen, ""
        candidates = [last] if last is not None else []
        if candidates and self.allow_repeats:
            return candidates[-1], ""
        asked = f"{live.method} {live.exact_path}{_summary(live.data, bool(live.body))}"
        if candidates:
            return (
                None,
                f"quirktape: every recorded interaction matching {asked} was already used (allow_repeats=False)",
            )
        recorded = [rec.describe() for rec in self._recorded[:5]]
        if len(self._recorded) > 5:
            recorded.append(f"and {len(self._recorded) - 5} more")
        return None, (
            f"quirktape: no recorded interaction matches {asked} "
            f"(recorded: {'; '.join(recorded)}; matching on {', '.join(map(_name, self.match))})"
            f"{self._closest(live)}"
        )

    def _closest(self, live: _Incoming) -> str:
        """What differs from the recorded request that differs least (the criteria it fails, the body keys
        that differ): the line a user needs when a request they believe recorded does not match."""
        best: tuple[int, int, list[str]] | None = None
        for rec in self._recorded[:1000]:  # an explanation, not a search: bounded
            failed = [_name(spec) for spec, test in zip(self.match, self._criteria) if not test(live, rec)]
            if "body" in failed and isinstance(live.data, dict) and isinstance(rec.data, dict):
                keys = [k for k in BODY_KEYS if _body_value(live.data, k) != _body_value(rec.data, k)]
                failed[failed.index("body")] = f"body {', '.join(keys)}"
            if best is None or len(failed) < len(best[2]):
                best = (rec.index, len(failed), failed)
        if best is None or not best[2]:
            return ""
        return f"; closest: interaction {best[0]}, which differs in {'; '.join(best[2])}"

    def _find(self, live: _Incoming) -> tuple[_Recorded | None, _Recorded | None]:
        """The first unused recorded interaction matching ``live``, and the last matching one.

        Through the index: the buckets ``live`` can match, then the criteria themselves on what
        they hold (so the index only ever narrows). With callable criteria the buckets are filtered
        whole; without, the first unused of each bucket is found where the last search stopped.
        """
        criteria = self._criteria
        try:
            buckets = self._index.buckets_for(live) if self._index is not None else None
        except RecursionError:  # a body nested too deeply to key: compared the slow way
            buckets = None
        if buckets is None:
            matching = [rec for rec in self._recorded if all(test(live, rec) for test in criteria)]
            first = next((rec for rec in matching if rec.index not in self._used), None)
            return first, matching[-1] if matching else None
        if self._filters:
            matching = sorted(
                (rec for b in buckets for rec in b.items if all(test(live, rec) for test in criteria)),
                key=lambda rec: rec.index,
            )
            first = next((rec for rec in matching if rec.index not in self._used), None)
            return first, matching[-1] if matching else None
        heads = [b.first_unused(self._used) for b in buckets]
        first = min((rec for rec in heads if rec is not None), key=lambda rec: rec.index, default=None)
        last = max((b.items[-1] for b in buckets), key=lambda rec: rec.index, default=None)
        return first, last

    def _as_gateway(self, lib: ModuleType, live: _Incoming) -> Any:
        if live.method != "POST" or not live.path.rstrip("/").endswith("/messages"):
            with self._lock:
                self.calls.append((live.method, str(live.request.url), None))
            return _not_found(
                lib, f"quirktape: answers POST /v1/messages as a gateway, not {live.method} {live.exact_path}"
            )
        if not isinstance(live.data, dict) or not isinstance(live.data.get("messages"), list):
            with self._lock:
                self.calls.append((live.method, str(live.request.url), None))
            return _invalid(lib, "quirktape: the body must be an Anthropic Messages request (JSON with messages)")
        reply = answer(
            self.cassette,
            live.data,
            translate=self.translate,
            rechunk_strategy=self.rechunk,
            ping_after=self.ping_after,
        )
        with self._lock:
            self.calls.append((live.method, str(live.request.url), reply.interaction))
            self.received.append(live.data)
            if reply.interaction is not None:
                self._used.add(reply.interaction)
        times = reply.t_ms or [0.0] * len(reply.pieces)
        delays = [0.0] + [max(0.0, (b - a) * self._scale / 1000.0) for a, b in zip(times, times[1:])]
        stream = _stream_type(lib)(reply.pieces, delays, None, self._sleep)
        return lib.Response(
            reply.status, headers=reply.headers, stream=stream, extensions={"http_version": b"HTTP/1.1"}
        )

    def _answer(self, lib: ModuleType, request: Any, interaction: Interaction) -> Any:
        response = interaction.response
        tape = response.quirktape
        pieces = rechunk(body_of(response), self.rechunk, tape.offsets)
        failure = _failure(lib, request, tape.ending)
        stream = _stream_type(lib)(pieces, _delays(tape, pieces, self._scale), failure, self._sleep)
        headers = [
            (name, value)
            for name, values in response.headers.items()
            if name.lower() not in _DROPPED_HEADERS
            for value in values
        ]
        extensions = {"http_version": b"HTTP/1.1"}
        reason = response.status.message.encode("ascii", "ignore").strip()
        if reason:
            extensions["reason_phrase"] = reason
        return lib.Response(response.status.code, headers=headers, stream=stream, extensions=extensions)


def _name(spec: str | Matcher) -> str:
    return spec if isinstance(spec, str) else getattr(spec, "__name__", "callable")


def _check_strategy(strategy: str) -> None:
    try:
        rechunk(b"", strategy)
    except CassetteError as exc:
        raise ValueError(str(exc)) from None


def _failure(lib: ModuleType, request: Any, ending: str) -> Callable[[], Exception] | None:
    if ending == "reset":
        return lambda: lib.RemoteProtocolError(
            "quirktape: the recorded connection was reset before the response ended", request=request
        )
    if ending == "timeout":
        return lambda: lib.ReadTimeout("quirktape: the recorded stream stopped and timed out", request=request)
    return None


def _invalid(lib: ModuleType, message: str) -> Any:
    return _error(lib, 400, "invalid_request_error", message)


def _not_found(lib: ModuleType, message: str) -> Any:
    return _error(lib, 404, "not_found_error", message)


def _error(lib: ModuleType, status: int, kind: str, message: str) -> Any:
    body = json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
    headers = [("content-type", "application/json"), ("content-length", str(len(body))), ("x-quirktape", "unmatched")]
    return lib.Response(status, headers=headers, stream=_stream_type(lib)([body], [0.0], None, None))
