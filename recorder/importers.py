"""Turn what people already have (raw streams, chunk lists, recordings of HTTP traffic) into cassettes.

A body format (raw SSE, chunk lists, Gemini's JSON array, Ollama NDJSON) reads into one
response body plus the read boundaries it implies (one read per SSE event, NDJSON line or
array element when the input kept no timing). A recording format (vcrpy and go-vcr
cassettes, llama-stack recordings, HAR files) reads into one interaction per LLM exchange
it holds, with the real request (credentials redacted); exchanges that are not LLM calls,
and Anthropic Messages responses (the target format, not a translator input), are skipped
with a note. Formats are plain functions registered by name.
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

_EOL = rb"(?:\r\n|\n|\r(?!\n))"  # one line end; a CRLF is never two
_BLANK_LINE = re.compile(_EOL + _EOL)
_SSE_LINE = re.compile(r"^(data|event|id|retry|error)?:", re.M)


def _event_offsets(body: bytes) -> list[int]:
    """One read per SSE event: a read starts after each blank line."""
    return [0] + [m.end() for m in _BLANK_LINE.finditer(body) if m.end() < len(body)]


def _payload_dialect(payload: Any) -> str:
    if isinstance(payload, dict) and (
        "candidates" in payload or "promptFeedback" in payload or "usageMetadata" in payload
    ):
        return "gemini"
    return "openai"


def _first_data(text: str) -> Any:
    """The first payload that tells the dialect apart (an error or metadata-only event does not)."""
    first = None
    for line in text.splitlines():
        if line.startswith("data:"):
            try:
                payload = json.loads(line[5:].strip())
            except (ValueError, RecursionError):
                continue
            first = payload if first is None else first
            if isinstance(payload, dict) and (
                {"choices", "candidates", "promptFeedback", "usageMetadata"} & payload.keys()
            ):
                return payload
    return first


def _model_of(payloads: list[Any]) -> str:
    for p in payloads:
        if isinstance(p, dict) and isinstance(p.get("model") or p.get("modelVersion"), str):
            return p.get("model") or p.get("modelVersion")
    return ""


class Imported:
    """A body and what the input told us about it."""

    def __init__(
        self, body: bytes, dialect: str, ending: str, model: str = "", offsets: list[int] | None = None
    ) -> None:
        self.body = body
        self.dialect = dialect
        self.ending = ending
        self.model = model
        self.offsets = offsets if offsets is not None else _event_offsets(body)


def _from_sse(raw: bytes, done: bool) -> Imported:
    text = raw.decode("utf-8", "replace")
    if not re.search(r"^(data|event|error):", text, re.M):
        raise CassetteError("no SSE 'data:' lines in the input")
    first = _first_data(text)
    dialect = _payload_dialect(first)
    ending = "done" if dialect == "gemini" or re.search(r"^data: ?\[DONE\]", text, re.M) else "eof"
    return Imported(raw, dialect, ending, _model_of([first]))


def _sse_body(lines: list[str], payloads: list[Any], done: bool) -> Imported:
    dialect = _payload_dialect(payloads[0] if payloads else None)
    events = [f"data: {line}\n\n" for line in lines]
    ending = "done" if dialect == "gemini" else "eof"
    if done and dialect == "openai":
        events.append("data: [DONE]\n\n")
        ending = "done"
    return Imported("".join(events).encode("utf-8"), dialect, ending, _model_of(payloads))


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteError(f"not UTF-8 text (byte {exc.start})") from None


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


def _from_jsonl(raw: bytes, done: bool) -> Imported:
    return _sse_body(*_json_lines(raw, "payload"), done)


def _from_json_array(raw: bytes, done: bool) -> Imported:
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
    return _sse_body(lines, payloads, done)


def _from_gemini_sse(raw: bytes, done: bool) -> Imported:
    imported = _from_sse(raw, done)
    imported.dialect, imported.ending = "gemini", "done"
    return imported


def _array_offsets(raw: bytes) -> tuple[list[int], list[str]]:
    """One read per element of a streamed JSON array: where each element's read begins, and the elements."""
    text = raw.decode("utf-8", "replace")
    elements = [data for event, data in JsonArrayDecoder().feed(raw) if event is None]
    offsets, chars, size = [0], 0, 0
    for previous, element in zip(elements, elements[1:]):
        end = text.index(previous, chars) + len(previous)
        start = text.index(element, end)
        size += len(text[chars:start].encode("utf-8"))
        chars = start
        offsets.append(size)
    return offsets, elements


