"""Turn what people already have (raw streams, complete responses, chunk lists, recordings of HTTP
traffic) into cassettes.

A body format (raw SSE, chunk lists, Gemini's JSON array, Ollama NDJSON, one complete response)
reads into one response body plus the read boundaries it implies (one read per SSE event, NDJSON
line or array element when the input kept no timing); a complete response stays the one JSON
document it was, a non-streaming interaction. A recording format (vcrpy and go-vcr cassettes,
llama-stack recordings, HAR files) reads into one interaction per LLM exchange it holds, with the
real request (credentials redacted); exchanges that are not LLM calls, and recognised formats
quirktape does not translate (Anthropic Messages, the target format, among them), are skipped
with a note. Formats are plain functions registered by name.

No dialect is ever assumed (``sniff``): the payloads tell it, or the URL path, or ``--upstream``;
otherwise the import is refused, because a body read as the wrong dialect replays as an empty
message that looks like success. Gemini as the google SDK serialises it (snake_case keys) is given
back the wire's camelCase, and the cassette says so in ``metadata.import_notes``.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from translator import DIALECTS
from translator.jsonarray import JsonArrayDecoder

from .cassette import (
    Body,
    Cassette,
    CassetteError,
    Interaction,
    Metadata,
    Request,
    Response,
    Status,
    Tape,
    parse_cassette,
)
from .redact import redact_headers, redact_url
from .report import MARKER as REPORT_MARKER
from .report import cassette_from_report
from .sniff import (
    FOREIGN,
    UPSTREAMS,
    body_framing,
    exchange_dialect,
    is_snake_gemini,
    json_payloads,
    payloads_dialect,
    sse_payloads,
    to_wire_keys,
    translatable,
    url_dialect,
)

URIS = {
    "openai": ("http://127.0.0.1/v1/chat/completions", "http://127.0.0.1/v1/chat/completions"),
    "gemini": (
        "http://127.0.0.1/v1beta/models/unknown:streamGenerateContent?alt=sse",
        "http://127.0.0.1/v1beta/models/unknown:generateContent",
    ),
    "ollama": ("http://127.0.0.1:11434/api/chat", "http://127.0.0.1:11434/api/chat"),
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
_SSE_LINE = re.compile(r"^(data|event|id|retry|error)?:", re.M)
_DATA_LINE = re.compile(r"^(data: ?)([^\r\n]*)", re.M)
_MODEL = re.compile(r'"(?:model|modelVersion)"\s*:\s*"([^"\\]+)"')


# --- read boundaries and endings, for bodies that kept no timing ----------------------------------


def _event_offsets(body: bytes) -> list[int]:
    """One read per SSE event: a read starts after each blank line."""
    return [0] + [m.end() for m in _BLANK_LINE.finditer(body) if m.end() < len(body)]


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


def _line_offsets(body: bytes) -> list[int]:
    """One read per NDJSON line: a read starts at every line that is not blank."""
    offsets, pos = [0], body.find(b"\n")
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


def _reads(body: bytes, framing: str, dialect: str) -> tuple[list[int] | None, str]:
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


def _model_in(*texts: str) -> str:
    for text in texts:
        for match in _MODEL.finditer(text[:200_000]):
            return match.group(1)
    return ""


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteError(f"not UTF-8 text (byte {exc.start})") from None


def _text_or_bytes(body: bytes) -> str | bytes:
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


def _wire_keys(body: bytes, framing: str, dialect: str) -> bytes | None:
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


def _json_lines(raw: bytes, what: str) -> tuple[list[str], list[Any]]:
    """The non-blank lines of a one-JSON-per-line input, and each one parsed."""
    lines = [line.strip() for line in _text(raw).split("\n") if line.strip()]
    if not lines:
        raise CassetteError(f"no {what} lines in the input")
    payloads = []
    for n, line in enumerate(lines, 1):
        try:
            payloads.append(json.loads(line))
        except (ValueError, RecursionError):
            raise CassetteError(f"line {n} is not JSON") from None
    return lines, payloads


def _read_sse(raw: bytes) -> Read:
    """A stream as it came off the wire (``curl -N``): kept byte for byte."""
    text = raw.decode("utf-8", "replace")
    if not re.search(r"^(data|event|error):", text, re.M):
        raise CassetteError("no SSE 'data:' lines in the input")
    return Read("sse", sse_payloads(text), raw)


def _read_jsonl(raw: bytes) -> Read:
    """Chunk payloads one per line (a ``data:`` payload each, as vercel/ai keeps them): a stream to write back."""
    lines, payloads = _json_lines(raw, "payload")
    return Read("chunks", payloads, lines=lines)


def _read_json_array(raw: bytes) -> Read:
    """Chunk payloads as one JSON array (client-side snapshots): a stream to write back."""
    try:
        payloads = json.loads(_text(raw))
    except (ValueError, RecursionError):
        raise CassetteError("not a JSON document") from None
    if not isinstance(payloads, list) or not payloads:
        raise CassetteError("expected a non-empty JSON array of chunk payloads")
    try:
        lines = [json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in payloads]
    except RecursionError:
        raise CassetteError("a payload is nested too deeply") from None
    return Read("chunks", payloads, lines=lines)


def _read_gemini_array(raw: bytes) -> Read:
    """Gemini's streamed JSON array is already the wire format: the bytes are kept, one read per element."""
    head = _text(raw).lstrip("\ufeff \t\r\n")
    payloads = json_payloads(head) if head.startswith("[") else []
    if not payloads:
        raise CassetteError("not a streamed JSON array of Gemini responses")
    return Read("array", payloads, raw)


