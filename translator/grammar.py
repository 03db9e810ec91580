"""The Anthropic stream grammar, checked: the rules clients crash on (quirks.md part A).

Returns a list of violations (empty when the stream is valid), each naming the
event position, so a failure says exactly which event broke which rule.
"""

from __future__ import annotations

import json

from .ir import STOP_REASONS
from .jsontext import JsonPrefix

_DELTA_FOR_BLOCK = {
    "text": {"text_delta", "citations_delta"},
    "thinking": {"thinking_delta", "signature_delta"},
    "tool_use": {"input_json_delta"},
    "server_tool_use": {"input_json_delta"},
}


def violations(events: list[dict]) -> list[str]:  # noqa: C901 - a flat list of rules reads best
    errs: list[str] = []
    started = stopped = errored = delta_seen = False
    open_index: int | None = None
    open_type = ""
    next_index = 0
    json_parts: list[str] = []
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
            if open_index is not None:
                errs.append(f"{where}: block {open_index} still open")
            errored = True
            continue
        if kind == "message_start":
            if started:
                errs.append(f"{where}: second message_start")
            msg = event.get("message") or {}
            if not msg.get("id") or not msg.get("model"):
                errs.append(f"{where}: message.id and message.model must be non-empty")
            usage = msg.get("usage") or {}
            if not isinstance(usage.get("input_tokens"), int) or not isinstance(usage.get("output_tokens"), int):
                errs.append(f"{where}: message.usage needs numeric input_tokens and output_tokens")
            started = True
            continue
        if not started:
            errs.append(f"{where}: before message_start")
            continue
        if kind == "content_block_start":
            if open_index is not None:
                errs.append(f"{where}: block {open_index} is still open")
            if delta_seen:
                errs.append(f"{where}: content after message_delta")
            index = event.get("index")
            if index != next_index:
                errs.append(f"{where}: index {index}, expected {next_index}")
            block = event.get("content_block") or {}
            open_type = block.get("type", "")
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
                errs.append(f"{where}: empty text block")
            if open_type == "tool_use":
                args = "".join(json_parts)
                if args.strip():
                    try:
                        value = json.loads(args)
                    except ValueError:
                        value = None if not _valid_prefix(args) else {}
                    if not isinstance(value, dict):
                        errs.append(f"{where}: tool input is not a JSON object: {args[:80]!r}")
            open_index = None
        elif kind == "message_delta":
            if open_index is not None:
                errs.append(f"{where}: block {open_index} still open")
            reason = (event.get("delta") or {}).get("stop_reason")
            if reason not in STOP_REASONS:
                errs.append(f"{where}: stop_reason {reason!r} is not an Anthropic stop reason")
            if not isinstance((event.get("usage") or {}).get("output_tokens"), int):
                errs.append(f"{where}: usage.output_tokens must be a number")
            delta_seen = True
        elif kind == "message_stop":
            if not delta_seen:
                errs.append(f"{where}: message_stop without message_delta")
            stopped = True
        else:
            errs.append(f"{where}: unknown event type")
    if not (stopped or errored):
        errs.append("stream ends with neither message_stop nor error")
    return errs


def _valid_prefix(text: str) -> bool:
    return JsonPrefix().feed(text)
