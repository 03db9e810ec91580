"""Anthropic Messages read into IR facts: the target format as a dialect.

What a gateway sends its Anthropic client, and what Anthropic-compatible endpoints
(DeepSeek, Kimi, GLM, MiniMax, OpenRouter) stream, is read into the same facts as any
upstream, so the oracle can judge it: conservation against the upstream it was
translated from, coverage of every field, the grammar of its re-emission. Streamed
events arrive as named SSE events whose name repeats the payload's ``type``; a
complete response is one ``message`` object.
"""

from __future__ import annotations

from typing import Any

from .coverage import ANY_KEY, KEY, READ, gap, meta
from .ir import (
    CITATION,
    DONE,
    ERROR,
    FINISH,
    META,
    REASONING,
    REDACTED,
    SIGNATURE,
    STOP_REASONS,
    TEXT,
    TOOL,
    USAGE,
    count,
    error_fact,
    not_an_object,
)

USAGE_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def usage_facts(usage: Any) -> list[tuple]:
    """The counts this payload states (Anthropic's usage is already the target shape)."""
    if not isinstance(usage, dict):
        return []
    counts = {key: count(usage.get(key)) for key in USAGE_KEYS}
    counts = {key: value for key, value in counts.items() if value is not None}
    return [(USAGE, counts)] if counts else []


class AnthropicStream:
    """One Anthropic response's parser state: which block each index is."""

    done_sentinel = None  # message_stop ends the stream

    def __init__(self, options: dict | None = None) -> None:
        self.blocks: dict[Any, str] = {}

    def absorbed(self) -> int:
        return 0  # every event yields its facts where it arrives

    def end(self) -> list[tuple]:
        return []

    def payload(self, obj: dict) -> list[tuple]:
        kind = obj.get("type")
        if kind == "message_start":
            message = obj.get("message")
            return self._message_head(message) if isinstance(message, dict) else []
        if kind == "content_block_start":
            block = obj.get("content_block")
            index = obj.get("index")
            if not isinstance(block, dict):
                return []
            self.blocks[index] = str(block.get("type"))
            return _block(index, block)
        if kind == "content_block_delta":
            delta = obj.get("delta")
            return _delta(obj.get("index"), delta) if isinstance(delta, dict) else []
        if kind == "message_delta":
            return self._message_delta(obj)
        if kind == "message_stop":
            return [(DONE,)]
        if kind == "error" or "error" in obj:
            return [error_fact(obj)]
        return []  # ping, content_block_stop: structure, not content

    def response(self, obj: Any) -> list[tuple]:
        """A complete ``message`` as facts, through the same block readers as the stream."""
        if not isinstance(obj, dict):
            return [not_an_object(obj)]
        if obj.get("type") == "error" or "error" in obj:
            return [error_fact(obj)]
        out = self._message_head(obj)
        content = obj.get("content")
        for index, block in enumerate(content if isinstance(content, list) else []):
            if isinstance(block, dict):
                out += _block(index, block)
        out += _finish(obj)
        out.append((DONE,))
        return out

    def _message_head(self, message: dict) -> list[tuple]:
        upstream_id, model = message.get("id"), message.get("model")
        out: list[tuple] = []
        if upstream_id or model:
            out.append(
                (META, upstream_id if isinstance(upstream_id, str) else None, model if isinstance(model, str) else None)
            )
        return out + usage_facts(message.get("usage"))

    def _message_delta(self, obj: dict) -> list[tuple]:
        delta = obj.get("delta")
        out = _finish(delta) if isinstance(delta, dict) else []
        return out + usage_facts(obj.get("usage"))


def _finish(holder: dict) -> list[tuple]:
    reason = holder.get("stop_reason")
    if not isinstance(reason, str) or not reason:
        return []
    if reason not in STOP_REASONS:
        return [(ERROR, "api_error", f"upstream sent stop_reason {reason!r}, which Anthropic does not define")]
    sequence = holder.get("stop_sequence")
    details = holder.get("stop_details")
    return [
        (
            FINISH,
            reason,
            sequence if isinstance(sequence, str) else None,
            details if isinstance(details, dict) else None,
        )
    ]