def _read_ndjson(raw: bytes) -> Read:
    """Ollama's native ``/api/chat`` stream: one JSON object per line, kept as is."""
    _, payloads = _json_lines(raw, "NDJSON")
    return Read("ndjson", payloads, raw)


def _read_response(raw: bytes) -> Read:
    """A complete (non-streamed) response: one JSON object, compact or pretty-printed, kept as is."""
    try:
        document = json.loads(_text(raw).lstrip("\ufeff"))
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


def _chunks_body(lines: list[str], dialect: str | None, done: bool) -> tuple[bytes, str]:
    """Chunk payloads written as the dialect streams them: NDJSON lines, or SSE events (and its end marker)."""
    if dialect and DIALECTS[dialect].framing == "ndjson":
        return "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass"), "ndjson"
    sentinel = _sentinel(dialect) if dialect else None
    events = [f"data: {line}\n\n" for line in [*lines, *([sentinel] if done and sentinel else [])]]
    return "".join(events).encode("utf-8", "surrogatepass"), "sse"


def _from_body(read: Read, named: str | None, upstream: str | None, done: bool) -> Recording:
    """A bare body as an interaction with a placeholder request at its dialect's endpoint."""
    dialect = _decide(read, named, upstream)
    body, framing = _chunks_body(read.lines, dialect, done) if read.framing == "chunks" else (read.raw, read.framing)
    rewritten = _wire_keys(body, framing, dialect)
    body = rewritten if rewritten is not None else body
    offsets, ending = _reads(body, framing, dialect)
    stream = framing != "whole"
    response = Response(
        status=Status(code=200, message="OK"),
        headers={"content-type": [CONTENT_TYPES[framing]]},
        body=Body(string=_text_or_bytes(body)),
        quirktape=Tape(dialect=dialect, stream=stream, offsets=offsets, ending=ending),
    )
    request = Request(method="POST", uri=URIS[dialect][0 if stream else 1], body="", headers={})
    return Recording(
        [Interaction(request=request, response=response)],
        [_model_in(body.decode("utf-8", "replace"))],
        notes=[SNAKE_NOTE] if rewritten is not None else [],
    )


