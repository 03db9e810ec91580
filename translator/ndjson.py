"""Incremental newline-delimited JSON (Ollama's native ``application/x-ndjson`` streams)."""

from __future__ import annotations

import codecs


class NDJSONDecoder:
    """Bytes in, ``(None, line)`` tuples out (the shape of ``SSEDecoder``'s events)."""

    __slots__ = ("_utf8", "_partial")

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial: list[str] = []

    def feed(self, data: bytes) -> list[tuple[str | None, str]]:
        return self._text(self._utf8.decode(data))

    def close(self) -> list[tuple[str | None, str]]:
        out = self._text(self._utf8.decode(b"", True))
        last = "".join(self._partial).strip()
        self._partial = []
        return [*out, (None, last)] if last else out

    def _text(self, text: str) -> list[tuple[str | None, str]]:
        *lines, rest = text.split("\n")
        out = []
        for line in lines:
            if self._partial:
                self._partial.append(line)
                line = "".join(self._partial)
                self._partial = []
            if line.strip():
                out.append((None, line.strip()))
        if rest:
            self._partial.append(rest)
        return out
