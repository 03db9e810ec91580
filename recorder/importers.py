"""Turn what people already have (raw SSE, chunk lists) into cassettes.

Each importer reads one input format into the same thing: a response body plus
the read boundaries it implies (one read per SSE event, or per payload, when the
input kept no timing). Formats are plain functions registered by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from translator.jsonarray import JsonArrayDecoder

from .cassette import Body, Cassette, CassetteError, Interaction, Metadata, Request, Response, Status, Tape

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


def _from_jsonl(raw: bytes, done: bool) -> Imported:
    lines = [line for line in _text(raw).split("\n") if line.strip()]
    if not lines:
        raise CassetteError("no payload lines in the input")
    payloads = []
    for n, line in enumerate(lines, 1):
        try:
            payloads.append(json.loads(line))
        except (ValueError, RecursionError):
            raise CassetteError(f"line {n} is not JSON") from None
    return _sse_body([line.strip() for line in lines], payloads, done)


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


def _from_gemini_array(raw: bytes, done: bool) -> Imported:
    """Gemini's streamed JSON array is already the wire format: keep the bytes, one read per element."""
    text = _text(raw)
    elements = [data for event, data in JsonArrayDecoder().feed(raw) if event is None]
    if not text.lstrip("\ufeff \t\r\n").startswith("[") or not elements:
        raise CassetteError("not a streamed JSON array of Gemini responses")
    offsets, chars, size = [0], 0, 0
    for previous, element in zip(elements, elements[1:]):
        end = text.index(previous, chars) + len(previous)
        start = text.index(element, end)
        size += len(text[chars:start].encode("utf-8"))
        chars = start
        offsets.append(size)
    try:
        model = _model_of([json.loads(elements[0])])
    except (ValueError, RecursionError):
        model = ""
    return Imported(raw, "gemini", "done", model, offsets)


FORMATS: dict[str, Callable[[bytes, bool], Imported]] = {
    "openai-sse": _from_sse,
    "gemini-sse": _from_gemini_sse,
    "gemini-json": _from_gemini_array,
    "chunks-jsonl": _from_jsonl,
    "chunks-json": _from_json_array,
}


def detect_format(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").lstrip("\ufeff").strip()
    raw = text.encode()
    if not text:
        raise CassetteError("the input is empty")
    if text.startswith("["):
        try:
            first = json.loads(text)[0]
        except (ValueError, IndexError, KeyError, TypeError, RecursionError):
            first = None
        return "gemini-json" if _payload_dialect(first) == "gemini" else "chunks-json"
    if _SSE_LINE.search(text):
        return "gemini-sse" if _payload_dialect(_first_data(text)) == "gemini" else "openai-sse"
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and all(line.lstrip().startswith("{") for line in lines):
        return "chunks-jsonl"
    raise CassetteError("cannot tell the input format; pass --format")


def import_bytes(
    raw: bytes,
    fmt: str = "auto",
    *,
    upstream: str | None = None,
    done: bool = True,
    metadata: dict[str, Any] | None = None,
) -> Cassette:
    if fmt == "auto":
        fmt = detect_format(raw)
    if fmt not in FORMATS:
        raise CassetteError(f"unknown format {fmt!r} (known: auto, {', '.join(FORMATS)})")
    imported = FORMATS[fmt](raw, done)
    dialect = upstream or imported.dialect
    meta = {k: v for k, v in (metadata or {}).items() if v not in (None, "", [], ())}
    meta.setdefault("model", imported.model)
    tape = Tape(
        dialect=dialect,
        stream=True,
        offsets=imported.offsets if imported.body else None,
        ending=imported.ending,
    )
    response = Response(
        status=Status(code=200, message="OK"),
        headers={"content-type": ["application/json" if fmt == "gemini-json" else "text/event-stream"]},
        body=Body(string=_text_or_bytes(imported.body)),
        quirktape=tape,
    )
    request = Request(method="POST", uri=_default_uri(dialect), body="", headers={})
    return Cassette(interactions=[Interaction(request=request, response=response)], metadata=Metadata(**meta))


def _default_uri(dialect: str) -> str:
    if dialect == "gemini":
        return "http://127.0.0.1/v1beta/models/unknown:streamGenerateContent?alt=sse"
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
    metadata["title"] = metadata.get("title") or path.stem
    metadata["source"] = metadata.get("source") or str(path)
    try:
        return import_bytes(raw, fmt, metadata=metadata, **kwargs)
    except CassetteError as exc:
        raise CassetteError(f"{path}: {exc}") from None
