"""Anthropic Messages request -> OpenAI chat.completions request body (wire-formats D7).

Used to record and serve OpenAI-compatible upstreams from an Anthropic client's
request. Reasoning the client sends back (thinking blocks) goes on the assistant
message only when asked for, under the field that upstream reads
(``reasoning_content`` for DeepSeek/SGLang, ``reasoning`` for vLLM >= 0.16).
"""

from __future__ import annotations

import json

from .content import blocks, text_of, user_turn
from .gemini import decode_signature

TOOL_CHOICE = {"auto": "auto", "any": "required", "none": "none"}


def _image_url(block: dict) -> dict | None:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        return {
            "type": "image_url",
            "image_url": {"url": f"data:{source.get('media_type')};base64,{source.get('data', '')}"},
        }
    if source.get("type") == "url":
        return {"type": "image_url", "image_url": {"url": source.get("url", "")}}
    return None


def _effort(budget: int) -> str:
    """A heuristic: Anthropic thinking budgets to OpenAI reasoning effort."""
    return "low" if budget < 4096 else "medium" if budget < 16384 else "high"


def _user(content: list[dict]) -> list[dict]:
    """Tool results become ``tool`` messages, placed before the turn's other content."""
    return user_turn(
        content, lambda call_id, text: {"role": "tool", "tool_call_id": call_id, "content": text}, "text", _image_url
    )


def _assistant(blocks: list[dict], reasoning_field: str | None) -> dict:
    message: dict = {
        "role": "assistant",
        "content": "".join(b.get("text", "") for b in blocks if b.get("type") == "text") or None,
    }
    reasoning = "".join(b.get("thinking", "") for b in blocks if b.get("type") == "thinking")
    if reasoning and reasoning_field:
        message[reasoning_field] = reasoning
    calls = []
    signature = None
    for block in blocks:
        if block.get("type") == "thinking":
            decoded = decode_signature(block.get("signature") or "")
            signature = decoded[1] if decoded and decoded[0] == "call" else signature
        elif block.get("type") == "tool_use":
            call: dict = {
                "id": block.get("id", ""),
                "type": "function",
                "function": {"name": block.get("name", ""), "arguments": json.dumps(block.get("input") or {})},
            }
            if signature:  # Gemini's OpenAI-compatible layer wants it back here (GEM-15)
                call["extra_content"] = {"google": {"thought_signature": signature}}
                signature = None
            calls.append(call)
    if calls:
        message["tool_calls"] = calls
    return message


def to_openai_request(request: dict, *, stream: bool | None = None, reasoning_field: str | None = None) -> dict:
    """The chat.completions body for an Anthropic Messages request."""
    body: dict = {"model": request.get("model", "")}
    messages: list[dict] = []
    if request.get("system"):
        messages.append({"role": "system", "content": text_of(request["system"])})
    for message in request.get("messages", []):
        content = blocks(message.get("content"))
        if message.get("role") == "assistant":
            messages.append(_assistant(content, reasoning_field))
        else:
            messages.extend(_user(content))
    body["messages"] = messages
    if "max_tokens" in request:
        body["max_tokens"] = request["max_tokens"]
    for ours, theirs in (("stop_sequences", "stop"), ("temperature", "temperature"), ("top_p", "top_p")):
        if request.get(ours) is not None:
            body[theirs] = request[ours]
    user = (request.get("metadata") or {}).get("user_id")
    if user:
        body["user"] = user
    tools = [t for t in request.get("tools") or [] if t.get("type") in (None, "custom")]
    if tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "parameters": t.get("input_schema", {}),
                },
            }
            for t in tools
        ]
    choice = request.get("tool_choice")
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "tool":
            body["tool_choice"] = {"type": "function", "function": {"name": choice.get("name", "")}}
        elif kind in TOOL_CHOICE:
            body["tool_choice"] = TOOL_CHOICE[kind]
        if choice.get("disable_parallel_tool_use"):
            body["parallel_tool_calls"] = False
    thinking = request.get("thinking") or {}
    if thinking.get("type") == "enabled":
        body["reasoning_effort"] = _effort(int(thinking.get("budget_tokens") or 0))
    elif thinking.get("type") == "adaptive":
        body["reasoning_effort"] = "medium"
    wants_stream = request.get("stream", False) if stream is None else stream
    body["stream"] = bool(wants_stream)
    if wants_stream:
        body["stream_options"] = {"include_usage": True}
    return body
