"""The Anthropic stream grammar, checked: the rules clients crash on (quirks.md part A).

Returns a list of violations (empty when the stream is valid), each naming the
event position, so a failure says exactly which event broke which rule.

The reference is the stream as the real API sends it and the official SDK accepts it:
the API's own recordings in ``../shared/peers/anthropic-sdk-python`` (each relaxation
below names the recording that proves the API sends it).
"""

from __future__ import annotations

import json
import re

from .ir import STOP_REASONS
from .jsontext import JsonPrefix

_BLOCK_TYPE = re.compile(
    r"text|thinking|redacted_thinking|tool_use|container_upload|compaction|fallback|[a-z_]+_tool_(?:use|result)"
)
"""The content block types the API sends (anthropic SDK 2.14's blocks, beta ones included: every server tool is a
``*_tool_use`` / ``*_tool_result`` pair)."""

_DELTA_FOR_BLOCK = {
    "text": {"text_delta", "citations_delta"},
    "thinking": {"thinking_delta", "signature_delta"},
    "tool_use": {"input_json_delta"},
    "server_tool_use": {"input_json_delta"},
    # compaction_response.sse: the summary arrives as one compaction_delta in a compaction block
    "compaction": {"compaction_delta"},
}

# incomplete_partial_json_response.sse: when max_tokens cuts a tool call, the API sends
# message_delta while the tool_use block is still open and never stops that block.
_OPEN_AT_MESSAGE_DELTA = {("tool_use", "max_tokens")}

# refusal_response.sse: a refused message carries a text block that was started and stopped
# without any text_delta; every other stop reason keeps the no-empty-text-block rule.
_EMPTY_TEXT_STOP_REASONS = {"refusal"}


def violations(events: list[dict]) -> list[str]:  # noqa: C901 - a flat list of rules reads best
    errs: list[str] = []
    started = stopped = errored = delta_seen = text_seen = False
    open_index: int | None = None
    open_type = ""
    next_index = 0
    json_parts: list[str] = []
    empty_texts: list[str] = []  # judged at message_delta, once the stop reason is known
    for pos, event in enumerate(events):
        kind = event.get("type")
        where = f"event {pos} ({kind})"
        if stopped or errored:
            errs.append(f"{where}: after the stream already ended")
            continue
        if kind == "ping":
            continue
        if kind == "error":
            err = event.get("error") or {}
            if not err.get("type") or not isinstance(err.get("message"), str):
                errs.append(f"{where}: error needs error.type and error.message")
            if open_index is not None and not delta_seen:
                errs.append(f"{where}: block {open_index} still open")
            errored = True
            continue
        if kind == "message_start":
            if started:
                errs.append(f"{where}: second message_start")
            msg = event.get("message") or {}
            if not msg.get("id") or not msg.get("model"):
                errs.append(f"{where}: message.id and message.model must be non-empty")
            if msg.get("type") != "message" or msg.get("role") != "assistant":
                errs.append(f"{where}: message.type must be 'message' and message.role 'assistant'")
            usage = msg.get("usage") if isinstance(msg.get("usage"), dict) else {}
            if not isinstance(usage.get("input_tokens"), int) or not isinstance(usage.get("output_tokens"), int):
                errs.append(f"{where}: message.usage needs numeric input_tokens and output_tokens")
            started = True
            continue
        if not started:
            errs.append(f"{where}: before message_start")
            continue
        if kind in ("content_block_start", "content_block_delta", "content_block_stop") and delta_seen:
            errs.append(f"{where}: content after message_delta")
            continue
        if kind == "content_block_start":
            if open_index is not None:
                errs.append(f"{where}: block {open_index} is still open")
            index = event.get("index")
            if index != next_index:
                errs.append(f"{where}: index {index}, expected {next_index}")
            block = event.get("content_block") or {}
            open_type = block.get("type", "")
            if not isinstance(open_type, str) or not _BLOCK_TYPE.fullmatch(open_type):
                errs.append(f"{where}: {open_type!r} is not a content block type the API sends")
                open_type = ""
            if open_type == "text" and block.get("text") != "":
                errs.append(f"{where}: text block must start empty")
            if open_type == "tool_use":
                if not block.get("id") or not block.get("name"):
                    errs.append(f"{where}: tool_use needs id and name")
                if block.get("input") != {}:
                    errs.append(f"{where}: tool_use must start with input {{}}")
            open_index = index
            next_index += 1
            json_parts = []
            text_seen = False
        elif kind == "content_block_delta":
            index = event.get("index")
            if index != open_index:
                errs.append(f"{where}: delta for block {index}, open block is {open_index}")
                continue
            dtype = (event.get("delta") or {}).get("type")
            if dtype not in _DELTA_FOR_BLOCK.get(open_type, set()):
                errs.append(f"{where}: {dtype} inside a {open_type} block")
            if dtype == "input_json_delta":
                json_parts.append(event["delta"].get("partial_json", ""))
            if dtype == "text_delta" and event["delta"].get("text"):
                text_seen = True
        elif kind == "content_block_stop":
            if event.get("index") != open_index:
                errs.append(f"{where}: stop for block {event.get('index')}, open block is {open_index}")
            if open_type == "text" and not text_seen:
                empty_texts.append(f"{where}: empty text block")
            if open_type == "tool_use":
                errs += _tool_input_problems(where, "".join(json_parts))
            open_index = None
        elif kind == "message_delta":
            reason = (event.get("delta") or {}).get("stop_reason")
            if reason not in STOP_REASONS:
                errs.append(f"{where}: stop_reason {reason!r} is not an Anthropic stop reason")
            if open_index is not None:
                if (open_type, reason) not in _OPEN_AT_MESSAGE_DELTA:
                    errs.append(f"{where}: block {open_index} still open")
                else:
                    errs += _tool_input_problems(where, "".join(json_parts))
            if reason not in _EMPTY_TEXT_STOP_REASONS:
                errs += empty_texts
            empty_texts = []
            usage = event.get("usage") if isinstance(event.get("usage"), dict) else {}
            if not isinstance(usage.get("output_tokens"), int):
                errs.append(f"{where}: usage.output_tokens must be a number")
            delta_seen = True
        elif kind == "message_stop":
            if not delta_seen:
                errs.append(f"{where}: message_stop without message_delta")
            stopped = True
        else:
            errs.append(f"{where}: unknown event type")
    errs += empty_texts
    if not (stopped or errored):
        errs.append("stream ends with neither message_stop nor error")
    return errs


def _tool_input_problems(where: str, args: str) -> list[str]:
    """Tool input must read as a JSON object, or as a prefix of one, the way the SDK's partial reader reads it.

    A prefix is enough: a stopped block may hold a call cut by an upstream failure (the stream
    then ends in ``error``), and a block left open by ``max_tokens`` holds what the model wrote
    before it was cut (incomplete_partial_json_response.sse).
    """
    if not args.strip():
        return []
    try:
        value = json.loads(args)
    except ValueError:
        value = {} if _valid_prefix(args) else None
    if isinstance(value, dict):
        return []
    return [f"{where}: tool input is not a JSON object: {args[:80]!r}"]


def _valid_prefix(text: str) -> bool:
    return JsonPrefix().feed(text)