# --- recordings of HTTP traffic: several exchanges, each with its request -------------------------


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML (``!!binary`` included) that leaves timestamps as the strings they were."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_ENCODED = ("content-encoding", "content-length", "transfer-encoding")  # the body is stored decoded and whole
_GEMINI_MODEL = re.compile(r"/models/([^/:]+):")


@dataclass
class Exchange:
    """One request/response pair as a recording format stores it, before it becomes an interaction."""

    method: str
    url: str
    request_body: Any  # str, bytes, None, or a parsed JSON value (pydantic-ai's parsed_body)
    request_headers: Any
    status: int
    message: str
    headers: Any
    body: Any  # str, bytes, None, or a parsed JSON value
    skip: str = ""  # why this exchange cannot be imported, when the format already says so


def _load_document(raw: bytes) -> Any:
    """A JSON or YAML document (JSON is YAML, but the JSON parser is faster and stricter)."""
    text = raw.decode("utf-8", "replace").lstrip("\ufeff")
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            pass
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except RecursionError:
        raise CassetteError("nested too deeply to read") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CassetteError(f"not valid YAML or JSON{f' at line {mark.line + 1}' if mark else ''}") from None


def _headers(raw: Any) -> dict[str, list[str]]:
    """Headers as cassettes keep them: lower-case names, lists of strings (HAR ``[{name, value}]`` too)."""
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, dict):
        for name, values in raw.items():
            pairs += [(name, v) for v in (values if isinstance(values, list) else [values])]
    elif isinstance(raw, list):
        pairs = [(h.get("name"), h.get("value")) for h in raw if isinstance(h, dict)]
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        if isinstance(name, str) and name and not name.startswith(":") and value is not None:
            out.setdefault(name.lower(), []).append(str(value))
    return out


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def _decoded(body: bytes, headers: dict[str, list[str]]) -> tuple[bytes, dict[str, list[str]]]:
    """A gzip/deflate body decompressed; the headers that described the encoded body dropped."""
    encoding = ",".join(headers.get("content-encoding", [])).lower()
    if body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            raise CassetteError("the body looks gzip-compressed but does not decompress") from None
    elif "deflate" in encoding:
        try:
            body = zlib.decompress(body)
        except zlib.error:
            try:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
            except zlib.error:
                pass  # already decoded by whoever recorded it
    elif encoding and encoding != "identity" and "gzip" not in encoding:
        return body, headers  # an encoding we cannot undo: keep it described
    return body, {k: v for k, v in headers.items() if k not in _ENCODED}


def _request_text(request_body: Any) -> str | bytes | None:
    """The request body as a cassette keeps it: text when it is text, a parsed body written back as JSON."""
    if request_body is not None and not isinstance(request_body, (str, bytes)):
        return _as_bytes(request_body).decode("utf-8")
    if isinstance(request_body, bytes):
        return _text_or_bytes(_decoded(request_body, {})[0])
    return request_body


