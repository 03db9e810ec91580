"""Body formats: one response body as people keep it, read into one interaction.

A raw SSE stream (``curl -N``), chunk payloads one per line or as one JSON array, Gemini's
streamed JSON array, Ollama NDJSON, or one complete (non-streamed) response. A body reads into
the response plus the read boundaries it implies (one read per SSE event, NDJSON line or array
element when the input kept no timing); a complete response stays the one JSON document it was, a
non-streaming interaction. No request was recorded, so the interaction gets a placeholder request
at its dialect's endpoint (``URIS``).

The body-level pieces the recording formats (``recordings``) reuse live here too: ``Recording``
(what any input yields), read boundaries and endings (``reads``), Gemini's wire keys given back
(``wire_keys``), chunk payloads written in their dialect's framing (``chunks_body``).
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from translator import DIALECTS
from translator.jsonarray import JsonArrayDecoder

from ..tape import (
    UPSTREAMS,
    Body,
    CassetteError,
    Interaction,
    Request,
    Response,
    Status,
    Tape,
    is_snake_gemini,
    json_payloads,
    payloads_dialect,
    sse_payloads,
    to_wire_keys,
    translatable,
)

URIS = {
    "openai": ("http://127.0.0.1/v1/chat/completions", "http://127.0.0.1/v1/chat/completions"),
    "gemini": (
        "http://127.0.0.1/v1beta/models/unknown:streamGenerateContent?alt=sse",
        "http://127.0.0.1/v1beta/models/unknown:generateContent",
    ),
    "ollama": ("http://127.0.0.1:11434/api/chat", "http://127.0.0.1:11434/api/chat"),
    "anthropic": ("http://127.0.0.1/v1/messages", "http://127.0.0.1/v1/messages"),
    "responses": ("http://127.0.0.1/v1/responses", "http://127.0.0.1/v1/responses"),
}
"""Where a bare body (no request was recorded) is said to come from: (streaming, non-streaming) endpoint.

Both twins of one request get the same body and these paths, so the oracle pairs them."""

CONTENT_TYPES = {
    "sse": "text/event-stream",
    "ndjson": "application/x-ndjson",
    "array": "application/json",
    "whole": "application/json",
}
"""The content type of a body of each framing (``sniff.body_framing``) when none was recorded."""

ASK = "--upstream"
"""The option that decides the dialect when nothing in the input tells it."""

SNAKE_NOTE = (
    "snake_case Gemini keys (the google SDK's serialisation) renamed to the wire's camelCase; "
    "function-call arguments and function responses kept as they were"
)

_EOL = rb"(?:\r\n|\n|\r(?!\n))"  # one line end; a CRLF is never two
_BLANK_LINE = re.compile(_EOL + _EOL)
_DATA_LINE = re.compile(r"^(data: ?)([^\r\n]*)", re.M)
_MODEL = re.compile(r'"(?:model|modelVersion)"\s*:\s*"([^"\\]+)"')


# --- read boundaries and endings, for bodies that kept no timing ----------------------------------


def _event_offsets(body: bytes) -> array:
    """One read per SSE event: a read starts after each blank line (an array: a long stream has a million)."""
    offsets = array("q", [0])
    offsets.extend(m.end() for m in _BLANK_LINE.finditer(body))
    if len(offsets) > 1 and offsets[-1] == len(body):
        offsets.pop()
    return offsets


def _array_offsets(raw: bytes) -> list[int]:
    """One read per element of a streamed JSON array: where each element's read begins."""
    text = raw.decode("utf-8", "replace")
    elements = [data for event, data in JsonArrayDecoder().feed(raw) if event is None]
    offsets, chars, size = [0], 0, 0
    for previous, element in zip(elements, elements[1:]):
        end = text.index(previous, chars) + len(previous)
        start = text.index(element, end)
        size += len(text[chars:start].encode("utf-8"))
        chars = start
        offsets.append(size)
    return offsets


def _line_offsets(body: bytes) -> array:
    """One read per NDJSON line: a read starts at every line that is not blank."""
    offsets, pos = array("q", [0]), body.find(b"\n")
    while pos != -1:
        end = body.find(b"\n", pos + 1)
        if body[pos + 1 : len(body) if end == -1 else end].strip():
            offsets.append(pos + 1)
        pos = end
    return offsets


