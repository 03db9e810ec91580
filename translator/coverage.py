"""Coverage: every upstream payload, and every content field in it, was read or is declared.

A judge that did not read its input must not say green. Each dialect declares, as
data beside its parser, the shape of the payloads it reads: which fields it consumes
(``READ``), which are metadata (``meta("why")``), which repeat content another field
already carries (``dup("sibling", "why")``), and which carry content the translator
knowingly does not carry yet (``gap("why")``, reported as a warning so it is never
hidden). A field that is none of these and carries a value is *unread*; so is a
payload that carries content yet produced no facts. The walk is off the hot path:
the oracle runs it over a trace of ``(event, payload, facts)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .ir import META

READ = "read"
"""Content the dialect's parser consumes, whatever its shape inside."""

KEY = "key"
"""Read by the parser to place content (ids, indexes, the model), but not content itself."""


@dataclass(frozen=True)
class Declared:
    """A field the parser does not consume, and why that loses nothing (or, for a gap, what it loses)."""

    level: str  # "meta", "dup" or "gap"
    why: str
    sibling: str = ""


def meta(why: str) -> Declared:
    return Declared("meta", why)


def dup(sibling: str, why: str) -> Declared:
    """Metadata only while ``sibling`` is beside it: alone, it would be the only carrier of its content."""
    return Declared("dup", why, sibling)


def gap(why: str) -> Declared:
    return Declared("gap", why)


@dataclass(frozen=True)
class First:
    """An array of which only the first element is translated (``choices``, ``candidates``)."""

    node: Any


@dataclass(frozen=True)
class Shapes:
    """A field whose meaning depends on its JSON type (``content``: a string or a list of parts)."""

    by_type: dict


ANY_KEY = "*"
"""In an object declaration: what every key not listed is (``usage`` breakdowns, vendor blocks)."""


@dataclass(frozen=True)
class Finding:
    path: str
    why: str
    gap: bool = False  # a declared, known gap: a warning, not a failure

    def __str__(self) -> str:
        return f"{self.path}: {self.why}"


def carries(value: Any) -> bool:
    """Whether a value holds anything at all (null, "", [], {} and false hold nothing)."""
    return value not in (None, "", [], {}, False)


def _types(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value), "number")


def walk(value: Any, node: Any, path: str) -> Iterator[Finding]:
    """Findings for ``value`` against the declaration ``node``."""
    if node in (READ, KEY) or (isinstance(node, Declared) and node.level in ("meta", "dup")):
        return
    if isinstance(node, Declared):  # a gap
        if carries(value):
            yield Finding(path, f"not translated: {node.why}", gap=True)
        return
    if isinstance(node, Shapes):
        inner = node.by_type.get(_types(value))
        if inner is not None:
            yield from walk(value, inner, path)
        elif carries(value):
            yield Finding(path, f"a {_types(value)} here is not read")
        return
    if isinstance(node, list) and isinstance(value, dict):  # one object where an array is expected (TC-14)
        yield from walk(value, node[0], path)
        return
    expected = dict if isinstance(node, dict) else list
    if not isinstance(value, expected):
        if carries(value):
            yield Finding(path, f"a {_types(value)} where an {_types(expected())} is read")
        return
    if isinstance(node, dict):
        yield from _object(value, node, path)
    else:
        yield from _array(value, node, path)


def _array(value: list, node: First | list, path: str) -> Iterator[Finding]:
    if isinstance(node, First):
        for n, item in enumerate(value):
            if n == 0:
                yield from walk(item, node.node, f"{path}[0]")
            elif carries(item):
                yield Finding(f"{path}[{n}]", "only the first element is translated")
        return
    for n, item in enumerate(value):
        yield from walk(item, node[0], f"{path}[{n}]")


def _object(value: dict, node: dict, path: str) -> Iterator[Finding]:
    default = node.get(ANY_KEY)
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        inner = node.get(key, default)
        if inner is None:
            if carries(item):
                yield Finding(where, "not read by this dialect")
            continue
        if isinstance(inner, Declared) and inner.level == "dup" and not carries(value.get(inner.sibling)):
            if carries(item):
                yield Finding(where, f"not read, and {inner.sibling!r} is not beside it ({inner.why})")
            continue
        yield from walk(item, inner, where)