def _add(recording: Recording, n: int, exchange: Exchange, upstream: str | None) -> None:
    """One recorded exchange into ``recording``: an interaction, or a note saying why it was left out."""
    url, method = str(exchange.url or ""), str(exchange.method or "POST").upper()
    try:
        path = unquote(urlsplit(url).path)
        url = redact_url(url, [])
    except ValueError:
        raise CassetteError(f"not a usable URL: {' '.join(url.split())[:200]!r}") from None
    where = " ".join(f"interaction {n}: {method} {url}".split())[:300]  # one line, whatever the input held
    if exchange.skip:
        recording.skipped.append(f"{where}: {exchange.skip}")
        return
    body, headers = _decoded(_as_bytes(exchange.body), _headers(exchange.headers))
    text = body.decode("utf-8", "replace")
    found = exchange_dialect(path, text)
    if found not in UPSTREAMS:
        recording.skipped.append(f"{where}: {FOREIGN.get(found or '', 'not an LLM endpoint')}")
        return
    dialect = upstream or found
    framing = body_framing(text, ",".join(headers.get("content-type", [])))
    rewritten = _wire_keys(body, framing, dialect)
    if rewritten is not None:
        body, text = rewritten, rewritten.decode("utf-8", "replace")
        headers.pop("content-length", None)
        recording.notes.append(f"interaction {n}: {SNAKE_NOTE}")
    offsets, ending = _reads(body, framing, dialect)
    headers.setdefault("content-type", [CONTENT_TYPES[framing]])
    request_body = _request_text(exchange.request_body)
    gemini_model = _GEMINI_MODEL.search(path)
    model = _model_in(text, request_body if isinstance(request_body, str) else "")
    recording.models.append(model or (gemini_model.group(1) if gemini_model else ""))
    recording.interactions.append(
        Interaction(
            request=Request(
                method=method,
                uri=url,
                body=request_body if request_body is not None else "",
                headers=redact_headers(_headers(exchange.request_headers), []),
            ),
            response=Response(
                status=Status(code=exchange.status, message=exchange.message),
                headers=redact_headers(headers, []),
                body=Body(string=_text_or_bytes(body)),
                quirktape=Tape(dialect=dialect, stream=framing != "whole", offsets=offsets, ending=ending),
            ),
        )
    )


def _recording(exchanges: list[Exchange], upstream: str | None) -> Recording:
    recording = Recording([])
    for n, exchange in enumerate(exchanges):
        try:
            _add(recording, n, exchange, upstream)
        except CassetteError as exc:
            raise CassetteError(f"interaction {n}: {exc}") from None
    if not recording.interactions:
        why = "; ".join(recording.skipped) or "it holds no exchanges"
        raise CassetteError(f"no LLM exchange to import ({why})")
    return recording


def _status(value: Any, code: Any = None) -> tuple[int, str]:
    """vcrpy ``{code, message}``, go-vcr ``code: 200`` + ``status: "200 OK"``, or a bare number."""
    message = ""
    if isinstance(value, dict):
        code, message = value.get("code", code), value.get("message") or ""
    elif isinstance(value, str):
        number, _, message = value.partition(" ")
        code = code if code is not None else number
    elif value is not None and code is None:
        code = value
    try:
        return int(code), str(message)
    except (TypeError, ValueError):
        raise CassetteError(f"no usable status code ({code!r})") from None


def _cassette_exchanges(raw: bytes, flavour: str) -> list[Exchange]:
    data = _load_document(raw)
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"not a {flavour} cassette (no top-level 'interactions' list)")
    exchanges = []
    for n, item in enumerate(data["interactions"]):
        request = item.get("request") if isinstance(item, dict) else None
        response = item.get("response") if isinstance(item, dict) else None
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise CassetteError(f"interaction {n} has no request and response mappings")
        body = response.get("body")
        if "parsed_body" in response:
            body = response["parsed_body"]
        elif isinstance(body, dict) and "string" in body:
            body = body["string"]
        try:
            code, message = _status(response.get("status"), response.get("code"))
        except CassetteError as exc:
            raise CassetteError(f"interaction {n}: {exc}") from None
        exchanges.append(
            Exchange(
                method=request.get("method") or "POST",
                url=request.get("uri") or request.get("url") or "",
                request_body=request["parsed_body"] if "parsed_body" in request else request.get("body"),
                request_headers=request.get("headers"),
                status=code,
                message=message,
                headers=response.get("headers"),
                body=body,
            )
        )
    return exchanges


def _from_vcr(raw: bytes, done: bool, upstream: str | None) -> Recording:
    """A vcrpy cassette (YAML or JSON): ``interactions[].request.uri`` and ``response.body.string``."""
    return _recording(_cassette_exchanges(raw, "vcrpy"), upstream)


def _from_go_vcr(raw: bytes, done: bool, upstream: str | None) -> Recording:
    """A go-vcr cassette (version 1 or 2): ``request.url``, ``response.body`` a string, ``code`` + ``status``."""
    return _recording(_cassette_exchanges(raw, "go-vcr"), upstream)


