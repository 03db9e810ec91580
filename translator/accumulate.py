"""Anthropic stream events -> the ``Message`` a non-streaming call would return.

One pure fold, the shape of the Anthropic SDK's ``accumulate_event``, so
"stream equals non-stream" is a single equality check. Tool input is parsed
when its block stops, the way the SDK's partial reader leaves it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from .jsontext import loads_partial


def accumulate_event(message: dict | None, event: dict, buffers: dict[int, list[str]]) -> dict | None:
    """Fold one event into ``message`` (``None`` before ``message_start``)."""
    kind = event.get("type")
    if kind == "message_start":
        return copy.deepcopy(event["message"])
    if message is None:
        return None
    content = message["content"]
    if kind == "content_block_start":
        content.append(copy.deepcopy(event["content_block"]))
    elif kind == "content_block_delta":
        block = content[event["index"]]
        delta = event["delta"]
        dtype = delta["type"]
        if dtype == "text_delta":
            block["text"] += delta["text"]
        elif dtype == "thinking_delta":
            block["thinking"] += delta["thinking"]
        elif dtype == "signature_delta":
            block["signature"] = delta["signature"]
        elif dtype == "input_json_delta":
            buffers.setdefault(event["index"], []).append(delta["partial_json"])
        elif dtype == "citations_delta":
            block.setdefault("citations", []).append(delta["citation"])
    elif kind == "content_block_stop":
        _settle(content, event["index"], buffers)
    elif kind == "message_delta":
        delta = event.get("delta", {})
        message["stop_reason"] = delta.get("stop_reason")
        message["stop_sequence"] = delta.get("stop_sequence")
        usage = event.get("usage") or {}
        for key, value in usage.items():
            if value is not None:
                message["usage"][key] = value
    return message


def _settle(content: list[dict], index: int, buffers: dict[int, list[str]]) -> None:
    parts = buffers.pop(index, None)
    if parts and "".join(parts):
        content[index]["input"] = loads_partial("".join(parts))


def accumulate(events: Iterable[dict]) -> dict | None:
    """The final message of a stream (partial if it ended in ``error``)."""
    message: dict | None = None
    buffers: dict[int, list[str]] = {}
    for event in events:
        message = accumulate_event(message, event, buffers)
    if message is not None:
        for index in list(buffers):
            _settle(message["content"], index, buffers)
    return message


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