def _ndjson_ending(body: bytes) -> str:
    """``done`` when the last line is Ollama's ``done: true``; otherwise the body just stopped."""
    lines = [line for line in body.split(b"\n") if line.strip()]
    try:
        last = json.loads(lines[-1]) if lines else None
    except (ValueError, RecursionError):
        last = None
    return "done" if isinstance(last, dict) and last.get("done") is True else "eof"


def _sentinel(dialect: str) -> str | None:
    """The payload that ends the dialect's SSE streams (OpenAI's ``[DONE]``), as its parser knows it."""
    return DIALECTS[dialect].parser.done_sentinel


def reads(body: bytes, framing: str, dialect: str) -> tuple[Sequence[int] | None, str]:
    """(where each read began, how the body ended): one read per SSE event, NDJSON line or array element."""
    if not body.strip():
        return None, "eof"
    if framing == "whole":
        return None, "done"
    if framing == "ndjson":
        return _line_offsets(body), _ndjson_ending(body)
    if framing == "array":
        return _array_offsets(body), "done" if body.rstrip().endswith(b"]") else "eof"
    sentinel = _sentinel(dialect)  # a dialect without one ends when the connection closes
    ended = sentinel is None or re.search(rb"^data: ?" + re.escape(sentinel.encode()), body, re.M)
    return _event_offsets(body), "done" if ended else "eof"


_MODEL_WITHIN = 200_000  # characters of a text searched for the model's name


def model_in(*texts: str) -> str:
    for text in texts:
        for match in _MODEL.finditer(text[:_MODEL_WITHIN]):
            return match.group(1)
    return ""


def head_text(body: bytes) -> str:
    """The first ``_MODEL_WITHIN`` characters of a body (bad UTF-8 replaced), without decoding the rest."""
    return body[: 4 * _MODEL_WITHIN].decode("utf-8", "replace")[:_MODEL_WITHIN]


def decode_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteError(f"not UTF-8 text (byte {exc.start})") from None


def text_or_bytes(body: bytes) -> str | bytes:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


# --- Gemini as the google SDK serialises it -------------------------------------------------------


def _wire_json(text: str) -> str:
    """One JSON payload with the wire's keys (anything that does not parse is kept as it is)."""
    try:
        return json.dumps(to_wire_keys(json.loads(text)), ensure_ascii=False, separators=(",", ":"))
    except (ValueError, RecursionError):
        return text


def wire_keys(body: bytes, framing: str, dialect: str) -> bytes | None:
    """A Gemini body whose SDK snake_case keys got the wire's camelCase back; None when it had none.

    Only the payloads change: SSE lines other than ``data:`` are kept, and a cut array stays cut.
    """
    if dialect != "gemini" or framing not in ("sse", "array", "whole"):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = text.lstrip("\ufeff \t\r\n")
    payloads = sse_payloads(text, len(text)) if framing == "sse" else json_payloads(head, len(text))
    if not any(is_snake_gemini(p) for p in payloads):
        return None
    if framing == "sse":
        text = _DATA_LINE.sub(lambda m: m.group(1) + _wire_json(m.group(2)), text)
    elif framing == "array":
        elements = [_wire_json(data) for event, data in JsonArrayDecoder().feed(body) if event is None]
        text = "[" + ",\r\n".join(elements) + ("]" if head.rstrip().endswith("]") else "")
    else:
        text = _wire_json(head)
    return text.encode("utf-8", "surrogatepass")


# --- bodies: one response, no request -------------------------------------------------------------


@dataclass
class Recording:
    """What an input yields: the LLM exchanges, why the others were left out, and what was changed on import."""

    interactions: list[Interaction]
    models: list[str] = field(default_factory=list)  # one per interaction ("" when none was found)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Read:
    """What a body format holds before its dialect is decided: its payloads, and its bytes or its chunks."""

    framing: str  # sse | array | ndjson | whole: the bytes are kept; chunks: written in the dialect's framing
    payloads: list[Any]
    raw: bytes = b""
    lines: list[str] = field(default_factory=list)  # chunks: each payload's JSON text, in order


def json_lines(raw: bytes, what: str) -> tuple[list[str], list[Any]]:
    """The non-blank lines of a one-JSON-per-line input, and each one parsed."""
    lines = [line.strip() for line in decode_text(raw).split("\n") if line.strip()]
    if not lines:
        raise CassetteError(f"no {what} lines in the input")
    payloads = []
    for n, line in enumerate(lines, 1):
        try:
            payloads.append(json.loads(line))
        except (ValueError, RecursionError):
            raise CassetteError(f"line {n} is not JSON") from None
    return lines, payloads


