"""The framing decoders and JSON-prefix readers as they were before the speed work, kept verbatim as the
reference the fast versions are property-tested against (``test_fast_paths.py``)."""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

# Line ends per the event-stream spec. Never str.splitlines(): it also splits on
# U+2028, U+0085 and friends, which appear raw inside upstream JSON.
_EOL = re.compile(r"\r\n|\r|\n")

SSEEvent = tuple[str | None, str]
"""(event name or None, data): the decoded unit the dialect parsers read."""


class OldSSEDecoder:
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


# --- translator/jsontext.py (JsonPrefix, loads_partial) before the speed work ---

_STRING_RUN = re.compile(r'[^"\\\x00-\x1f]+')
_NUMBER_RUN = re.compile(r"[0-9eE+\-.]+")
# every prefix of a JSON number, and the complete ones
_NUMBER_PREFIX = re.compile(r"-?(?:0|[1-9][0-9]*)?(?:(?<=[0-9])\.[0-9]*)?(?:(?<=[0-9])[eE][+-]?[0-9]*)?")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WS = " \t\n\r"
_HEX = frozenset("0123456789abcdefABCDEF")
_LITERALS = {"t": "true", "f": "false", "n": "null"}
_HIGH_FIRST, _HIGH_LAST = "\ud800", "\udbff"

# scanner states
_VALUE, _VALUE_OR_CLOSE, _KEY, _KEY_OR_CLOSE, _COLON, _AFTER = range(6)
_STR, _ESC, _UNI, _NUM, _LIT = range(6, 11)


