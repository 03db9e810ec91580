"""Reading an Anthropic request's content, shared by the request translators."""

from __future__ import annotations

from typing import Any


def blocks(content: Any) -> list[dict]:
    """Message content as blocks: a plain string is one text block."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def text_of(content: Any) -> str:
    """The text blocks of some content, joined."""
    return "".join(b.get("text", "") for b in blocks(content) if b.get("type") == "text")