def _llama_payload(item: Any) -> Any:
    return item["__data__"] if isinstance(item, dict) and "__data__" in item else item


def _from_llama_stack(raw: bytes, done: bool, upstream: str | None) -> Recording:
    """A llama-stack recording: each chunk's ``__data__`` becomes one event of its dialect's stream."""
    data = _load_document(raw)
    request = data.get("request") if isinstance(data, dict) else None
    response = data.get("response") if isinstance(data, dict) else None
    if not isinstance(request, dict) or not isinstance(response, dict) or "body" not in response:
        raise CassetteError("not a llama-stack recording (no request and response.body)")
    body = response["body"]
    url = str(request.get("url") or "")
    if response.get("is_streaming", isinstance(body, list)):
        payloads = [_llama_payload(item) for item in (body if isinstance(body, list) else [body])]
        if not payloads:
            raise CassetteError("the llama-stack recording holds no chunks")
        try:
            lines = [json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in payloads]
        except (TypeError, ValueError, RecursionError):
            raise CassetteError("a chunk cannot be written back as JSON") from None
        dialect = upstream or payloads_dialect(payloads) or url_dialect(url)
        encoded, framing = _chunks_body(lines, dialect if dialect in UPSTREAMS else None, done)
    else:
        encoded, framing = _llama_payload(body), "whole"
    exchange = Exchange(
        method=request.get("method") or "POST",
        url=url,
        request_body=request.get("body"),
        request_headers=request.get("headers"),
        status=200,
        message="OK",
        headers={"content-type": [CONTENT_TYPES[framing]]},
        body=encoded,
    )
    return _recording([exchange], upstream)


def _har_text(content: dict) -> bytes:
    text = content.get("text")
    if not isinstance(text, str):
        return b""
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            raise CassetteError("content.text says base64 but is not") from None
    return text.encode("utf-8", "surrogatepass")


def _from_har(raw: bytes, done: bool, upstream: str | None) -> Recording:
    """A HAR 1.2 file (browser dev tools, mitmproxy): ``log.entries[].request/response``."""
    data = _load_document(raw)
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise CassetteError("not a HAR file (no log.entries list)")
    exchanges = []
    for n, entry in enumerate(log["entries"]):
        request = entry.get("request") if isinstance(entry, dict) else None
        response = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise CassetteError(f"entry {n} has no request and response objects")
        content = response.get("content") if isinstance(response.get("content"), dict) else {}
        post = request.get("postData") if isinstance(request.get("postData"), dict) else {}
        try:
            body = _har_text(content)
            code, _ = _status(response.get("status"))
        except CassetteError as exc:
            raise CassetteError(f"entry {n}: {exc}") from None
        exchanges.append(
            Exchange(
                method=request.get("method") or "GET",
                url=request.get("url") or "",
                request_body=post.get("text"),
                request_headers=request.get("headers"),
                status=code,
                message=str(response.get("statusText") or ""),
                headers=response.get("headers"),
                body=body,
                skip="" if code > 0 else "no response was received (status 0)",
            )
        )
    return _recording(exchanges, upstream)


BODY_FORMATS: dict[str, tuple[Callable[[bytes], Read], str | None]] = {
    "openai-sse": (_read_sse, "openai"),
    "gemini-sse": (_read_sse, "gemini"),
    "gemini-json": (_read_gemini_array, "gemini"),
    "chunks-jsonl": (_read_jsonl, None),
    "chunks-json": (_read_json_array, None),
    "ollama-ndjson": (_read_ndjson, "ollama"),
    "openai-response": (_read_response, "openai"),
    "gemini-response": (_read_response, "gemini"),
    "ollama-response": (_read_response, "ollama"),
}
"""One response body: (its reader, the dialect the format's name says, if any — the payloads decide first)."""

