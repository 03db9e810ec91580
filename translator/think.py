"""Inline ``<think>…</think>`` reasoning inside ``content`` (quirk RSN-06).

Off by default: a generic translator cannot know a model's markup. A cassette
or caller turns it on per model with the ``think_tags`` option: ``"tags"`` reads
explicit tags; ``"open"`` starts inside reasoning, for templates that already
emitted the opening tag so only a bare ``</think>`` appears. Tags may be split
across chunks; the longest possible tag prefix is held back until it resolves.
"""

from __future__ import annotations

from .ir import REASONING, TEXT

_OPEN, _CLOSE = "<think>", "</think>"


def _tag_prefix_len(text: str, tag: str) -> int:
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkSplitter:
    __slots__ = ("inside", "held", "absorbed")

    def __init__(self, mode: str) -> None:
        if mode not in ("tags", "open"):
            raise ValueError(f"think_tags must be 'tags' or 'open', not {mode!r}")
        self.inside = mode == "open"
        self.held = ""
        self.absorbed = 0  # tags consumed and text held back: content read that yields no fact yet

    def split(self, text: str) -> list[tuple]:
        out: list[tuple] = []
        text = self.held + text
        self.held = ""
        while text:
            tag = _CLOSE if self.inside else _OPEN
            kind = REASONING if self.inside else TEXT
            at = text.find(tag)
            if at >= 0:
                if at:
                    out.append((kind, text[:at]))
                text = text[at + len(tag) :]
                self.inside = not self.inside
                self.absorbed += 1
                continue
            keep = _tag_prefix_len(text, tag)
            if len(text) > keep:
                out.append((kind, text[: len(text) - keep]))
            self.held = text[len(text) - keep :]
            self.absorbed += keep > 0
            break
        return out

    def flush(self) -> list[tuple]:
        held, self.held = self.held, ""
        return [(REASONING if self.inside else TEXT, held)] if held else []