class OldJsonPrefix:
    """Tracks whether the text fed so far is a prefix of one JSON object."""

    __slots__ = ("stack", "state", "is_key", "lit", "lit_pos", "uni", "hex", "high", "ok", "started", "num", "overflow")

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.state = _VALUE
        self.is_key = False
        self.lit = ""
        self.lit_pos = 0
        self.uni = 0
        self.hex = ""  # the hex digits of the \u escape being read
        self.high = ""  # a high surrogate (escaped or raw) that its low half may still follow
        self.ok = True
        self.started = False
        self.num = ""
        self.overflow = -1  # where a second value began after a complete object

    @property
    def unsettled(self) -> str:
        """The end of the text fed so far that is not a whole character yet: a high surrogate
        whose low half may come next, and an unfinished escape."""
        st = self.state
        if st == _ESC:
            return self.high + "\\"
        if st == _UNI:
            return self.high + "\\u" + self.hex
        return self.high

    @property
    def complete(self) -> bool:
        """A whole top-level object has been read (only whitespace may follow)."""
        return self.ok and self.started and self.state == _AFTER and not self.stack

    def feed(self, text: str) -> bool:
        """Advance over ``text``; on failure the state before ``text`` is kept."""
        if not self.ok:
            return False
        saved = (
            self.stack[:],
            self.state,
            self.is_key,
            self.lit,
            self.lit_pos,
            self.uni,
            self.hex,
            self.high,
            self.started,
            self.num,
        )
        if self._scan(text):
            return True
        if self.overflow >= 0:
            return False  # the object is complete; text[: overflow] belonged to it
        (
            self.stack,
            self.state,
            self.is_key,
            self.lit,
            self.lit_pos,
            self.uni,
            self.hex,
            self.high,
            self.started,
            self.num,
        ) = saved
        self.ok = False
        return False

    def _scan(self, s: str) -> bool:  # noqa: C901 - one flat state machine reads best
        i, n = 0, len(s)
        stack = self.stack
        while i < n:
            st = self.state
            if st == _STR:
                m = _STRING_RUN.match(s, i)
                if m:
                    i = m.end()
                    last = s[i - 1]
                    if _HIGH_FIRST <= last <= _HIGH_LAST:
                        self.high = last
                    elif self.high:
                        self.high = ""
                    continue
                c = s[i]
                i += 1
                if c == '"':
                    self.state = _COLON if self.is_key else _AFTER
                    self.high = ""
                elif c == "\\":
                    self.state = _ESC
                else:
                    return False  # a raw control character: the SDK's parser rejects it
                continue
            if st == _ESC:
                c = s[i]
                i += 1
                if c == "u":
                    self.state, self.uni, self.hex = _UNI, 4, ""
                elif c in '"\\/bfnrt':
                    self.state = _STR
                    if self.high:
                        self.high = ""
                else:
                    return False
                continue
            if st == _UNI:
                c = s[i]
                if c not in _HEX:
                    return False
                i += 1
                self.uni -= 1
                self.hex += c
                if not self.uni:
                    self.state = _STR
                    self.high = "\\u" + self.hex if 0xD800 <= int(self.hex, 16) <= 0xDBFF else ""
                continue
            if st == _NUM:
                m = _NUMBER_RUN.match(s, i)
                if m:
                    self.num += m.group()
                    if _NUMBER_PREFIX.fullmatch(self.num) is None:
                        return False
                    i = m.end()
                    continue
                if _NUMBER.fullmatch(self.num) is None:
                    return False
                self.state = _AFTER
                continue
            if st == _LIT:
                if s[i] != self.lit[self.lit_pos]:
                    return False
                i += 1
                self.lit_pos += 1
                if self.lit_pos == len(self.lit):
                    self.state = _AFTER
                continue
            c = s[i]
            i += 1
            if c in _WS:
                continue
            if st == _VALUE or st == _VALUE_OR_CLOSE:
                if not self.started:
                    if c != "{":
                        return False
                    self.started = True
                if c == "{":
                    stack.append("{")
                    self.state = _KEY_OR_CLOSE
                elif c == "[":
                    stack.append("[")
                    self.state = _VALUE_OR_CLOSE
                elif c == '"':
                    self.state, self.is_key = _STR, False
                elif c in "-0123456789":
                    self.state, self.num = _NUM, c
                elif c in _LITERALS:
                    self.state, self.lit, self.lit_pos = _LIT, _LITERALS[c], 1
                elif c == "]" and st == _VALUE_OR_CLOSE:
                    stack.pop()
                    self.state = _AFTER
                else:
                    return False
            elif st == _KEY or st == _KEY_OR_CLOSE:
                if c == '"':
                    self.state, self.is_key = _STR, True
                elif c == "}" and st == _KEY_OR_CLOSE:
                    stack.pop()
                    self.state = _AFTER
                else:
                    return False
            elif st == _COLON:
                if c != ":":
                    return False
                self.state = _VALUE
            else:  # _AFTER
                if not stack:
                    self.overflow = i - 1
                    return False
                top = stack[-1]
                if c == ",":
                    self.state = _KEY if top == "{" else _VALUE
                elif (c == "}" and top == "{") or (c == "]" and top == "["):
                    stack.pop()
                    self.state = _AFTER
                else:
                    return False
        return True

    def repair_suffix(self, unparsed: str) -> str:
        """Text that closes the settled prefix as a valid object keeping ``unparsed``.

        The settled prefix is the text accepted so far without ``unsettled``: a
        character cut short never arrived whole, and completing its escape would
        invent one (``"\\ud8`` closed as ``"\\ud800"`` is a lone surrogate the SDK
        rejects). Used when a fragment broke the JSON after earlier fragments were
        already forwarded: the client gets a valid object, and the text that could
        not be parsed is kept under ``_unparsed_arguments`` instead of being dropped;
        and when the stream was cut mid-JSON, with nothing unparsed.
        """
        out = []
        st = self.state
        stack = list(self.stack)
        if not self.started:
            return json.dumps({"_unparsed_arguments": unparsed}, ensure_ascii=False)
        if st in (_STR, _ESC, _UNI):
            out.append('"')
            out.append(":null" if self.is_key else "")
        elif st == _NUM:
            if _NUMBER.fullmatch(self.num) is None:
                out.append("0")  # "1." / "1e" / "-" become numbers without changing their digits
        elif st == _LIT:
            out.append(self.lit[self.lit_pos :])
        elif st == _COLON:
            out.append(":null")
        elif st == _VALUE:
            out.append("null")
        elif st == _KEY:
            if len(stack) == 1 and unparsed.strip():  # right after a top-level comma: the key goes here
                return '"_unparsed_arguments":' + json.dumps(unparsed, ensure_ascii=False) + "}"
            out.append('"":null')
        # _VALUE_OR_CLOSE / _KEY_OR_CLOSE / _AFTER / _NUM need nothing more
        while len(stack) > 1:
            out.append("}" if stack.pop() == "{" else "]")
        if unparsed.strip():
            empty_object = st == _KEY_OR_CLOSE and len(self.stack) == 1
            out.append("" if empty_object else ",")
            out.append('"_unparsed_arguments":' + json.dumps(unparsed, ensure_ascii=False))
        if stack:
            out.append("}")
        return "".join(out)


def old_loads_partial(text: str) -> Any:
    """Parse ``text`` like the Anthropic SDK's partial JSON reader.

    Complete JSON parses as usual. A truncated prefix keeps every member that was
    read whole and drops an unfinished trailing key, string or literal (so a
    string cut inside an escape or between surrogate halves goes with its member,
    as in the SDK); an unfinished number is kept as read so far. A lone surrogate
    is read as Python reads it, where the SDK raises: the emitter never sends one
    (``mend_surrogates``), and the oracle reports another translator's.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    scanner = OldJsonPrefix()
    cut, closers = 0, ""
    before_number = (0, "")
    for pos, ch in enumerate(text):
        before = scanner.state
        if not scanner.feed(ch):
            break
        st = scanner.state
        if st == _NUM:
            if before != _NUM:
                before_number = (cut, closers)
            # a number that is not complete yet (e.g. "1." or "1e") is dropped with its member
            cut, closers = (pos + 1, _closers(scanner.stack)) if _NUMBER.fullmatch(scanner.num) else before_number
        elif st in (_AFTER, _KEY_OR_CLOSE, _VALUE_OR_CLOSE):
            cut, closers = pos + 1, _closers(scanner.stack)
    candidate = text[:cut].rstrip()
    if candidate.endswith(","):
        candidate = candidate[:-1]
    try:
        return json.loads(candidate + closers) if candidate else {}
    except ValueError:
        return {}


def _closers(stack: list[str]) -> str:
    return "".join("}" if c == "{" else "]" for c in reversed(stack))