RECORDING_FORMATS: dict[str, Callable[[bytes, bool, str | None], Recording]] = {
    "vcr": _from_vcr,
    "go-vcr": _from_go_vcr,
    "llama-stack": _from_llama_stack,
    "har": _from_har,
}
"""Recorded HTTP traffic: reader(raw, done, upstream)."""

FORMATS = (*BODY_FORMATS, *RECORDING_FORMATS)


def is_quirktape(data: Any) -> bool:
    """A quirktape cassette already: its responses carry our stream fidelity data.

    A top-level ``metadata`` alone does not tell: vcrpy 9 writes one into its own cassettes.
    """
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        return False
    responses = [i.get("response") for i in data["interactions"] if isinstance(i, dict)]
    return any(isinstance(r, dict) and "quirktape" in r for r in responses)


def _document_format(data: Any) -> str | None:
    """Which recording format a parsed JSON/YAML document is, if any."""
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("log"), dict) and isinstance(data["log"].get("entries"), list):
        return "har"
    if isinstance(data.get("request"), dict) and isinstance(data.get("response"), dict):
        return "llama-stack"
    interactions = data.get("interactions")
    if isinstance(interactions, list):
        if is_quirktape(data):
            return "quirktape"
        first = interactions[0] if interactions and isinstance(interactions[0], dict) else {}
        request = first.get("request") if isinstance(first.get("request"), dict) else {}
        go = data.get("version") == 2 or ("url" in request and "uri" not in request)
        return "go-vcr" if go else "vcr"
    return None


def _told(payloads: list[Any], upstream: str | None) -> str:
    """``upstream``, else the dialect the payloads tell; a foreign or silent input is refused here."""
    return upstream or translatable(payloads_dialect(payloads), ASK)


def _is_chunk(obj: dict) -> bool:
    """One streamed chunk rather than a complete response: an OpenAI delta, or an Ollama line before the last."""
    choices = obj.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    return (
        str(obj.get("object", "")).endswith(".chunk")
        or (isinstance(first, dict) and "delta" in first)
        or obj.get("done") is False
    )


def _object_format(obj: dict, upstream: str | None) -> str:
    """A single JSON object: a complete response, or one streamed chunk on its own."""
    dialect = _told([obj], upstream)
    if _is_chunk(obj):
        return "ollama-ndjson" if dialect == "ollama" else "chunks-jsonl"
    return f"{dialect}-response"


def detect_format(raw: bytes, upstream: str | None = None) -> str:
    """The input's format; a bare body's by the dialect its payloads (or ``upstream``) tell, never by default."""
    text = raw.decode("utf-8", "replace").lstrip("\ufeff").strip()
    if not text:
        raise CassetteError("the input is empty")
    if REPORT_MARKER in text:
        return "markdown"
    if text.startswith(("{", "[")):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, dict):
            return _document_format(document) or _object_format(document, upstream)
        payloads = json_payloads(text) if text.startswith("[") else []
        if payloads:
            return "gemini-json" if _told(payloads, upstream) == "gemini" else "chunks-json"
    if re.search(r"^interactions:", text, re.M):
        found = _document_format(_load_document(text.encode()))
        if found:
            return found
    if _SSE_LINE.search(text):
        return "gemini-sse" if _told(sse_payloads(text), upstream) == "gemini" else "openai-sse"
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and all(line.lstrip().startswith("{") for line in lines):
        _, payloads = _json_lines(text.encode(), "payload")
        return "ollama-ndjson" if _told(payloads, upstream) == "ollama" else "chunks-jsonl"
    raise CassetteError("cannot tell the input format; pass --format")


