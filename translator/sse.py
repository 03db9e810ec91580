"""Incremental Server-Sent Events decoding and Anthropic SSE encoding.

The decoder follows the WHATWG event-stream rules (CRLF, LF and CR line ends,
comment lines, ``data:`` with or without one space, multi-line data, ``event:``)
and accepts bytes in arbitrary pieces: a line end, an event or a UTF-8 character
may be split across reads. Each byte is looked at once; nothing is rescanned (an
unfinished line waits as a list of pieces, joined once its end arrives).
Two upstream deviations are kept rather than dropped: llama.cpp's non-standard
``error:`` field becomes an ``error`` event, and a final event without its
blank line is still delivered at EOF.
"""

from __future__ import annotations

import json
import re

# Line ends per the event-stream spec, found in the bytes (a CR or LF byte is never part of a UTF-8
# multi-byte character). Never str.splitlines(): it also splits on U+2028, U+0085 and friends,
# which appear raw inside upstream JSON.
_EOL = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"

SSEEvent = tuple[str | None, str]
"""(event name or None, data): the decoded unit the dialect parsers read."""


class SSEDecoder:
    """Bytes in, ``(event, data)`` tuples out.

    Lines are cut in the bytes and only a field's value is decoded (UTF-8, invalid bytes replaced),
    so a character split across reads waits in the unfinished line like any other byte; the result
    is the one a decoder of the whole body would give.
    """

    __slots__ = ("_partial", "_skip_lf", "_data", "_event", "_fresh")

    def __init__(self) -> None:
        self._partial: list[bytes] = []
        self._skip_lf = False
        self._data: list[bytes] = []
        self._event: str | None = None
        self._fresh = True

    def feed(self, data: bytes) -> list[SSEEvent]:
        out: list[SSEEvent] = []
        if not data:
            return out
        if self._skip_lf:
            self._skip_lf = False
            if data[:1] == b"\n":
                data = data[1:]
                if not data:
                    return out
        if b"\n" not in data and b"\r" not in data:  # no line ends here (a byte at a time, often): the line grows
            self._partial.append(data)
            return out
        if b"\r" in data:
            lines = _EOL.split(data)
            if data[-1:] == b"\r":  # a CR ends this read: an LF opening the next one belongs to it
                self._skip_lf = True
        else:
            lines = data.split(b"\n")
        rest = lines.pop()
        if lines:
            partial = self._partial
            if partial:
                partial.append(lines[0])
                lines[0] = b"".join(partial)
                self._partial = []
            if self._fresh:
                self._fresh = False
                if lines[0][:3] == _BOM:  # a byte-order mark at the very start is not part of the first line
                    lines[0] = lines[0][3:]
            chunk = self._data
            for line in lines:
                if line[:5] == b"data:":  # the common line, inline
                    chunk.append(line[6:] if line[5:6] == b" " else line[5:])
                elif line:
                    self._line(line)
                elif chunk:
                    out.append((self._event, b"\n".join(chunk).decode("utf-8", "replace")))
                    chunk.clear()
                    self._event = None
                else:
                    self._event = None
        if rest:
            self._partial.append(rest)
        return out

    def close(self) -> list[SSEEvent]:
        """Flush at EOF: a last line or event without its terminator still counts."""
        if self._partial:
            line = b"".join(self._partial)
            self._partial = []
            if self._fresh and line[:3] == _BOM:
                line = line[3:]
            self._fresh = False
            out = self.feed(line + b"\n") if line else []
        else:
            out = []
        self._skip_lf = False
        if self._data:
            out.append((self._event, b"\n".join(self._data).decode("utf-8", "replace")))
            self._data.clear()
        self._event = None
        return out

    def _line(self, line: bytes) -> None:
        if line[:1] == b":":
            return
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"error":
            self._event = "error"
            self._data.append(value)


_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ascii = json.JSONEncoder(separators=(",", ":")).encode

try:  # serialises a delta's strings to the bytes json.dumps gives, several times faster
    from pydantic_core import to_json as _to_json
except ImportError:  # pragma: no cover
    _to_json = None


def encode_sse(event: dict) -> bytes:
    """One Anthropic event as the SSE frame the API sends (``event:`` + ``data:``)."""
    data = None
    if _to_json is not None and event.get("type") == "content_block_delta" and len(event) == 3:
        # the frame of nearly every event: strings and an index only, where the two encoders agree byte for byte
        delta, index = event.get("delta"), event.get("index")
        if type(index) is int and type(delta) is dict and all(type(v) is str for v in delta.values()):
            try:
                data = _to_json(event)
            except ValueError:  # a lone surrogate: json.dumps below keeps it as an escape
                data = None
    if data is None:
        try:
            data = _compact(event).encode()
        except UnicodeEncodeError:  # a lone surrogate from upstream: keep it as a JSON escape
            data = _ascii(event).encode()
    return b"event: %s\ndata: %s\n\n" % (event["type"].encode(), data)