def _from_gemini_array(raw: bytes, done: bool) -> Imported:
    """Gemini's streamed JSON array is already the wire format: keep the bytes, one read per element."""
    text = _text(raw)
    offsets, elements = _array_offsets(raw)
    if not text.lstrip("\ufeff \t\r\n").startswith("[") or not elements:
        raise CassetteError("not a streamed JSON array of Gemini responses")
    try:
        model = _model_of([json.loads(elements[0])])
    except (ValueError, RecursionError):
        model = ""
    return Imported(raw, "gemini", "done", model, offsets)


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


def _from_ollama(raw: bytes, done: bool) -> Imported:
    """Ollama's native ``/api/chat`` stream: one JSON object per line, kept as is."""
    _, payloads = _json_lines(raw, "NDJSON")
    return Imported(raw, "ollama", _ndjson_ending(raw), _model_of(payloads), _line_offsets(raw))


# --- recordings of HTTP traffic: several exchanges, each with its request -------------------------


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML (``!!binary`` included) that leaves timestamps as the strings they were."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_ENCODED = ("content-encoding", "content-length", "transfer-encoding")  # the body is stored decoded and whole
_GEMINI_PATH = re.compile(r":(?:stream)?[gG]enerateContent$")
_GEMINI_MODEL = re.compile(r"/models/([^/:]+):")
_MODEL = re.compile(r'"(?:model|modelVersion)"\s*:\s*"([^"\\]+)"')
ANTHROPIC_NOTE = "an Anthropic Messages response (the target format, not a translator input)"


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


@dataclass
class Recording:
    """What a recording format yields: the LLM exchanges, and why the others were left out."""

    interactions: list[Interaction]
    models: list[str] = field(default_factory=list)  # one per interaction ("" when none was found)
    skipped: list[str] = field(default_factory=list)


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


def _payload_kind(obj: Any) -> str | None:
    """Which wire dialect one payload is in, if it is an LLM payload at all."""
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    if not isinstance(obj, dict):
        return None
    if obj.get("type") in ("message_start", "message") and ("message" in obj or "content" in obj):
        return "anthropic"
    if {"candidates", "promptFeedback", "usageMetadata"} & obj.keys():
        return "gemini"
    if "choices" in obj:
        return "openai"
    if "done" in obj and ("message" in obj or "created_at" in obj):
        return "ollama"
    return None


def _body_kind(text: str) -> str | None:
    """The dialect a response body speaks, read off the body (SSE, NDJSON, JSON array or object)."""
    head = text.lstrip("\ufeff \t\r\n")
    if re.search(r"^event: ?message_start", head, re.M):
        return "anthropic"
    if head.startswith(("{", "[")):
        try:
            return _payload_kind(json.loads(head))
        except (ValueError, RecursionError):
            pass
        first = head.split("\n", 1)[0]
        try:
            return _payload_kind(json.loads(first))
        except (ValueError, RecursionError):
            elements = [d for e, d in JsonArrayDecoder().feed(head.encode()) if e is None][:1]
            try:
                return _payload_kind(json.loads(elements[0])) if elements else None
            except (ValueError, RecursionError):
                return None
    if _SSE_LINE.search(head):
        return _payload_kind(_first_data(head))
    return None


def _url_kind(path: str) -> str | None:
    """Which LLM endpoint a URL path names, if any."""
    path = path.rstrip("/")
    if path.endswith("/chat/completions"):
        return "openai"
    if _GEMINI_PATH.search(path):
        return "gemini"
    if path.endswith("/api/chat"):
        return "ollama"
    if path.endswith("/v1/messages"):
        return "anthropic"
    return None


