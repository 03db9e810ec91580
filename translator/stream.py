"""Bytes in, Anthropic events out: framing + a dialect parser + the emitter.

``Translator`` is sans-IO (the h11 school): the caller feeds whatever pieces
the network produced and says how the body ended; the same bytes give the same
events whatever the pieces. ``translate_response`` does the same for a complete
(non-streaming) response body, through the same emitter.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import anthropic, gemini, ollama, openai, responses
from .anthropic import AnthropicStream
from .coverage import AFTER_END, READ, Trace
from .emitter import Emitter
from .gemini import GeminiStream
from .ir import DONE, ERROR, error_fact, error_type, not_an_object
from .jsonarray import ARRAY_CUT, ARRAY_END, JsonArrayDecoder
from .jsontext import loads
from .ndjson import NDJSONDecoder
from .ollama import OllamaStream
from .openai import OpenAIStream
from .responses import ResponsesStream
from .sse import SSEDecoder

ENDINGS = ("done", "eof", "reset", "timeout")
"""How an upstream body ended: protocol end then close, close, broken connection, read timeout."""


@dataclass(frozen=True)
class Dialect:
    """What differs between upstream wire dialects, as data."""

    name: str
    parser: Callable[[dict | None], Any]
    fields: Any
    """What a streamed payload holds, field by field: read, metadata, or a known gap (``coverage``)."""
    response_fields: Any
    """The same for a complete (non-streaming) response."""
    events: dict[str, Any] = field(default_factory=lambda: {"error": READ})
    """SSE event names this dialect reads (``READ``) or knowingly ignores (``meta``); others are unread."""
    framing: str = "sniff"
    """``sniff``: decided by the body's first byte (SSE, JSON array, whole JSON); ``ndjson``: one JSON per line."""


DIALECTS: dict[str, Dialect] = {
    "openai": Dialect("openai", OpenAIStream, openai.FIELDS, openai.RESPONSE_FIELDS, openai.EVENTS),
    "gemini": Dialect("gemini", GeminiStream, gemini.FIELDS, gemini.FIELDS),
    "ollama": Dialect("ollama", OllamaStream, ollama.FIELDS, ollama.FIELDS, framing="ndjson"),
    "anthropic": Dialect("anthropic", AnthropicStream, anthropic.FIELDS, anthropic.RESPONSE_FIELDS, anthropic.EVENTS),
    "responses": Dialect("responses", ResponsesStream, responses.FIELDS, responses.RESPONSE_FIELDS, responses.EVENTS),
}


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown upstream dialect {name!r} (known: {', '.join(sorted(DIALECTS))})") from None


_LEADING = b" \t\r\n\xef\xbb\xbf"


