"""Recording formats: recorded HTTP traffic, read into one interaction per LLM exchange it holds.

vcrpy and go-vcr cassettes, llama-stack recordings and HAR files (browser dev tools, mitmproxy).
Each exchange keeps its real request (credentials redacted) and its body, decoded if it was
compressed; exchanges that are not LLM calls, and recognised formats quirktape does not translate
(Anthropic Messages, the target format, among them), are skipped with a note saying why.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from ..tape import (
    FOREIGN,
    UPSTREAMS,
    Body,
    CassetteError,
    Interaction,
    Request,
    Response,
    Status,
    Tape,
    body_framing,
    exchange_dialect,
    payloads_dialect,
    redact_headers,
    redact_url,
    url_dialect,
    yamlio,
)
from .bodies import CONTENT_TYPES, SNAKE_NOTE, Recording, chunks_body, model_in, reads, text_or_bytes, wire_keys


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


ALIAS_BOUND = 1_000_000
"""Values a recording may expand to through YAML aliases (each counted at its full size)."""


def load_document(raw: bytes) -> Any:
    """A JSON or YAML document (JSON is YAML, but the JSON parser is faster and stricter)."""
    text = raw.decode("utf-8", "replace").lstrip("\ufeff")
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            pass
    try:  # aliases followed as PyYAML follows them, within a bound: a 1 KB alias bomb is refused, not expanded
        return yamlio.read(text, loader=_Loader, aliases=ALIAS_BOUND)
    except yamlio.YamlRefused as exc:
        raise CassetteError(str(exc)) from None
    except RecursionError:
        raise CassetteError("nested too deeply to read") from None
    except MemoryError:
        raise CassetteError("too large to read into memory") from None
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
        return text_or_bytes(_decoded(request_body, {})[0])
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
    rewritten = wire_keys(body, framing, dialect)
    if rewritten is not None:
        body, text = rewritten, rewritten.decode("utf-8", "replace")
        headers.pop("content-length", None)
        recording.notes.append(f"interaction {n}: {SNAKE_NOTE}")
    offsets, ending = reads(body, framing, dialect)
    headers.setdefault("content-type", [CONTENT_TYPES[framing]])
    request_body = _request_text(exchange.request_body)
    gemini_model = _GEMINI_MODEL.search(path)
    model = model_in(text, request_body if isinstance(request_body, str) else "")
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
                body=Body(string=text_or_bytes(body)),
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
    data = load_document(raw)
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


def from_vcr(raw: bytes, done: bool, upstream: str | None) -> Recording:
    """A vcrpy cassette (YAML or JSON): ``interactions[].request.uri`` and ``response.body.string``."""
    return _recording(_cassette_exchanges(raw, "vcrpy"), upstream)


def from_go_vcr(raw: bytes, done: bool, upstream: str | None) -> Recording:
    """A go-vcr cassette (version 1 or 2): ``request.url``, ``response.body`` a string, ``code`` + ``status``."""
    return _recording(_cassette_exchanges(raw, "go-vcr"), upstream)


def _llama_payload(item: Any) -> Any:
    return item["__data__"] if isinstance(item, dict) and "__data__" in item else item


def from_llama_stack(raw: bytes, done: bool, upstream: str | None) -> Recording:
    """A llama-stack recording: each chunk's ``__data__`` becomes one event of its dialect's stream."""
    data = load_document(raw)
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
        encoded, framing = chunks_body(lines, dialect if dialect in UPSTREAMS else None, done)
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


def from_har(raw: bytes, done: bool, upstream: str | None) -> Recording:
    """A HAR 1.2 file (browser dev tools, mitmproxy): ``log.entries[].request/response``."""
    data = load_document(raw)
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
