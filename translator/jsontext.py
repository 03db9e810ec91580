"""Incremental JSON text checks for tool arguments.

Tool arguments arrive as text fragments. A fragment may only be forwarded as an
``input_json_delta`` while the running text is still a prefix of a JSON object:
the Anthropic SDKs re-parse the growing buffer after every delta and raise on
anything else. ``JsonPrefix`` answers that question in one pass over each
fragment (never rescanning), and ``loads_partial`` reads a truncated object the
way the SDK's partial parser does, so our accumulator agrees with it.

Python's ``json`` is more lenient than the SDK's parser (jiter) about UTF-16
surrogates: ``"\\ud800"`` loads in Python, and the SDK raises on the whole stream.
So a character is only sent whole. The end of the text that may still become a
character (an unfinished escape, a high surrogate whose low half may follow) is
``JsonPrefix.unsettled`` and waits; if the stream is cut there, that character
never arrived and is dropped (``repair_suffix``). A surrogate that did arrive
without its other half is replaced with U+FFFD (``mend_surrogates``): the
upstream sent something in that place, so the place is kept.
"""

from __future__ import annotations

import json
import re
from typing import Any

try:  # a faster JSON parser with the same results where it succeeds (pydantic's core, always installed with it)
    from pydantic_core import from_json as _from_json
except ImportError:  # pragma: no cover - the standard library alone gives the same values
    _from_json = None

_STRING_RUN = re.compile(r'[^"\\\x00-\x1f]+')
_NUMBER_RUN = re.compile(r"[0-9eE+\-.]+")
# A JSON number read one character at a time: (state, character class) -> next state. Every state is
# a prefix of a number; the complete ones are ``_NUMBER_DONE``. Reading a long number fed in pieces
# looks at each character once (a regex over the number so far would rescan it at every piece).
_N_MINUS, _N_ZERO, _N_INT, _N_DOT, _N_FRAC, _N_E, _N_ESIGN, _N_EXP = range(8)
_NUMBER_STEP = {
    (_N_MINUS, "0"): _N_ZERO,
    (_N_MINUS, "1"): _N_INT,
    (_N_ZERO, "."): _N_DOT,
    (_N_ZERO, "e"): _N_E,
    (_N_INT, "0"): _N_INT,
    (_N_INT, "1"): _N_INT,
    (_N_INT, "."): _N_DOT,
    (_N_INT, "e"): _N_E,
    (_N_DOT, "0"): _N_FRAC,
    (_N_DOT, "1"): _N_FRAC,
    (_N_FRAC, "0"): _N_FRAC,
    (_N_FRAC, "1"): _N_FRAC,
    (_N_FRAC, "e"): _N_E,
    (_N_E, "+"): _N_ESIGN,
    (_N_E, "0"): _N_EXP,
    (_N_E, "1"): _N_EXP,
    (_N_ESIGN, "0"): _N_EXP,
    (_N_ESIGN, "1"): _N_EXP,
    (_N_EXP, "0"): _N_EXP,
    (_N_EXP, "1"): _N_EXP,
}
_NUMBER_CLASS = {**{d: "1" for d in "123456789"}, "0": "0", ".": ".", "e": "e", "E": "e", "+": "+", "-": "+"}
_NUMBER_FIRST = {"-": _N_MINUS, "0": _N_ZERO, **{d: _N_INT for d in "123456789"}}
_NUMBER_DONE = frozenset({_N_ZERO, _N_INT, _N_FRAC, _N_EXP})
_WS = " \t\n\r"
_HEX = frozenset("0123456789abcdefABCDEF")
_LITERALS = {"t": "true", "f": "false", "n": "null"}
_HIGH_FIRST, _HIGH_LAST = "\ud800", "\udbff"

# Where a lone surrogate may be: an escaped or raw surrogate, the only thing ``mend_surrogates`` changes.
_SURROGATE_HINT = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_SURROGATES = re.compile(
    r"(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # kept: an escaped pair,
    r"|\\u(?![dD][89a-fA-F])|\\[^u])"  # any other escape (so the u after an escaped backslash is text)
    r"|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"  # an escaped lone half
    r"|([\ud800-\udbff][\udc00-\udfff])"  # a raw pair: the payload's own decoding split the character
    r"|[\ud800-\udfff]"  # a raw lone half
)

