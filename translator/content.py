"""Reading an Anthropic request's content, shared by the request translators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def blocks(content: Any) -> list[dict]:
    """Message content as blocks: a plain string is one text block."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def text_of(content: Any) -> str:
    """The text blocks of some content, joined."""
    return "".join(b.get("text", "") for b in blocks(content) if b.get("type") == "text")


def user_turn(
    content: list[dict],
    tool_result: Callable[[str, str], dict],
    text_part: str,
    image: Callable[[dict], dict | None],
) -> list[dict]:
    """A user turn for an OpenAI-style API: tool results first, each as ``tool_result(call id, text)``
    (an error prefixed ``Error:``), then the rest as one user message, a plain string when it is only
    text. The APIs differ only in those shapes: the text part's ``type`` and how an image is sent."""
    out: list[dict] = []
    parts: list[dict] = []
    for block in content:
        kind = block.get("type")
        if kind == "tool_result":
            text = text_of(block.get("content"))
            out.append(tool_result(block.get("tool_use_id", ""), ("Error: " + text) if block.get("is_error") else text))
        elif kind == "text":
            parts.append({"type": text_part, "text": block.get("text", "")})
        elif kind == "image":
            converted = image(block)
            if converted:
                parts.append(converted)
    if parts:
        only_text = all(p["type"] == text_part for p in parts)
        out.append({"role": "user", "content": "".join(p["text"] for p in parts) if only_text else parts})
    return out
