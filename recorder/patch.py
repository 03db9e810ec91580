"""Every httpx and httpx2 client answered from a cassette, without touching the code under test.

An SDK (``openai``, ``anthropic``, ``google-genai``) builds its own client with the library's
default transport, so the way in is the one vcrpy, respx and pytest-httpx take: while a ``Patch``
is active, ``HTTPTransport.handle_request`` and ``AsyncHTTPTransport.handle_async_request`` of
httpx and httpx2 answer through a ``ReplayTransport`` (recorded reads, pace and ending: a reset
raises as it did live). A client built with a transport of its own (``MockTransport``, an ASGI
transport) is left alone.

Record modes, vcrpy's vocabulary: ``none`` replays only and never opens a connection; ``once``
records every request into a cassette that does not exist yet, else replays; ``new`` replays what
matches and records what does not, appended; ``all`` records everything again. A recorded
exchange keeps each network read and its time, the ending (a cut stays a cut) and is redacted
like ``quirktape record`` (the request's own credentials are known secrets: an upstream that echoes
one refuses the write). Requests to a ``passthrough`` host (``host`` or ``host:port``) go to the
network untouched: a gateway under test on loopback. The Anthropic Messages request such a client
sends it is kept as the cassette's ``metadata.request`` (for an in-process gateway, which no request
reaches over HTTP, the test names it: ``request=``).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

from .capture.record import build_interaction
from .capture.wire import Reads
from .replay import ReplayTransport
from .tape import Cassette, CassetteError, Interaction, Metadata, load, request_secrets, save

__all__ = ["RECORD_MODES", "Patch", "record_mode"]

RECORD_MODES = ("none", "once", "new", "all")
_ALIASES = {"new_episodes": "new"}
_LIBRARIES = ("httpx", "httpx2")


def record_mode(name: str) -> str:
    """A record mode by its name (``new_episodes`` is vcrpy's spelling of ``new``)."""
    mode = _ALIASES.get(name, name)
    if mode not in RECORD_MODES:
        raise CassetteError(f"unknown record mode {name!r} (known: {', '.join(RECORD_MODES)})")
    return mode


def _anthropic_request(body: bytes) -> dict | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("messages"), list) else None


class _Tee:
    """The live body, passed on read by read while every read and its time is kept.

    When the body ends (or breaks, or the client stops reading), ``done`` gets the reads and how
    the connection ended: ``None`` when it closed normally (the upstream's own end signal then
    decides between ``done`` and ``eof``), ``reset`` or ``timeout`` when it broke.
    """

    def __init__(self, lib: ModuleType, stream: Any, headers: list, done: Callable[[Reads, str | None], None]) -> None:
        self._lib = lib
        self._stream = stream
        self._reads = Reads(headers)
        self._start = time.monotonic()
        self._done = done
        self._finished = False
        self._reading: Any = None

    def _keep(self, piece: bytes) -> None:
        if piece:
            self._reads.add(piece, round((time.monotonic() - self._start) * 1000, 3))

    def _ending(self, exc: BaseException) -> str | None:
        if isinstance(exc, self._lib.TimeoutException):
            return "timeout"
        if isinstance(exc, (self._lib.RemoteProtocolError, self._lib.ReadError)):
            return "reset"
        return None

    def _finish(self, ending: str | None) -> None:
        if not self._finished:
            self._finished = True
            self._done(self._reads, ending)

    def __iter__(self) -> Iterator[bytes]:
        self._reading = iter(self._stream)
        try:
            for piece in self._reading:
                self._keep(piece)
                yield piece
        except Exception as exc:
            self._finish(self._ending(exc))
            raise
        self._finish(None)

    async def __aiter__(self):
        self._reading = self._stream.__aiter__()
        try:
            async for piece in self._reading:
                self._keep(piece)
                yield piece
        except Exception as exc:
            self._finish(self._ending(exc))
            raise
        self._finish(None)

    # A client that stops reading early (a break out of the stream) has not seen the upstream stop: the
    # rest of the answer is read into the record, not passed on, so the cassette holds the whole answer
    # and its real ending rather than a cut that never happened.

    def close(self) -> None:
        if not self._finished:
            try:
                for piece in self._reading or ():
                    self._keep(piece)
            except Exception as exc:
                self._finish(self._ending(exc))
            self._finish(None)
        self._stream.close()

    async def aclose(self) -> None:
        if not self._finished:
            try:
                if self._reading is not None:
                    async for piece in self._reading:
                        self._keep(piece)
            except Exception as exc:
                self._finish(self._ending(exc))
            self._finish(None)
        await self._stream.aclose()


_TEE_TYPES: dict[tuple[type, type], type] = {}


def _tee_type(lib: ModuleType) -> type:
    key = (lib.SyncByteStream, lib.AsyncByteStream)
    kind = _TEE_TYPES.get(key)
    if kind is None:
        kind = _TEE_TYPES[key] = type("Tee", (_Tee, *dict.fromkeys(key)), {"__module__": __name__})
    return kind


