"""Incremental reading of a streamed JSON array (``[{…}\\r\\n,\\r\\n{…}]``).

Gemini's ``streamGenerateContent`` without ``alt=sse`` sends one JSON array whose
elements arrive in arbitrary pieces (quirk SSE-10). Elements are cut out by
bracket depth, respecting strings, looking at each character once.
"""

from __future__ import annotations

import codecs
import re

ARRAY_END = "quirktape.array-end"
"""Event name the decoder reports when the closing ``]`` arrived: the response is complete."""
ARRAY_CUT = "quirktape.array-cut"
"""Event name reported at EOF when the array never closed: the stream was cut."""

_IN_STRING = re.compile(r'[^"\\]+')
_OUTSIDE = re.compile(r'[^"{}\[\]]+')


class JsonArrayDecoder:
    """Bytes in, ``(None, element_json)`` tuples out (the same shape as ``SSEDecoder``)."""

    __slots__ = ("_utf8", "_parts", "_depth", "_in_string", "_escape", "_started", "_ended")

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._parts: list[str] = []
        self._depth = 0
        self._in_string = False
        self._escape = False
        self._started = False
        self._ended = False

    def feed(self, data: bytes) -> list[tuple[str | None, str]]:
        return self._text(self._utf8.decode(data))

    def close(self) -> list[tuple[str | None, str]]:
        out = self._text(self._utf8.decode(b"", True))
        if self._started and not self._ended:  # an unfinished element is not delivered, and says so
            out.append((ARRAY_CUT, ""))
        return out

    def _text(self, text: str) -> list[tuple[str | None, str]]:  # noqa: C901 - one flat scanner
        out: list[tuple[str | None, str]] = []
        i, n = 0, len(text)
        while i < n and not self._ended:
            if self._depth == 0:
                c = text[i]
                i += 1
                if c == "[" and not self._started:
                    self._started = True
                elif c == "]" and self._started:
                    self._ended = True
                    out.append((ARRAY_END, ""))
                elif c in "{[" and self._started:
                    self._depth, self._parts = 1, [c]
                # whitespace and commas between elements are skipped
                continue
            start = i
            while i < n and self._depth:
                if self._in_string:
                    if self._escape:  # the character after a backslash, whatever it is
                        self._escape = False
                        i += 1
                        continue
                    m = _IN_STRING.match(text, i)
                    if m:
                        i = m.end()
                        continue
                    c = text[i]
                    i += 1
                    if c == "\\":
                        self._escape = True
                    else:
                        self._in_string = False
                    continue
                m = _OUTSIDE.match(text, i)
                if m:
                    i = m.end()
                    continue
                c = text[i]
                i += 1
                if c == '"':
                    self._in_string = True
                elif c in "{[":
                    self._depth += 1
                else:
                    self._depth -= 1
            self._parts.append(text[start:i])
            if not self._depth:
                out.append((None, "".join(self._parts)))
                self._parts = []
        return out
