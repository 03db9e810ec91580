"""Incremental Server-Sent Events decoding and Anthropic SSE encoding.

The decoder follows the WHATWG event-stream rules (CRLF, LF and CR line ends,
comment lines, ``data:`` with or without one space, multi-line data, ``event:``)
and accepts bytes in arbitrary pieces: a line end, an event or a UTF-8 character
may be split across reads. Each byte is looked at once; nothing is rescanned.
Two upstream deviations are kept rather than dropped: llama.cpp's non-standard
``error:`` field becomes an ``error`` event, and a final event without its
blank line is still delivered at EOF.
"""

from __future__ import annotations

import codecs
import json
import re

# Line ends per the event-stream spec. Never str.splitlines(): it also splits on
# U+2028, U+0085 and friends, which appear raw inside upstream JSON.
_EOL = re.compile(r"\r\n|\r|\n")

SSEEvent = tuple[str | None, str]
"""(event name or None, data): the decoded unit the dialect parsers read."""


class SSEDecoder:
    """Bytes in, ``(event, data)`` tuples out."""

    __slots__ = ("_utf8", "_partial", "_skip_lf", "_data", "_event", "_fresh")

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial: list[str] = []
        self._skip_lf = False
        self._data: list[str] = []
        self._event: str | None = None
        self._fresh = True

    def feed(self, data: bytes) -> list[SSEEvent]:
        return self._text(self._utf8.decode(data))

    def close(self) -> list[SSEEvent]:
        """Flush at EOF: a last line or event without its terminator still counts."""
        out = self._text(self._utf8.decode(b"", True))
        if self._partial:
            self._line("".join(self._partial), out)
            self._partial = []
        self._dispatch(out)
        return out

    def _text(self, text: str) -> list[SSEEvent]:
        out: list[SSEEvent] = []
        if not text:
            return out
        if self._fresh:  # a byte-order mark at the very start is not part of the first line
            self._fresh = False
            if text[0] == "\ufeff":
                text = text[1:]
                if not text:
                    return out
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return out
        pos = 0
        for m in _EOL.finditer(text):
            line = text[pos : m.start()]
            if self._partial:
                self._partial.append(line)
                line = "".join(self._partial)
                self._partial = []
            self._line(line, out)
            pos = m.end()
        if pos < len(text):
            self._partial.append(text[pos:])
        elif text[-1] == "\r":
            self._skip_lf = True
        return out

    def _line(self, line: str, out: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(out)
            return
        if line[0] == ":":
            return
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "error":
            self._event = "error"
            self._data.append(value)

    def _dispatch(self, out: list[SSEEvent]) -> None:
        if self._data:
            out.append((self._event, "\n".join(self._data)))
            self._data = []
        self._event = None


def encode_sse(event: dict) -> bytes:
    """One Anthropic event as the SSE frame the API sends (``event:`` + ``data:``)."""
    try:
        data = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:  # a lone surrogate from upstream: keep it as a JSON escape
        data = json.dumps(event, separators=(",", ":")).encode()
    return b"event: %s\ndata: %s\n\n" % (event["type"].encode(), data)