def _block(index: Any, block: dict) -> list[tuple]:
    """What a block carries when it starts (all of it, in a complete response)."""
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        cited = [(CITATION, c) for c in block.get("citations") or [] if isinstance(c, dict)]
        return ([(TEXT, text)] if isinstance(text, str) and text else []) + cited
    if kind == "thinking":
        out: list[tuple] = []
        if isinstance(block.get("thinking"), str) and block["thinking"]:
            out.append((REASONING, block["thinking"]))
        if isinstance(block.get("signature"), str) and block["signature"]:
            out.append((SIGNATURE, block["signature"]))
        return out
    if kind == "redacted_thinking":
        return [(REDACTED, block["data"])] if isinstance(block.get("data"), str) else []
    if kind == "tool_use":
        name, call_id, given = block.get("name"), block.get("id"), block.get("input")
        snapshot = given if isinstance(given, dict) and given else None
        return [
            (
                TOOL,
                index,
                call_id if isinstance(call_id, str) and call_id else None,
                name if isinstance(name, str) and name else None,
                None,
                snapshot,
            )
        ]
    return []  # server tool blocks and others: declared gaps (coverage reports them)


def _delta(index: Any, delta: dict) -> list[tuple]:
    kind = delta.get("type")
    if kind == "text_delta":
        return [(TEXT, delta["text"])] if isinstance(delta.get("text"), str) and delta["text"] else []
    if kind == "thinking_delta":
        thinking = delta.get("thinking")
        return [(REASONING, thinking)] if isinstance(thinking, str) and thinking else []
    if kind == "signature_delta":
        signature = delta.get("signature")
        return [(SIGNATURE, signature)] if isinstance(signature, str) and signature else []
    if kind == "input_json_delta":
        part = delta.get("partial_json")
        return [(TOOL, index, None, None, part, None)] if isinstance(part, str) and part else []
    if kind == "citations_delta" and isinstance(delta.get("citation"), dict):
        return [(CITATION, delta["citation"])]
    return []


# -- what a payload holds, field by field (coverage) ------------------------------------------------

_USAGE = {
    "input_tokens": READ,
    "output_tokens": READ,
    "cache_creation_input_tokens": READ,
    "cache_read_input_tokens": READ,
    ANY_KEY: meta("service tier, cache breakdown by TTL, server tool counts"),
}

_BLOCK = {
    "type": KEY,
    "text": READ,
    "thinking": READ,
    "signature": READ,
    "data": READ,
    "id": KEY,
    "name": READ,
    "input": READ,
    "caller": meta("who called the tool (direct or code execution)"),
    "citations": READ,
    "content": gap("a server tool's result or a compaction summary"),
    "tool_use_id": gap("the server tool call a result block answers"),
    "encrypted_content": gap("opaque compaction state"),
    "from": meta("fallback: the model the request fell back from"),
    "to": meta("fallback: the model the request fell back to"),
    "trigger": meta("fallback: what made the request fall back"),
}

_DELTA = {
    "type": KEY,
    "text": READ,
    "thinking": READ,
    "signature": READ,
    "partial_json": READ,
    "citation": READ,
    "content": gap("compaction summary text"),
    "encrypted_content": gap("opaque compaction state"),
}

_MESSAGE = {
    "id": KEY,
    "type": meta('"message"'),
    "role": meta('always "assistant"'),
    "model": KEY,
    "content": [_BLOCK],
    "stop_reason": READ,
    "stop_sequence": READ,
    "stop_details": READ,
    "usage": _USAGE,
    "container": meta("the code-execution container the turn used"),
    "context_management": meta("context edits the API applied"),
}

FIELDS = {
    "type": KEY,
    "message": _MESSAGE,
    "index": KEY,
    "content_block": _BLOCK,
    "delta": {**_DELTA, "stop_reason": READ, "stop_sequence": READ, "stop_details": _MESSAGE["stop_details"]},
    "usage": _USAGE,
    "error": READ,
}
"""One streamed event's payload (``message_start``, ``content_block_*``, ``message_delta``, …)."""

RESPONSE_FIELDS = {**_MESSAGE, "error": READ}
"""A complete ``message`` (or an ``error``)."""

EVENTS = {
    "message_start": READ,
    "content_block_start": READ,
    "content_block_delta": READ,
    "content_block_stop": READ,
    "message_delta": READ,
    "message_stop": READ,
    "error": READ,
    "ping": meta("keep-alive"),
}
"""Every Anthropic SSE event is named; these are the ones the API sends."""