def _shape(body: bytes, text: str, dialect: str, content_type: str) -> tuple[bool, list[int] | None, str]:
    """(stream, offsets, ending) read off the body: SSE, NDJSON and JSON arrays stream; one JSON object does not."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head:
        return True, None, "eof"
    if head[0] == "{":
        if "ndjson" in content_type:
            return True, _line_offsets(body), _ndjson_ending(body)
        try:
            json.loads(head)
            return False, None, "done"
        except (ValueError, RecursionError):
            if dialect == "ollama" or all(line.lstrip().startswith("{") for line in head.splitlines() if line.strip()):
                return True, _line_offsets(body), _ndjson_ending(body)
    if head[0] == "[":
        offsets, _ = _array_offsets(body)
        return True, offsets, "done" if head.rstrip().endswith("]") else "eof"
    done = dialect == "gemini" or re.search(r"^data: ?\[DONE\]", text, re.M)
    return True, _event_offsets(body), "done" if done else "eof"


def _model_in(*texts: str) -> str:
    for text in texts:
        for match in _MODEL.finditer(text[:200_000]):
            return match.group(1)
    return ""


def _interaction(exchange: Exchange) -> tuple[Interaction | None, str, str]:
    """(the interaction, its model, why it was skipped) for one recorded exchange."""
    url, method = str(exchange.url or ""), str(exchange.method or "POST").upper()
    try:
        path = unquote(urlsplit(url).path)
        url = redact_url(url, [])
    except ValueError:
        raise CassetteError(f"not a usable URL: {' '.join(url.split())[:200]!r}") from None
    where = " ".join(f"{method} {url}".split())[:300]  # one line, whatever the input held
    if exchange.skip:
        return None, "", f"{where}: {exchange.skip}"
    body, headers = _decoded(_as_bytes(exchange.body), _headers(exchange.headers))
    text = body.decode("utf-8", "replace")
    kind = _url_kind(path)
    dialect = _body_kind(text) or kind
    if kind is None and dialect is None:
        return None, "", f"{where}: not an LLM endpoint"
    if dialect == "anthropic":
        return None, "", f"{where}: {ANTHROPIC_NOTE}"
    request_body = exchange.request_body
    if request_body is not None and not isinstance(request_body, (str, bytes)):
        request_body = _as_bytes(request_body).decode("utf-8")
    elif isinstance(request_body, bytes):
        request_body = _text_or_bytes(_decoded(request_body, {})[0])
    stream, offsets, ending = _shape(body, text, dialect, ",".join(headers.get("content-type", [])).lower())
    if "content-type" not in headers:
        headers["content-type"] = [_content_type(dialect, stream, text)]
    request_text = request_body if isinstance(request_body, str) else ""
    gemini_model = _GEMINI_MODEL.search(path)
    model = _model_in(text, request_text) or (gemini_model.group(1) if gemini_model else "")
    interaction = Interaction(
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
            quirktape=Tape(dialect=dialect, stream=stream, offsets=offsets, ending=ending),
        ),
    )
    return interaction, model, ""


def _content_type(dialect: str, stream: bool, text: str) -> str:
    if not stream or text.lstrip("\ufeff \t\r\n").startswith("["):
        return "application/json"
    return "application/x-ndjson" if dialect == "ollama" else "text/event-stream"


def _recording(exchanges: list[Exchange]) -> Recording:
    recording = Recording([])
    for n, exchange in enumerate(exchanges):
        try:
            interaction, model, skipped = _interaction(exchange)
        except CassetteError as exc:
            raise CassetteError(f"interaction {n}: {exc}") from None
        if interaction is None:
            recording.skipped.append(f"interaction {n}: {skipped}")
            continue
        recording.interactions.append(interaction)
        recording.models.append(model)
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


def _from_vcr(raw: bytes, done: bool) -> Recording:
    """A vcrpy cassette (YAML or JSON): ``interactions[].request.uri`` and ``response.body.string``."""
    return _recording(_cassette_exchanges(raw, "vcrpy"))


def _from_go_vcr(raw: bytes, done: bool) -> Recording:
    """A go-vcr cassette (version 1 or 2): ``request.url``, ``response.body`` a string, ``code`` + ``status``."""
    return _recording(_cassette_exchanges(raw, "go-vcr"))


def _llama_payload(item: Any) -> Any:
    return item["__data__"] if isinstance(item, dict) and "__data__" in item else item


def _from_llama_stack(raw: bytes, done: bool) -> Recording:
    """A llama-stack recording: each chunk's ``__data__`` becomes one SSE event (plus ``[DONE]``)."""
    data = _load_document(raw)
    request = data.get("request") if isinstance(data, dict) else None
    response = data.get("response") if isinstance(data, dict) else None
    if not isinstance(request, dict) or not isinstance(response, dict) or "body" not in response:
        raise CassetteError("not a llama-stack recording (no request and response.body)")
    body = response["body"]
    streaming = response.get("is_streaming", isinstance(body, list))
    if streaming:
        payloads = [_llama_payload(item) for item in (body if isinstance(body, list) else [body])]
        if not payloads:
            raise CassetteError("the llama-stack recording holds no chunks")
        try:
            lines = [json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in payloads]
        except (TypeError, ValueError, RecursionError):
            raise CassetteError("a chunk cannot be written back as JSON") from None
        encoded: Any = _sse_body(lines, payloads, done).body
        content_type = "text/event-stream"
    else:
        encoded, content_type = _llama_payload(body), "application/json"
    exchange = Exchange(
        method=request.get("method") or "POST",
        url=request.get("url") or "",
        request_body=request.get("body"),
        request_headers=request.get("headers"),
        status=200,
        message="OK",
        headers={"content-type": [content_type]},
        body=encoded,
    )
    return _recording([exchange])


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


def _from_har(raw: bytes, done: bool) -> Recording:
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
    return _recording(exchanges)


Importer = Callable[[bytes, bool], "Imported | Recording"]