# scanner states
_VALUE, _VALUE_OR_CLOSE, _KEY, _KEY_OR_CLOSE, _COLON, _AFTER = range(6)
_STR, _ESC, _UNI, _NUM, _LIT = range(6, 11)


class JsonPrefix:
    """Tracks whether the text fed so far is a prefix of one JSON object."""

    __slots__ = (
        "stack",
        "state",
        "is_key",
        "lit",
        "lit_pos",
        "uni",
        "hex",
        "high",
        "ok",
        "started",
        "num",
        "overflow",
        "_low",
        "_popped",
    )

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
        self.num = _N_ZERO  # where the number being read is (``_NUMBER_STEP``)
        self.overflow = -1  # where a second value began after a complete object
        # undo journal of one feed: the lowest stack depth it reached, and the entries it popped below
        # where it began (restoring them on failure costs what the feed changed, not the whole stack)
        self._low = 0
        self._popped: list[str] = []

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
        self._low = len(self.stack)
        self._popped = []
        saved = (
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
        del self.stack[self._low :]
        self.stack.extend(reversed(self._popped))
        (
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
                    num = self.num
                    for c in m.group():
                        num = _NUMBER_STEP.get((num, _NUMBER_CLASS[c]))
                        if num is None:
                            return False
                    self.num = num
                    i = m.end()
                    continue
                if self.num not in _NUMBER_DONE:
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
                elif c in _NUMBER_FIRST:
                    self.state, self.num = _NUM, _NUMBER_FIRST[c]
                elif c in _LITERALS:
                    self.state, self.lit, self.lit_pos = _LIT, _LITERALS[c], 1
                elif c == "]" and st == _VALUE_OR_CLOSE:
                    self._pop()
                    self.state = _AFTER
                else:
                    return False
            elif st == _KEY or st == _KEY_OR_CLOSE:
                if c == '"':
                    self.state, self.is_key = _STR, True
                elif c == "}" and st == _KEY_OR_CLOSE:
                    self._pop()
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
                    self._pop()
                    self.state = _AFTER
                else:
                    return False
        return True

    def _pop(self) -> None:
        stack = self.stack
        top = stack.pop()
        if len(stack) < self._low:  # an entry the feed found there: journalled, so a failed feed puts it back
            self._low = len(stack)
            self._popped.append(top)

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
            if self.num not in _NUMBER_DONE:
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


def loads(text: str) -> Any:
    """``json.loads(text)``, faster: pydantic_core's parser first, the standard library where it declines.

    The two agree on every text pydantic_core parses (numbers, escapes, duplicate keys, ``NaN``
    and ``Infinity``); what it refuses and Python accepts (a lone surrogate, nesting deeper than
    its limit, more digits than it reads) goes to ``json.loads``, so the value, and the error for
    text that is not JSON, are ``json.loads``'s.
    """
    if _from_json is not None:
        try:
            return _from_json(text, cache_strings=False)
        except (ValueError, TypeError):
            pass
    return json.loads(text)


def mend_surrogates(text: str) -> str:
    """JSON text in which every surrogate is half of a pair, so a strict parser accepts it.

    A lone surrogate, escaped (``\\udc00``) or raw (a code point the payload's
    own JSON decoding produced), becomes U+FFFD in the same form: the upstream
    sent something there that is not a character, and the replacement keeps its
    place. A raw pair (a character whose halves came in two payloads) is joined.
    ``text`` must not begin or end inside an escape (``JsonPrefix.unsettled``).
    """
    if (text.isascii() and "\\u" not in text) or _SURROGATE_HINT.search(text) is None:
        return text
    return _SURROGATES.sub(_mend, text)


def _mend(match: re.Match) -> str:
    kept, pair = match.group(1, 2)
    if kept:
        return kept
    if pair:
        return pair.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    return "\\ufffd" if match.group().startswith("\\") else "\ufffd"


def loads_partial(text: str) -> Any:
    """Parse ``text`` like the Anthropic SDK's partial JSON reader.

    Complete JSON parses as usual. A truncated prefix keeps every member that was
    read whole and drops an unfinished trailing key, string or literal (so a
    string cut inside an escape or between surrogate halves goes with its member,
    as in the SDK); an unfinished number is kept as read so far. A lone surrogate
    is read as Python reads it, where the SDK raises: the emitter never sends one
    (``mend_surrogates``), and the oracle reports another translator's. Text nested
    too deeply to read gives ``{}``, as any text that is no object's prefix does.

    A text that ``JsonPrefix`` accepts in one pass (it is an object's prefix) is read by
    pydantic_core's partial parser, which reads a truncated object the same way; what
    it declines (a lone surrogate, nesting past its limit, more digits than it reads)
    and text that is not an object's prefix (which pydantic_core reads more leniently)
    are read by ``JsonPrefix`` one character at a time, keeping the last whole value.
    """
    try:
        return loads(text)
    except (ValueError, RecursionError):
        pass
    if _from_json is not None and JsonPrefix().feed(text):  # one pass: the text is an object's prefix
        try:
            value = _from_json(text, allow_partial=True, allow_inf_nan=False, cache_strings=False)
        except (ValueError, TypeError):
            value = None
        if type(value) is dict:
            return value
    return _scan_partial(text)


def _scan_partial(text: str) -> Any:
    """``loads_partial`` by ``JsonPrefix``: the last place where the text so far was a whole value, closed."""
    scanner = JsonPrefix()
    cut = before_number = 0
    for pos, ch in enumerate(text):
        before = scanner.state
        if not scanner.feed(ch):
            break
        st = scanner.state
        if st == _NUM:
            if before != _NUM:
                before_number = cut
            # a number that is not complete yet (e.g. "1." or "1e") is dropped with its member
            cut = pos + 1 if scanner.num in _NUMBER_DONE else before_number
        elif st in (_AFTER, _KEY_OR_CLOSE, _VALUE_OR_CLOSE):
            cut = pos + 1
    # Past the last cut nothing opened or closed (an opening or a closing is itself a cut), so the
    # containers open at the cut are the ones open now.
    closers = _closers(scanner.stack)
    candidate = text[:cut].rstrip()
    if candidate.endswith(","):
        candidate = candidate[:-1]
    try:
        return json.loads(candidate + closers) if candidate else {}
    except (ValueError, RecursionError):
        return {}


def _closers(stack: list[str]) -> str:
    return "".join("}" if c == "{" else "]" for c in reversed(stack))


def normalize_arguments(source: Any) -> dict:
    """The tool ``input`` object for arguments that could not be streamed as an object.

    Upstreams send arguments as objects (a snapshot), as JSON-encoded strings of
    objects (double encoding), as ``""``/``null`` for no arguments, or as text that
    is not JSON at all. The result is always an object, and nothing is dropped:
    a value that is not an object is kept under ``value``, unparseable text under
    ``_unparsed_arguments``. A lone surrogate in a string becomes U+FFFD, as in
    ``mend_surrogates``, so the input is the one the emitter streams.
    """
    value = _arguments(source)
    text = json.dumps(value)
    return json.loads(mend_surrogates(text)) if _SURROGATE_HINT.search(text) else value


def _arguments(source: Any) -> dict:
    """``normalize_arguments`` before the surrogates are mended."""
    if isinstance(source, str):
        if not source.strip():
            return {}
        try:
            source = json.loads(source)
        except ValueError:
            return {"_unparsed_arguments": source}
        if isinstance(source, str):
            if not source.strip():
                return {}
            try:
                inner = json.loads(source)
            except ValueError:
                return {"value": source}
            if isinstance(inner, dict):
                return inner
    if source is None:
        return {}
    if isinstance(source, dict):
        return source
    return {"value": source}
