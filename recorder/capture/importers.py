"""Turn what people already have (raw streams, complete responses, chunk lists, recordings of HTTP
traffic, quirktape bug reports) into cassettes: the format registry, format detection, and
``import_bytes`` / ``import_file`` / ``import_files``.

A body format (``bodies``: raw SSE, chunk lists, Gemini's JSON array, Ollama NDJSON, one complete
response) reads into one response body plus the read boundaries it implies. A recording format
(``recordings``: vcrpy and go-vcr cassettes, llama-stack recordings, HAR files) reads into one
interaction per LLM exchange it holds, with the real request. Formats are plain functions
registered by name.

No dialect is ever assumed (``sniff``): the payloads tell it, or the URL path, or ``--upstream``;
otherwise the import is refused, because a body read as the wrong dialect replays as an empty
message that looks like success. Gemini as the google SDK serialises it (snake_case keys) is given
back the wire's camelCase, and the cassette says so in ``metadata.import_notes``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..tape import (
    MARKER,
    UPSTREAMS,
    Cassette,
    CassetteError,
    Interaction,
    Metadata,
    cassette_from_report,
    json_payloads,
    parse_cassette,
    payloads_dialect,
    sse_payloads,
    translatable,
)
from .bodies import (
    ASK,
    Read,
    Recording,
    decode_text,
    from_body,
    json_lines,
    read_gemini_array,
    read_json_array,
    read_jsonl,
    read_ndjson,
    read_response,
    read_sse,
)
from .recordings import from_go_vcr, from_har, from_llama_stack, from_vcr, load_document

_SSE_LINE = re.compile(r"^(data|event|id|retry|error)?:", re.M)
_SSE_FORMATS = {"gemini": "gemini-sse", "anthropic": "anthropic-sse", "responses": "responses-sse"}
"""The SSE body format a dialect's payloads name (every other dialect's SSE reads as openai-sse does)."""


BODY_FORMATS: dict[str, tuple[Callable[[bytes], Read], str | None]] = {
    "openai-sse": (read_sse, "openai"),
    "gemini-sse": (read_sse, "gemini"),
    "gemini-json": (read_gemini_array, "gemini"),
    "chunks-jsonl": (read_jsonl, None),
    "chunks-json": (read_json_array, None),
    "ollama-ndjson": (read_ndjson, "ollama"),
    "openai-response": (read_response, "openai"),
    "gemini-response": (read_response, "gemini"),
    "ollama-response": (read_response, "ollama"),
    "anthropic-sse": (read_sse, "anthropic"),
    "anthropic-response": (read_response, "anthropic"),
    "responses-sse": (read_sse, "responses"),
    "responses-response": (read_response, "responses"),
}
"""One response body: (its reader, the dialect the format's name says, if any — the payloads decide first)."""

RECORDING_FORMATS: dict[str, Callable[[bytes, bool, str | None], Recording]] = {
    "vcr": from_vcr,
    "go-vcr": from_go_vcr,
    "llama-stack": from_llama_stack,
    "har": from_har,
}
"""Recorded HTTP traffic: reader(raw, done, upstream)."""

FORMATS = (*BODY_FORMATS, *RECORDING_FORMATS)


def is_quirktape(data: Any) -> bool:
    """A quirktape cassette already: its responses carry our stream fidelity data (``response.quirktape``).

    Either shape: the first response's ``quirktape`` also holds the cassette's metadata (as quirktape
    writes it now), or the metadata is at the top level (as it wrote it before); both have
    ``response.quirktape``, and ``parse_cassette`` reads both. A top-level ``metadata`` alone does not
    tell: vcrpy 9 writes one into its own cassettes (``cassette.get_metadata``).
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


_LEADING = re.compile(r"\s*")  # what the format is read after: white space


def detect_format(raw: bytes, upstream: str | None = None) -> str:
    """The input's format; a bare body's by the dialect its payloads (or ``upstream``) tell, never by default."""
    # byte-order marks dropped (a copy only when there is one), white space not: a stripped copy of a long
    # stream is one copy too many
    text = raw.decode("utf-8", "replace").lstrip("\ufeff")
    start = _LEADING.match(text).end()  # type: ignore[union-attr]
    if start == len(text):
        raise CassetteError("the input is empty")
    if MARKER in text:
        return "markdown"
    if text.startswith(("{", "["), start):
        head = text[start:].strip()
        try:
            document = json.loads(head)
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, dict):
            return _document_format(document) or _object_format(document, upstream)
        payloads = json_payloads(head) if head.startswith("[") else []
        if payloads:
            return "gemini-json" if _told(payloads, upstream) == "gemini" else "chunks-json"
    if re.search(r"^interactions:", text, re.M):
        found = _document_format(load_document(text.encode()))
        if found:
            return found
    if _SSE_LINE.search(text):
        return _SSE_FORMATS.get(_told(sse_payloads(text), upstream), "openai-sse")
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and all(line.lstrip().startswith("{") for line in lines):
        _, payloads = json_lines(text.encode(), "payload")
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
        cassette = cassette_from_report(decode_text(raw)) if fmt == "markdown" else parse_cassette(load_document(raw))
        if interaction is not None:
            cassette.interactions = [_only(cassette.interactions, interaction)]
        return cassette
    if fmt in BODY_FORMATS:
        reader, named = BODY_FORMATS[fmt]
        recording = from_body(reader(raw), named, upstream, done)
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
    request = _anthropic_request(interactions)
    if request is not None:
        meta.setdefault("request", request)
    return Cassette(interactions=interactions, metadata=Metadata(**meta))


def _anthropic_request(interactions: list[Interaction]) -> dict | None:
    """A recording of Anthropic Messages traffic holds the client's own request: kept as ``metadata.request``."""
    for item in interactions:
        if item.response.quirktape.dialect == "anthropic" and item.request.body:
            try:
                body = json.loads(item.request.body)
            except ValueError:
                continue
            if isinstance(body, dict) and isinstance(body.get("messages"), list):
                return body
    return None


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