FORMATS: dict[str, Importer] = {
    "openai-sse": _from_sse,
    "gemini-sse": _from_gemini_sse,
    "gemini-json": _from_gemini_array,
    "chunks-jsonl": _from_jsonl,
    "chunks-json": _from_json_array,
    "ollama-ndjson": _from_ollama,
    "vcr": _from_vcr,
    "go-vcr": _from_go_vcr,
    "llama-stack": _from_llama_stack,
    "har": _from_har,
}
BODY_CONTENT_TYPES = {"gemini-json": "application/json", "ollama-ndjson": "application/x-ndjson"}


def is_quirktape(data: Any) -> bool:
    """A quirktape cassette already: it has our metadata or stream fidelity data."""
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        return False
    responses = [i.get("response") for i in data["interactions"] if isinstance(i, dict)]
    return "metadata" in data or any(isinstance(r, dict) and "quirktape" in r for r in responses)


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


def detect_format(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").lstrip("\ufeff").strip()
    raw = text.encode()
    if not text:
        raise CassetteError("the input is empty")
    if REPORT_MARKER in text:
        return "markdown"
    if text.startswith("{"):
        try:
            found = _document_format(json.loads(text))
        except (ValueError, RecursionError):
            found = None
        if found:
            return found
    if text.startswith("["):
        try:
            first = json.loads(text)[0]
        except (ValueError, IndexError, KeyError, TypeError, RecursionError):
            first = None
        return "gemini-json" if _payload_dialect(first) == "gemini" else "chunks-json"
    if re.search(r"^interactions:", text, re.M):
        found = _document_format(_load_document(raw))
        if found:
            return found
    if _SSE_LINE.search(text):
        return "gemini-sse" if _payload_dialect(_first_data(text)) == "gemini" else "openai-sse"
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and all(line.lstrip().startswith("{") for line in lines):
        try:
            first = json.loads(lines[0])
        except (ValueError, RecursionError):
            first = None
        return "ollama-ndjson" if _payload_kind(first) == "ollama" else "chunks-jsonl"
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
    if fmt == "auto":
        fmt = detect_format(raw)
    if fmt in ("markdown", "quirktape"):  # a bug report, or already a cassette: taken exactly as it is
        cassette = cassette_from_report(_text(raw)) if fmt == "markdown" else parse_cassette(_load_document(raw))
        if interaction is not None:
            cassette.interactions = [_only(cassette.interactions, interaction)]
        return cassette
    if fmt not in FORMATS:
        raise CassetteError(f"unknown format {fmt!r} (known: auto, {', '.join(FORMATS)})")
    result = FORMATS[fmt](raw, done)
    meta = {k: v for k, v in (metadata or {}).items() if v not in (None, "", [], ())}
    if isinstance(result, Recording):
        interactions, models = result.interactions, result.models
        if result.skipped:
            meta.setdefault("skipped", result.skipped)
    else:
        result.dialect = upstream or result.dialect
        interactions, models = [_body_interaction(result, fmt)], [result.model]
    if upstream:
        for item in interactions:
            item.response.quirktape.dialect = upstream
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


def _body_interaction(imported: Imported, fmt: str) -> Interaction:
    """A bare body (no request was recorded) as an interaction with a placeholder request."""
    tape = Tape(
        dialect=imported.dialect,
        stream=True,
        offsets=imported.offsets if imported.body else None,
        ending=imported.ending,
    )
    response = Response(
        status=Status(code=200, message="OK"),
        headers={"content-type": [BODY_CONTENT_TYPES.get(fmt, "text/event-stream")]},
        body=Body(string=_text_or_bytes(imported.body)),
        quirktape=tape,
    )
    request = Request(method="POST", uri=_default_uri(imported.dialect), body="", headers={})
    return Interaction(request=request, response=response)


def _default_uri(dialect: str) -> str:
    if dialect == "gemini":
        return "http://127.0.0.1/v1beta/models/unknown:streamGenerateContent?alt=sse"
    if dialect == "ollama":
        return "http://127.0.0.1:11434/api/chat"
    return "http://127.0.0.1/v1/chat/completions"


def _text_or_bytes(body: bytes) -> str | bytes:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def import_file(path: str | Path, fmt: str = "auto", **kwargs: Any) -> Cassette:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CassetteError(f"{path}: cannot read: {exc.strerror or exc}") from None
    metadata = dict(kwargs.pop("metadata", None) or {})
    try:
        fmt = detect_format(raw) if fmt == "auto" else fmt
        if fmt not in ("markdown", "quirktape"):  # those carry their own metadata, kept unchanged
            metadata["title"] = metadata.get("title") or path.stem
            metadata["source"] = metadata.get("source") or str(path)
        return import_bytes(raw, fmt, metadata=metadata, **kwargs)
    except CassetteError as exc:
        raise CassetteError(f"{path}: {exc}") from None