class Patch:
    """A cassette answering every httpx/httpx2 client while active (a context manager).

    ``path``: the cassette (it need not exist in a recording mode). ``record``: one of
    ``RECORD_MODES``. ``passthrough``: hosts (``host`` or ``host:port``) that reach the network
    untouched. ``title``: the title a recorded cassette gets; ``request``: the Anthropic request it
    answers, when no passthrough request shows it. The rest goes to ``ReplayTransport``
    (``side``, ``match``, ``rechunk``, ``pace``, ``translate``…). ``save()`` writes what was recorded;
    ``unused`` lists the recorded interactions no request used.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        record: str = "none",
        passthrough: Iterable[str] = (),
        title: str = "",
        request: dict | None = None,
        **replay: Any,
    ) -> None:
        self.path = Path(path)
        self.mode = record_mode(record)
        exists = self.path.is_file()
        if not exists and self.mode == "none":
            raise CassetteError(
                f"{self.path}: no such cassette (record it once against a live upstream with --quirktape-record=once)"
            )
        self.old = load(self.path) if exists and self.mode == "new" else None
        replaying = exists and self.mode != "all"
        self.live = self.mode != "none" and (self.mode in ("new", "all") or not exists)
        if self.live and replay.get("side", "upstream") != "upstream":
            raise CassetteError(
                f"{self.path}: a cassette records the upstream's answers; record it with side='upstream' "
                "(the default), then replay it to an Anthropic client with side='anthropic'"
            )
        self.transport = ReplayTransport(self.old or self.path, **replay) if replaying else None
        self.passthrough = {host.lower() for host in passthrough}
        self.title = title
        self.recorded: list[Interaction] = []
        self.anthropic_request: dict | None = request
        self.problems: list[str] = []
        self._secrets: list[str] = []
        self._saved: list[tuple[type, str, Any]] = []

    @property
    def unused(self) -> list[int]:
        return self.transport.unused if self.transport is not None else []

    # Installing.

    def __enter__(self) -> Patch:
        for name in _LIBRARIES:
            lib = sys.modules.get(name)
            if lib is None:
                try:
                    lib = __import__(name)
                except ImportError:
                    continue
            self._install(lib)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for owner, attr, original in reversed(self._saved):
            setattr(owner, attr, original)
        self._saved = []

    def _install(self, lib: ModuleType) -> None:
        patch = self
        sync_cls, async_cls = lib.HTTPTransport, lib.AsyncHTTPTransport
        sync_original, async_original = sync_cls.handle_request, async_cls.handle_async_request

        def handle_request(transport: Any, request: Any) -> Any:
            body = request.read()
            if patch._passes(request, body):
                return sync_original(transport, request)
            answer = patch._replayed(request, body)
            if answer is None:
                answer = patch._recording(lib, request, sync_original(transport, request))
            return answer

        async def handle_async_request(transport: Any, request: Any) -> Any:
            body = await request.aread()
            if patch._passes(request, body):
                return await async_original(transport, request)
            answer = patch._replayed(request, body)
            if answer is None:
                answer = patch._recording(lib, request, await async_original(transport, request))
            return answer

        self._saved += [
            (sync_cls, "handle_request", sync_original),
            (async_cls, "handle_async_request", async_original),
        ]
        sync_cls.handle_request = handle_request
        async_cls.handle_async_request = handle_async_request

    # Answering.

    def _passes(self, request: Any, body: bytes) -> bool:
        url = request.url
        host = url.host.lower()
        if host not in self.passthrough and f"{host}:{url.port}" not in self.passthrough:
            return False
        if self.anthropic_request is None and url.path.rstrip("/").endswith("/messages"):
            self.anthropic_request = _anthropic_request(body)
        return True

    def _replayed(self, request: Any, body: bytes) -> Any | None:
        """The recorded answer; None when the request is to go to the live upstream."""
        if self.transport is None:
            return None
        return self.transport.respond(request, body, unmatched=not self.live)

    def _recording(self, lib: ModuleType, request: Any, response: Any) -> Any:
        found = request_secrets(request.headers.multi_items(), str(request.url), request.content)
        self._secrets = list(dict.fromkeys([*self._secrets, *found]))  # each once, however many requests carry it
        headers = response.headers.multi_items()
        reason = response.extensions.get("reason_phrase", b"")
        reason = reason.decode("ascii", "replace") if isinstance(reason, bytes) else str(reason)

        def done(reads: Reads, ending: str | None) -> None:
            chunks, t_ms, note = reads.finish()
            try:
                self.recorded.append(
                    build_interaction(
                        request.method,
                        str(request.url),
                        dict(request.headers.multi_items()),
                        request.content,
                        response.status_code,
                        reason,
                        headers,
                        chunks,
                        t_ms,
                        ending,
                        dialect=None,
                        stream=None,
                        secrets=self._secrets,
                        ask=None,
                    )
                )
            except CassetteError as exc:
                self.problems.append(f"{request.method} {request.url.path}: not recorded: {exc}")
            if note:
                self.problems.append(f"{request.method} {request.url.path}: {note}")

        stream = _tee_type(lib)(lib, response.stream, headers, done)
        return lib.Response(response.status_code, headers=headers, stream=stream, extensions=response.extensions)

    # Writing.

    def save(self) -> bool:
        """Write what was recorded (after the interactions of the cassette in ``new`` mode); whether it wrote."""
        if not self.recorded:
            return False
        interactions = (self.old.interactions if self.old else []) + self.recorded
        metadata = self.old.metadata if self.old else self._metadata()
        if metadata.request is None and self.anthropic_request is not None:
            metadata = metadata.model_copy(update={"request": self.anthropic_request})
        save(Cassette(interactions=interactions, metadata=metadata), self.path, secrets=self._secrets)
        return True

    def _metadata(self) -> Metadata:
        first = next((i for i in self.recorded if i.response.quirktape.dialect), self.recorded[0])
        try:
            model = json.loads(first.request.body or "{}").get("model", "")
        except (ValueError, AttributeError):
            model = ""
        uri = first.request.uri
        return Metadata(
            title=self.title or f"recorded {first.request.method} {uri}",
            source=uri,
            provider=first.response.quirktape.dialect or "",
            model=model if isinstance(model, str) else "",
            recorded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
