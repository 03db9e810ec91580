"""Anthropic Messages request -> OpenAI Responses API request body (``POST /v1/responses``).

Used to record and serve Responses upstreams from an Anthropic client's request. The
conversation goes stateless, the way Codex CLI talks to the API: ``store: false``, no item
ids, and the whole history in ``input`` each turn (system -> ``instructions``; assistant
``tool_use`` -> ``function_call`` items, ``tool_result`` -> ``function_call_output`` items).

Reasoning comes back from the thinking blocks this translator's parser signed
(``responses:<kind>:<id>:<encrypted>``, see ``responses.py``): with its
``encrypted_content`` (OpenAI), as a reasoning item without id (an id with ``store: false``
is answered "Item with id 'rs_…' not found", and an id pairs the item with a following item
id this request does not have); with the full reasoning text and no encrypted content
(vLLM/gpt-oss, whose schema wants the id but which keeps nothing), with its id and its text. A summary
without encrypted content cannot go back and is left out, as is reasoning from other upstreams.
Responses has no stop sequences: ``stop_sequences`` is not sent.
"""

from __future__ import annotations

import json

from .content import blocks, text_of, user_turn
from .responses import decode_signature

TOOL_CHOICE = {"auto": "auto", "any": "required", "none": "none"}
ENCRYPTED = "reasoning.encrypted_content"


def _effort(budget: int) -> str:
    """A heuristic: Anthropic thinking budgets to Responses reasoning effort (as ``to_openai_request``)."""
    return "low" if budget < 4096 else "medium" if budget < 16384 else "high"


def _image(block: dict) -> dict | None:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        url = f"data:{source.get('media_type')};base64,{source.get('data', '')}"
        return {"type": "input_image", "image_url": url, "detail": "auto"}
    if source.get("type") == "url":
        return {"type": "input_image", "image_url": source.get("url", ""), "detail": "auto"}
    return None


def _user(content: list[dict]) -> list[dict]:
    """Tool results become ``function_call_output`` items, placed before the turn's other content."""
    return user_turn(
        content,
        lambda call_id, text: {"type": "function_call_output", "call_id": call_id, "output": text},
        "input_text",
        _image,
    )


def reasoning_item(block: dict) -> dict | None:
    """The reasoning item a thinking block signed by ``responses.py`` stands for, or None."""
    decoded = decode_signature(block.get("signature") or "")
    if decoded is None:
        return None
    kind, item_id, encrypted = decoded
    text = block.get("thinking") or ""
    if encrypted:
        item: dict = {"type": "reasoning", "summary": [], "encrypted_content": encrypted}
        if text and kind == "summary":
            item["summary"] = [{"type": "summary_text", "text": text}]
        elif text:
            item["content"] = [{"type": "reasoning_text", "text": text}]
        return item
    if kind == "text" and text:
        item = {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": text}]}
        return {"id": item_id, **item} if item_id else item
    return None


def _assistant(content: list[dict]) -> list[dict]:
    """One item per block, in order: reasoning, the text between (one message per run), function calls."""
    out: list[dict] = []
    text: list[str] = []

    def flush() -> None:
        if "".join(text):
            out.append({"role": "assistant", "content": "".join(text)})
        text.clear()

    for block in content:
        kind = block.get("type")
        if kind == "text":
            text.append(block.get("text", ""))
            continue
        if kind == "thinking":
            item = reasoning_item(block)
            if item is not None:
                flush()
                out.append(item)
        elif kind == "tool_use":
            flush()
            out.append(
                {
                    "type": "function_call",
                    "call_id": block.get("id", ""),
                    "name": block.get("name", ""),
                    "arguments": json.dumps(block.get("input") or {}),
                }
            )
    flush()
    return out


def _tool(tool: dict) -> dict | None:
    """A client tool as a function tool; Anthropic's web search server tool as the built-in ``web_search``
    (its results come back as ``url_citation`` annotations, RSP-20); other server tools have no equivalent."""
    kind = tool.get("type")
    if kind in (None, "custom"):
        return {
            "type": "function",
            "name": tool["name"],
            "description": tool.get("description", ""),
            "parameters": tool.get("input_schema", {}),
            "strict": False,
        }
    if isinstance(kind, str) and kind.startswith("web_search_"):
        search: dict = {"type": "web_search"}
        if tool.get("allowed_domains"):
            search["filters"] = {"allowed_domains": tool["allowed_domains"]}
        if isinstance(tool.get("user_location"), dict):
            search["user_location"] = tool["user_location"]  # the same approximate-location object
        return search
    return None


def to_responses_request(request: dict, *, stream: bool | None = None) -> dict:
    """The Responses API body for an Anthropic Messages request."""
    body: dict = {"model": request.get("model", "")}
    system = text_of(request.get("system"))
    if system:
        body["instructions"] = system
    items: list[dict] = []
    for message in request.get("messages", []):
        content = blocks(message.get("content"))
        items.extend(_assistant(content) if message.get("role") == "assistant" else _user(content))
    body["input"] = items
    if "max_tokens" in request:
        body["max_output_tokens"] = request["max_tokens"]
    for name in ("temperature", "top_p"):
        if request.get(name) is not None:
            body[name] = request[name]
    user = (request.get("metadata") or {}).get("user_id")
    if user:
        body["user"] = user
    tools = [_tool(t) for t in request.get("tools") or []]
    if any(tools):
        body["tools"] = [t for t in tools if t]
    choice = request.get("tool_choice")
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "tool":
            body["tool_choice"] = {"type": "function", "name": choice.get("name", "")}
        elif kind in TOOL_CHOICE:
            body["tool_choice"] = TOOL_CHOICE[kind]
        if choice.get("disable_parallel_tool_use"):
            body["parallel_tool_calls"] = False
    thinking = request.get("thinking") or {}
    if thinking.get("type") in ("enabled", "adaptive"):
        budget = int(thinking.get("budget_tokens") or 0)
        effort = _effort(budget) if thinking.get("type") == "enabled" else "medium"
        body["reasoning"] = {"effort": effort, "summary": "auto"}
        body["include"] = [ENCRYPTED]  # the reasoning can then go back next turn, statelessly
    body["store"] = False
    body["stream"] = bool(request.get("stream", False) if stream is None else stream)
    return body
