"""Anthropic stream events -> the ``Message`` a non-streaming call would return.

One pure fold, the shape of the Anthropic SDK's ``accumulate_event`` (its beta variant, the
superset), so "stream equals non-stream" is a single equality check and our message is the
one an SDK client ends up holding. Tool input is parsed when its block stops, or at
``message_delta`` for a block ``max_tokens`` left open, the way the SDK's partial reader
leaves it. A block of a type we do not know (``compaction``, ``fallback``, …) is kept as it
started; only deltas the SDK knows change a block, and the grammar reports any other.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from .jsontext import loads_partial

# What the SDK takes from ``message_delta``: these usage counts are cumulative and replace the
# ``message_start`` value when given; other usage keys keep the ``message_start`` value.
_DELTA_USAGE = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "server_tool_use",
    "output_tokens_details",
    "iterations",
    "fallback_credit",
)
# Message fields a ``message_delta`` event may carry beside its delta, replacing the value when given.
_EVENT_FIELDS = ("context_management", "input_transformations")


def accumulate_event(message: dict | None, event: dict, buffers: dict[int, list[str]]) -> dict | None:
    """Fold one event into ``message`` (``None`` before ``message_start``)."""
    kind = event.get("type")
    if kind == "message_start":
        return copy.deepcopy(event["message"])
    if message is None:
        return None
    content = message["content"]
    if kind == "content_block_start":
        block = copy.deepcopy(event["content_block"])
        content.append(block)
        if block.get("type") == "fallback":  # the model that actually served the response (fallback_response.sse)
            message["model"] = block["to"]["model"]
    elif kind == "content_block_delta":
        _apply_delta(content[event["index"]], event["index"], event["delta"], buffers)
    elif kind == "content_block_stop":
        _settle(content, event["index"], buffers)
    elif kind == "message_delta":
        _apply_message_delta(message, event, buffers)
    return message


def _apply_delta(block: dict, index: int, delta: dict, buffers: dict[int, list[str]]) -> None:
    """Each delta the way the SDK applies it; tool JSON waits in ``buffers`` until its block is settled."""
    dtype = delta["type"]
    if dtype == "text_delta":
        block["text"] += delta["text"]
    elif dtype == "thinking_delta":
        block["thinking"] += delta["thinking"]
    elif dtype == "signature_delta":
        block["signature"] = delta["signature"]
    elif dtype == "input_json_delta":
        buffers.setdefault(index, []).append(delta["partial_json"])
    elif dtype == "citations_delta":
        block.setdefault("citations", []).append(delta["citation"])
    elif dtype == "compaction_delta":  # the summary replaces the block's nulls (compaction_response.sse)
        block["content"] = delta.get("content")
        block["encrypted_content"] = delta.get("encrypted_content")


def _apply_message_delta(message: dict, event: dict, buffers: dict[int, list[str]]) -> None:
    """Stop reason, sequence and details as the delta says (``None`` when absent); the rest only when given."""
    delta = event.get("delta", {})
    message["stop_reason"] = delta.get("stop_reason")
    message["stop_sequence"] = delta.get("stop_sequence")
    message["stop_details"] = delta.get("stop_details")
    if delta.get("container") is not None:
        message["container"] = delta["container"]
    for key in _EVENT_FIELDS:
        if event.get(key) is not None:
            message[key] = event[key]
    usage = event.get("usage") or {}
    for key in _DELTA_USAGE:
        if usage.get(key) is not None:
            message["usage"][key] = usage[key]
    for index in list(buffers):  # no block content follows message_delta: a block max_tokens left open is final
        _settle(message["content"], index, buffers)


def _settle(content: list[dict], index: int, buffers: dict[int, list[str]]) -> None:
    parts = buffers.pop(index, None)
    if parts and "".join(parts):
        content[index]["input"] = loads_partial("".join(parts))


def accumulate(events: Iterable[dict], *, text: bool = True) -> dict | None:
    """The final message of a stream (partial if it ended in ``error``).

    ``accumulate_event`` over every event, except that a block's text and thinking deltas are
    kept as a list and joined once at the end: appending each delta to the block's string would
    copy the text so far at every delta, quadratic in the length of a long answer. Nothing in the
    fold reads a block's text before the end, so the message is the same.

    ``text=False``: those deltas are checked as ever but not kept (each block keeps the text it
    started with), for a caller that wants the rest of the message in memory flat in the text's length.
    """
    message: dict | None = None
    buffers: dict[int, list[str]] = {}
    pending: dict[tuple[int, str], tuple[dict, list[str]]] = {}  # (id(block), key) -> (block, its parts)
    for event in events:
        if message is not None and event.get("type") == "content_block_delta":
            delta, index = event.get("delta"), event.get("index")
            key = _TEXT_DELTAS.get(delta.get("type")) if type(delta) is dict else None
            if key is not None:
                content = message["content"]
                block = content[index] if type(index) is int and -len(content) <= index < len(content) else None
                if type(block) is dict and type(block.get(key)) is str and type(delta.get(key)) is str:
                    if text:
                        entry = pending.get((id(block), key))
                        if entry is None:
                            entry = pending[(id(block), key)] = (block, [block[key]])
                        entry[1].append(delta[key])
                    continue
                _flush(pending)  # a delta the fold itself must apply (or fail on) sees the text so far
        # no other event reads or writes a block's text or thinking
        message = accumulate_event(message, event, buffers)
    _flush(pending)
    if message is not None:
        for index in list(buffers):
            _settle(message["content"], index, buffers)
    return message


_TEXT_DELTAS = {"text_delta": "text", "thinking_delta": "thinking"}


def _flush(pending: dict[tuple[int, str], tuple[dict, list[str]]]) -> None:
    for (_, key), (block, parts) in pending.items():
        block[key] = "".join(parts)
    pending.clear()


def stream_error(events: Iterable[dict]) -> dict | None:
    """The ``error`` object the stream ended with, if any."""
    for event in events:
        if event.get("type") == "error":
            return event.get("error")
    return None


def summary(message: dict | None) -> dict[str, Any]:
    """What must match between two translations of one response: content and stop, ids aside."""
    if message is None:
        return {"content": [], "stop_reason": None}
    text, thinking, tools = [], [], []
    for block in message["content"]:
        kind = block.get("type")
        if kind == "text":
            text.append(block["text"])
        elif kind == "thinking":
            thinking.append(block["thinking"])
        elif kind == "tool_use":
            tools.append({"name": block["name"], "input": block["input"]})
    return {
        "text": "".join(text),
        "thinking": "".join(thinking),
        "tool_use": tools,
        "stop_reason": message.get("stop_reason"),
        "usage": message.get("usage"),
    }


ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""Anthropic error type -> the HTTP status the API answers a non-streaming request with (else 500)."""


def reply_for(events: list[dict]) -> tuple[int, dict]:
    """What a non-streaming Messages endpoint answers for these events: the message, or the error and its status."""
    error = stream_error(events)
    if error is not None:
        return ERROR_STATUS.get(str(error.get("type")), 500), {"type": "error", "error": error}
    return 200, accumulate(events) or {}