def import_bytes(
    raw: bytes,
    fmt: str = "auto",
    *,
    upstream: str | None = None,
    done: bool = True,
    interaction: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> Cassette:
    """``raw`` in format ``fmt`` as a cassette; ``interaction`` keeps only that exchange (0-based)."""
    if upstream is not None and upstream not in UPSTREAMS:
        raise CassetteError(f"unknown upstream dialect {upstream!r} (known: {', '.join(UPSTREAMS)})")
    if fmt == "auto":
        fmt = detect_format(raw, upstream)
    if fmt in ("markdown", "quirktape"):  # a bug report, or already a cassette: taken exactly as it is
        cassette = cassette_from_report(_text(raw)) if fmt == "markdown" else parse_cassette(_load_document(raw))
        if interaction is not None:
            cassette.interactions = [_only(cassette.interactions, interaction)]
        return cassette
    if fmt in BODY_FORMATS:
        reader, named = BODY_FORMATS[fmt]
        recording = _from_body(reader(raw), named, upstream, done)
    elif fmt in RECORDING_FORMATS:
        recording = RECORDING_FORMATS[fmt](raw, done, upstream)
    else:
        raise CassetteError(f"unknown format {fmt!r} (known: auto, {', '.join(FORMATS)})")
    meta = {k: v for k, v in (metadata or {}).items() if v not in (None, "", [], ())}
    for key, notes in (("skipped", recording.skipped), ("import_notes", recording.notes)):
        if notes:
            meta.setdefault(key, notes)
    interactions, models = recording.interactions, recording.models
    if interaction is not None:
        interactions, models = [_only(interactions, interaction)], [models[interaction]]
    meta.setdefault("model", next((m for m in models if m), ""))
    return Cassette(interactions=interactions, metadata=Metadata(**meta))


def _only(interactions: list[Interaction], index: int) -> Interaction:
    if not 0 <= index < len(interactions):
        count = len(interactions)
        raise CassetteError(
            f"interaction {index} does not exist (the input holds {count} LLM exchange{'' if count == 1 else 's'})"
        )
    return interactions[index]


def import_file(path: str | Path, fmt: str = "auto", **kwargs: Any) -> Cassette:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CassetteError(f"{path}: cannot read: {exc.strerror or exc}") from None
    metadata = dict(kwargs.pop("metadata", None) or {})
    try:
        fmt = detect_format(raw, kwargs.get("upstream")) if fmt == "auto" else fmt
        if fmt not in ("markdown", "quirktape"):  # those carry their own metadata, kept unchanged
            metadata["title"] = metadata.get("title") or path.stem
            metadata["source"] = metadata.get("source") or str(path)
        return import_bytes(raw, fmt, metadata=metadata, **kwargs)
    except CassetteError as exc:
        raise CassetteError(f"{path}: {exc}") from None


def import_files(
    paths: list[str | Path], fmt: str = "auto", *, interaction: int | None = None, **kwargs: Any
) -> Cassette:
    """Several inputs as one cassette, in the order given: a stream and its complete twin, the turns of a run.

    Every input is read before anything is returned, so one bad input fails the whole import.
    """
    if not paths:
        raise CassetteError("no input to import")
    cassettes = [import_file(path, fmt, **kwargs) for path in paths]
    cassette = cassettes[0] if len(cassettes) == 1 else _merged(cassettes, [str(p) for p in paths])
    if interaction is not None:
        cassette.interactions = [_only(cassette.interactions, interaction)]
    return cassette


def _merged(cassettes: list[Cassette], names: list[str]) -> Cassette:
    """The first input's metadata with every input's source, and each input's notes under its name."""
    meta = cassettes[0].metadata
    meta.source = ", ".join(dict.fromkeys(c.metadata.source for c in cassettes if c.metadata.source))
    meta.model = meta.model or next((c.metadata.model for c in cassettes if c.metadata.model), "")
    for key in ("skipped", "import_notes"):
        notes = [
            f"{name}: {note}" for name, c in zip(names, cassettes) for note in getattr(c.metadata, key, None) or []
        ]
        if notes:
            setattr(meta, key, notes)
    return Cassette(interactions=[i for c in cassettes for i in c.interactions], metadata=meta)