def read_sse(raw: bytes) -> Read:
    """A stream as it came off the wire (``curl -N``): kept byte for byte."""
    if not re.search(rb"^(data|event|error):", raw, re.M):
        raise CassetteError("no SSE 'data:' lines in the input")
    return Read("sse", sse_payloads(raw), raw)


def read_jsonl(raw: bytes) -> Read:
    """Chunk payloads one per line (a ``data:`` payload each, as vercel/ai keeps them): a stream to write back."""
    lines, payloads = json_lines(raw, "payload")
    return Read("chunks", payloads, lines=lines)


def read_json_array(raw: bytes) -> Read:
    """Chunk payloads as one JSON array (client-side snapshots): a stream to write back."""
    try:
        payloads = json.loads(decode_text(raw))
    except (ValueError, RecursionError):
        raise CassetteError("not a JSON document") from None
    if not isinstance(payloads, list) or not payloads:
        raise CassetteError("expected a non-empty JSON array of chunk payloads")
    try:
        lines = [json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in payloads]
    except RecursionError:
        raise CassetteError("a payload is nested too deeply") from None
    return Read("chunks", payloads, lines=lines)


def read_gemini_array(raw: bytes) -> Read:
    """Gemini's streamed JSON array is already the wire format: the bytes are kept, one read per element."""
    head = decode_text(raw).lstrip("\ufeff \t\r\n")
    payloads = json_payloads(head) if head.startswith("[") else []
    if not payloads:
        raise CassetteError("not a streamed JSON array of Gemini responses")
    return Read("array", payloads, raw)


def read_ndjson(raw: bytes) -> Read:
    """Ollama's native ``/api/chat`` stream: one JSON object per line, kept as is."""
    _, payloads = json_lines(raw, "NDJSON")
    return Read("ndjson", payloads, raw)


def read_response(raw: bytes) -> Read:
    """A complete (non-streamed) response: one JSON object, compact or pretty-printed, kept as is."""
    try:
        document = json.loads(decode_text(raw).lstrip("\ufeff"))
    except (ValueError, RecursionError):
        raise CassetteError("not a JSON document") from None
    if not isinstance(document, dict):
        raise CassetteError("a complete response is one JSON object")
    return Read("whole", [document], raw)


def _decide(read: Read, named: str | None, upstream: str | None) -> str:
    """A bare body's dialect: ``--upstream``, else what its payloads say, else the dialect its format names."""
    if upstream:
        return upstream
    found = payloads_dialect(read.payloads)
    if found in UPSTREAMS and named and found != named:
        raise CassetteError(f"the payloads are {found}, not {named} as the format says; pass {ASK} to insist")
    return translatable(found or named, ASK)


def chunks_body(lines: list[str], dialect: str | None, done: bool) -> tuple[bytes, str]:
    """Chunk payloads written as the dialect streams them: NDJSON lines, or SSE events (and its end marker)."""
    if dialect and DIALECTS[dialect].framing == "ndjson":
        return "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass"), "ndjson"
    sentinel = _sentinel(dialect) if dialect else None
    events = [f"data: {line}\n\n" for line in [*lines, *([sentinel] if done and sentinel else [])]]
    return "".join(events).encode("utf-8", "surrogatepass"), "sse"


def from_body(read: Read, named: str | None, upstream: str | None, done: bool) -> Recording:
    """A bare body as an interaction with a placeholder request at its dialect's endpoint."""
    dialect = _decide(read, named, upstream)
    body, framing = chunks_body(read.lines, dialect, done) if read.framing == "chunks" else (read.raw, read.framing)
    rewritten = wire_keys(body, framing, dialect)
    body = rewritten if rewritten is not None else body
    offsets, ending = reads(body, framing, dialect)
    stream = framing != "whole"
    response = Response(
        status=Status(code=200, message="OK"),
        headers={"content-type": [CONTENT_TYPES[framing]]},
        body=Body(string=text_or_bytes(body)),
        quirktape=Tape(dialect=dialect, stream=stream, offsets=offsets, ending=ending),
    )
    request = Request(method="POST", uri=URIS[dialect][0 if stream else 1], body="", headers={})
    return Recording(
        [Interaction(request=request, response=response)],
        [model_in(head_text(body))],
        notes=[SNAKE_NOTE] if rewritten is not None else [],
    )


# --- recordings of HTTP traffic: several exchanges, each with its request -------------------------
