"""Judging Anthropic output someone already captured from a gateway, against the cassette it came from.

The gateway's stream is the translation under test: its events are compared with what the
cassette's upstream said (conservation, errors, expect) and checked against the API's grammar.
It cannot be re-cut, so rechunk does not apply; ``gauntlet`` re-serves other cuts instead.
"""

from __future__ import annotations

import json
from typing import Any

from translator import SSEDecoder

from ..replay import TranslateFn
from ..tape import CassetteError, body_dialect


def read_output(body: bytes) -> list[dict]:
    """An SSE capture's events as they were sent; a complete message as the events of the same stream."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        try:
            return message_events(json.loads(body))
        except (ValueError, RecursionError):
            raise CassetteError("the captured output is not JSON") from None
    found = body_dialect(body.decode("utf-8", "replace"))
    if found not in (None, "anthropic"):
        raise CassetteError(f"the captured output is not an Anthropic stream: it reads as {found} chunks")
    decoder = SSEDecoder()
    events = []
    for n, (_, data) in enumerate([*decoder.feed(body), *decoder.close()]):
        if not data.strip():
            continue
        try:
            event = json.loads(data)
        except (ValueError, RecursionError):
            raise CassetteError(f"event {n} of the captured output is not JSON: {data[:80]!r}") from None
        if not isinstance(event, dict):
            raise CassetteError(f"event {n} of the captured output is not a JSON object")
        events.append(event)
    if not events:
        raise CassetteError("the captured output holds no Anthropic events")
    return events


def message_events(message: Any) -> list[dict]:
    """A complete message as the events of the one stream that carries exactly it, its own fields kept.

    Not read through quirktape's translator: a wrong ``type``, a missing ``id`` or ``model``, an unknown
    block type or a usage that is not numbers must reach the grammar as the gateway sent them.
    """
    if not isinstance(message, dict):
        raise CassetteError("the captured output is not a JSON object")
    if message.get("type") == "error" or "error" in message:
        return [{"type": "error", "error": message.get("error")}]
    head = {k: v for k, v in message.items() if k not in ("content", "stop_reason", "stop_sequence", "stop_details")}
    events: list[dict] = [
        {"type": "message_start", "message": {**head, "content": [], "stop_reason": None, "stop_sequence": None}}
    ]
    content = message.get("content")
    for index, block in enumerate(content if isinstance(content, list) else []):
        start, deltas = _block_events(block)
        events += [
            {"type": "content_block_start", "index": index, "content_block": start},
            *({"type": "content_block_delta", "index": index, "delta": d} for d in deltas),
            {"type": "content_block_stop", "index": index},
        ]
    stop = {k: message.get(k) for k in ("stop_reason", "stop_sequence")}
    if "stop_details" in message:
        stop["stop_details"] = message["stop_details"]
    return [*events, {"type": "message_delta", "delta": stop, "usage": message.get("usage")}, {"type": "message_stop"}]


def _block_events(block: Any) -> tuple[Any, list[dict]]:
    """A complete block as its start and the deltas that fill it (other blocks start whole, as the API sends them)."""
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":
        deltas = [{"type": "text_delta", "text": block["text"]}] if block.get("text") else []
        deltas += [{"type": "citations_delta", "citation": c} for c in block.get("citations") or []]
        return {"type": "text", "text": ""}, deltas
    if kind == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": block.get("thinking") or ""}]
        return {"type": "thinking", "thinking": "", "signature": ""}, [
            *deltas,
            {"type": "signature_delta", "signature": block.get("signature") or ""},
        ]
    if kind == "tool_use":
        start = {**block, "input": {}}
        return start, [{"type": "input_json_delta", "partial_json": json.dumps(block.get("input"))}]
    return block, []


def captured(events: list[dict] | dict[bytes, list[dict]]) -> TranslateFn:
    """A translator under test that answers with the captured events.

    Given a mapping, each upstream body (the exact bytes of one recorded response) gets the
    events the gateway answered it with, so one judgement covers a stream and its twin.
    """

    def translate(pieces: Any, dialect: str, **kwargs: Any) -> tuple[list[dict], None]:
        if isinstance(events, dict):
            return list(events.get(b"".join(pieces), [])), None
        return list(events), None

    translate.rechunkable = False  # type: ignore[attr-defined]
    return translate
