"""Which wire dialect a URL, a payload or a body speaks — decided, never assumed.

There is no default dialect: a body read as the wrong one translates into an empty
message that looks like success. ``import``, ``proxy``, ``record`` and the cassette
loader ask here, and where neither the URL nor the payloads tell, the caller must
ask the user (``--upstream``). Formats that are recognised but are not translator
inputs (the Anthropic target format, other APIs) get a name too, so the refusal can
say what the input was.
"""

from __future__ import annotations

import json
import re
from typing import Any

FOREIGN = {
    "anthropic": "Anthropic Messages (the target format, not a translator input)",
    "openai-responses": "OpenAI Responses API events (not a supported upstream dialect yet)",
    "cohere": "Cohere v2 chat events (not a supported upstream dialect)",
}
"""Recognised formats that quirktape does not translate, with the reason a refusal gives."""

_URL_RULES = (
    (re.compile(r":(?:stream)?generatecontent$"), "gemini"),
    (re.compile(r"/chat/completions$"), "openai"),
    (re.compile(r"/api/chat$"), "ollama"),
    (re.compile(r"/messages$"), "anthropic"),
    (re.compile(r"/responses$"), "openai-responses"),
    (re.compile(r"/v2/chat$"), "cohere"),
)

_ANTHROPIC_EVENTS = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    }
)
_COHERE_EVENTS = frozenset(
    {
        "message-start",
        "content-start",
        "content-delta",
        "content-end",
        "tool-plan-delta",
        "tool-call-start",
        "tool-call-delta",
        "tool-call-end",
        "citation-start",
        "citation-end",
        "message-end",
    }
)
_GEMINI_KEYS = frozenset({"candidates", "promptFeedback", "usageMetadata", "prompt_feedback", "usage_metadata"})


def url_dialect(path: str) -> str | None:
    """The dialect an endpoint path names (case-insensitive; query and trailing slash ignored)."""
    path = path.split("?", 1)[0].rstrip("/").lower()
    for rule, dialect in _URL_RULES:
        if rule.search(path):
            return dialect
    return None


def payload_dialect(obj: Any) -> str | None:
    """The dialect one parsed payload (or a complete response) is in, if it is an LLM payload at all."""
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    if isinstance(kind, str):
        if kind in _ANTHROPIC_EVENTS or (kind == "message" and isinstance(obj.get("content"), list)):
            return "anthropic"
        if kind.startswith("response."):
            return "openai-responses"
        if kind in _COHERE_EVENTS:
            return "cohere"
    if obj.get("object") == "response" and "output" in obj:
        return "openai-responses"
    if _GEMINI_KEYS & obj.keys():
        return "gemini"
    if "choices" in obj or str(obj.get("object", "")).startswith("chat.completion"):
        return "openai"
    if "done" in obj and ("message" in obj or "created_at" in obj):
        return "ollama"
    return None


def is_snake_gemini(obj: Any) -> bool:
    """A Gemini payload as the google SDK serialises it (``usage_metadata``, ``finish_reason``…), not as the wire."""
    if not isinstance(obj, dict):
        return False
    if {"usage_metadata", "prompt_feedback", "model_version", "response_id"} & obj.keys():
        return True
    candidates = obj.get("candidates")
    first = candidates[0] if isinstance(candidates, list) and candidates else None
    return isinstance(first, dict) and bool({"finish_reason", "safety_ratings", "citation_metadata"} & first.keys())


_EVENT_NAME = re.compile(r"^event: ?([^\r\n]+)", re.M)
_DATA = re.compile(r"^data: ?([^\r\n]*)", re.M)


def sse_payloads(text: str, limit: int = 50) -> list[Any]:
    """The first ``limit`` ``data:`` payloads of an SSE text that parse as JSON."""
    found = []
    for match in _DATA.finditer(text):
        try:
            found.append(json.loads(match.group(1)))
        except (ValueError, RecursionError):
            continue
        if len(found) >= limit:
            break
    return found


def body_dialect(text: str) -> str | None:
    """The dialect a body speaks, read off the body: SSE (event names, then payloads), NDJSON, JSON."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head:
        return None
    if head[0] in "{[":
        try:
            return _first_known(json.loads(head))
        except (ValueError, RecursionError):
            pass
        lines = [line for line in head.splitlines() if line.strip()][:50]
        parsed = []
        for line in lines:
            try:
                parsed.append(json.loads(line.strip().rstrip(",").lstrip("[")))
            except (ValueError, RecursionError):
                continue
        return _first_known(parsed)
    names = {m.group(1).strip() for m in _EVENT_NAME.finditer(head[:200_000])}
    if names & _ANTHROPIC_EVENTS:
        return "anthropic"
    if any(name.startswith("response.") for name in names):
        return "openai-responses"
    if names & _COHERE_EVENTS:
        return "cohere"
    return _first_known(sse_payloads(head))


def _first_known(payloads: Any) -> str | None:
    """The first dialect any payload tells (an error or a metadata-only payload tells none)."""
    if isinstance(payloads, dict):
        payloads = [payloads]
    if not isinstance(payloads, list):
        return None
    for payload in payloads[:50]:
        found = payload_dialect(payload)
        if found:
            return found
    return None