class Translator:
    """One upstream response -> Anthropic events, fed incrementally."""

    def __init__(
        self,
        dialect: str = "openai",
        *,
        model: str | None = None,
        status: int = 200,
        options: dict | None = None,
        keep_ir: bool = False,
        trace: bool = False,
    ) -> None:
        self.dialect = get_dialect(dialect)
        self.parser = self.dialect.parser(options)
        self.named = {name for name, what in self.dialect.events.items() if what == READ}
        self.emitter = Emitter(model)
        self.status = status
        self.ir: list[tuple] | None = [] if keep_ir or trace else None
        self.trace: Trace | None = [] if trace else None
        """With ``trace`` (which keeps the IR too): each payload the framing yielded, and the facts read from it."""
        # The framing is read off the body, not the headers (SSE-10: servers mislabel it):
        # an error status or a JSON object is read whole at the end; "[" is a streamed JSON
        # array (Gemini without alt=sse); anything else is an event stream. An NDJSON dialect
        # streams one object per line, unless its first line is not a whole object (a complete
        # response, pretty-printed).
        self.whole: list[bytes] | None = [] if status >= 400 else None
        self.decoder: SSEDecoder | JsonArrayDecoder | NDJSONDecoder | None = None
        self.head: list[bytes] = []  # the reads before the framing is known (joined once, when it is)
        self._body_begun = False  # a byte other than leading whitespace or a byte-order mark has arrived
        self.done = False
        self._seed = hashlib.blake2b(digest_size=12)

    def feed(self, data: bytes) -> list[dict]:
        if self.whole is not None:
            self.whole.append(data)
            return []
        if self.decoder is None:
            self.head.append(data)
            # look again only when this read can tell more: each byte is looked at once here, not
            # once per read (leading whitespace fed a byte at a time stays linear)
            if self._body_begun:
                if b"\n" not in data:  # only an NDJSON dialect waits, for its first line's end
                    return []
            elif not data.lstrip(_LEADING):
                return []
            else:
                self._body_begun = True
            held = self._framing(final=False)
            if held is None:
                return []
            data = held
        return self._decode(data)

    def _framing(self, final: bool) -> bytes | None:
        """Choose the framing once the body's start tells; the bytes held until then, or None (wait, or whole)."""
        head = b"".join(self.head)
        self.head = [head] if head else []
        body = head.lstrip(_LEADING)
        if not body:
            return None
        ndjson = self.dialect.framing == "ndjson"
        if ndjson:
            line, newline, _ = body.partition(b"\n")
            if not newline and not final:
                return None
            whole = body[:1] == b"{" and not _is_json(line)
        else:
            whole = body[:1] == b"{"
        data, self.head = head, []
        if whole:
            self.whole = [data]
            return None
        self.decoder = NDJSONDecoder() if ndjson else JsonArrayDecoder() if body[:1] == b"[" else SSEDecoder()
        return data

    def _decode(self, data: bytes) -> list[dict]:
        apply, ir, emitter = self.emitter.apply, self.ir, self.emitter
        for event, payload in self.decoder.feed(data):
            if not emitter.started:  # ids for upstreams that send none: from the payloads so far
                self._seed.update(payload.encode("utf-8", "surrogatepass"))
                emitter.fallback_id = self._seed.hexdigest()
            facts = self._facts(event, payload)
            if ir is not None:
                ir.extend(facts)
                if self.trace is not None:
                    after = self.done and not facts  # FIN-08: past the end-of-stream marker
                    self.trace.append((AFTER_END if after else event, payload, facts, self.parser.absorbed()))
            apply(facts)
            if facts and not emitter.started:
                emitter.begin()  # liveness: the client hears from us at the first payload, not the first content
        return self.emitter.take()

    def close(self, ending: str = "eof") -> list[dict]:
        """The body is over; ``ending`` says how (one of ``ENDINGS``)."""
        if ending not in ENDINGS:
            raise ValueError(f"unknown stream ending {ending!r} (known: {', '.join(ENDINGS)})")
        held = self._framing(final=True) if self.whole is None and self.decoder is None else None
        first = self._decode(held) if held is not None else []
        if self.whole is not None:
            body = b"".join(self.whole)
            facts = self._whole_body(body)
            if self.trace is not None:
                self.trace.append((None, body.decode("utf-8", "replace").lstrip("\ufeff"), facts, 0))
        else:
            facts = []
            for event, payload in self.decoder.close() if self.decoder else ():
                read = self._facts(event, payload)
                if self.trace is not None:
                    self.trace.append((event, payload, read, self.parser.absorbed()))
                facts.extend(read)
            facts.extend(self.parser.end())
        if self.ir is not None:
            self.ir.extend(facts)
        self.emitter.apply(facts)
        self.emitter.end(ending if ending in ("reset", "timeout") else None)
        return first + self.emitter.take()

    def _facts(self, event: str | None, data: str) -> list[tuple]:
        if self.done:
            return []  # FIN-08: whatever follows the end-of-stream marker is not part of the response
        if event is not None and event != "message":
            if event == ARRAY_END:
                self.done = True
                return [*self.parser.end(), (DONE,)]
            if event == ARRAY_CUT:  # what the parser holds (a call still streaming) is kept, as an SSE cut keeps it
                return [*self.parser.end(), (ERROR, "api_error", "upstream JSON array ended before its closing ]")]
            if event == "error":
                return [error_fact(_loads_or_text(data))]
            if event not in self.named:
                return []  # SSE-05: named events the dialect does not read are not chunks
        if not data or data[0] == ":" or data.isspace():
            return []  # SSE-03: empty or keepalive data
        if data == self.parser.done_sentinel:
            self.done = True
            return [(DONE,)]
        try:
            obj = loads(data)
        except ValueError:
            return self._multiline(data)
        except RecursionError:
            return [(ERROR, "api_error", "upstream payload is nested too deeply to read")]
        return self._payload(obj)

    def _payload(self, obj: Any) -> list[tuple]:
        """The dialect's reading of one payload; a shape it cannot read is an upstream error, not a crash."""
        if isinstance(obj, list):  # several payloads in one event (or an array-wrapped error)
            return [fact for item in obj for fact in self._payload(item)]
        if type(obj) is not dict:
            return [not_an_object(obj)]
        try:
            return self.parser.payload(obj)
        except (TypeError, AttributeError, ValueError, KeyError, RecursionError) as exc:
            return [(ERROR, "api_error", f"upstream payload has an unexpected shape ({type(exc).__name__}: {exc})")]

    def _multiline(self, data: str) -> list[tuple]:
        """SSE-06: consecutive ``data:`` lines that are each a whole payload."""
        facts: list[tuple] = []
        lines = [line for line in data.split("\n") if line.strip()]
        if len(lines) > 1:
            try:
                objs = [None if line == self.parser.done_sentinel else json.loads(line) for line in lines]
            except (ValueError, RecursionError):
                objs = None
            if objs is not None:
                for obj in objs:
                    if obj is None:
                        self.done = True
                        facts.append((DONE,))
                        break
                    facts.extend(self._payload(obj))
                return facts
        return [(ERROR, "api_error", f"upstream sent a payload that is not JSON: {data[:200]!r}")]

    def _whole_body(self, body: bytes) -> list[tuple]:
        text = body.decode("utf-8", "replace").lstrip("\ufeff")
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            if self.status >= 400:
                return [(ERROR, error_type(self.status), f"HTTP {self.status}: {text[:500]}")]
            return [(ERROR, "api_error", f"upstream body is not JSON: {text[:200]!r}")]
        if isinstance(obj, list) and len(obj) == 1 and isinstance(obj[0], dict) and "error" in obj[0]:
            obj = obj[0]  # ERR-04: Google wraps errors in an array
        if self.status >= 400:
            return [error_fact(obj, self.status)]
        try:
            return self.parser.response(obj)
        except (TypeError, AttributeError, ValueError, KeyError, RecursionError) as exc:
            return [(ERROR, "api_error", f"upstream response has an unexpected shape ({type(exc).__name__}: {exc})")]


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def _loads_or_text(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data


def translate_stream(
    pieces: Iterable[bytes],
    dialect: str = "openai",
    *,
    ending: str = "eof",
    keep_ir: bool = False,
    **kwargs: Any,
) -> tuple[list[dict], list[tuple] | None]:
    """All events for a body delivered as ``pieces`` (and the IR facts, if asked)."""
    translator = Translator(dialect, keep_ir=keep_ir, **kwargs)
    events: list[dict] = []
    for piece in pieces:
        events.extend(translator.feed(piece))
    events.extend(translator.close(ending))
    return events, translator.ir


def translate_response(body: bytes, dialect: str = "openai", **kwargs: Any) -> tuple[list[dict], list[tuple] | None]:
    """A complete (non-streaming) response body, as the events of an equivalent stream."""
    return translate_stream([body], dialect, ending="done", **kwargs)