def _reads_something(value: Any, node: Any) -> bool:
    """Whether ``value`` holds content in a field its declaration says the parser consumes."""
    if node == READ:
        return carries(value)
    if isinstance(node, Shapes):
        inner = node.by_type.get(_types(value))
        return inner is not None and _reads_something(value, inner)
    if isinstance(node, First):
        return isinstance(value, list) and bool(value) and _reads_something(value[0], node.node)
    if isinstance(node, list):
        items = [value] if isinstance(value, dict) else value if isinstance(value, list) else []
        return any(_reads_something(item, node[0]) for item in items)
    if isinstance(node, dict) and isinstance(value, dict):
        return any(_reads_something(item, node.get(key, node.get(ANY_KEY))) for key, item in value.items())
    return False


def payload_findings(payload: Any, node: Any, facts: list[tuple], held: bool, where: str = "") -> list[Finding]:
    """One payload: its unread fields, and the payload itself when it carries content but yielded nothing.

    ``held``: the parser absorbed content from this payload that yields facts later (see ``Trace``).
    """
    if isinstance(payload, list):  # several payloads in one event
        return [f for n, item in enumerate(payload) for f in payload_findings(item, node, facts, held, f"{where}[{n}]")]
    found = list(walk(payload, node, where))
    if not held and not any(fact[0] != META for fact in facts) and _reads_something(payload, node):
        found.append(Finding(where or "payload", "carries content but the parser produced nothing from it"))
    return found


Trace = list[tuple[str | None, str, list[tuple], int]]
"""``(event name, payload text, facts read from it, the parser's count of content absorbed so far)``.

A parser absorbs content it reads without yielding a fact yet: a ``<think>`` tag, text that
may be the start of one, a Vertex call still streaming its arguments. A payload that
yields no fact but was absorbed was read.
"""

AFTER_END = "quirktape.after-end"
"""The trace's name for a payload after the end-of-stream marker: ignored by policy (FIN-08)."""


def trace_findings(dialect: Any, trace: Trace, whole: bool) -> list[Finding]:
    """Every finding for a translation's trace, each path prefixed with the payload's number."""
    walk = TraceWalk(dialect, whole)
    for entry in trace:
        walk.append(entry)
    return walk.findings


class TraceWalk:
    """``trace_findings`` one payload at a time: a ``Translator``'s trace that keeps no payload.

    Put in place of the translator's trace list (it only ever appends), it judges each payload as
    the framing yields it, so coverage holds the findings, not the body. ``whole`` may be a function,
    asked at each payload: whether the body is being read as a complete response.
    """

    __slots__ = ("dialect", "whole", "findings", "count", "_absorbed")

    def __init__(self, dialect: Any, whole: bool | Callable[[], bool] = False) -> None:
        self.dialect, self.whole = dialect, whole
        self.findings: list[Finding] = []
        self.count = 0  # payloads seen
        self._absorbed = 0

    def __len__(self) -> int:
        return self.count

    def append(self, entry: tuple) -> None:
        event, data, facts, count = entry
        dialect, found = self.dialect, self.findings
        label = f"payload {self.count}"
        self.count += 1
        held, self._absorbed = count != self._absorbed, count
        if event == AFTER_END:
            return
        if event not in (None, "message") and event not in dialect.events:
            if carries(data.strip()):
                found.append(Finding(f"{label} (event: {event})", "a named event this dialect does not read"))
            return
        if event is not None and dialect.events.get(event) != READ and event != "message":
            return  # a declared metadata event
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError):
            return  # not JSON: the translator reported it as an upstream error
        whole = self.whole() if callable(self.whole) else self.whole
        node = dialect.response_fields if whole else dialect.fields
        for finding in payload_findings(payload, node, facts, held):
            found.append(Finding(f"{label} {finding.path}", finding.why, finding.gap))
