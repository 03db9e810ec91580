"""YAML for cassettes and reports, read and written event by event.

Reading builds Python values straight from the parser's events (libyaml's, where PyYAML has it):
no node tree is kept, so a list of a million read offsets costs its values and nothing more.
The values are the ones PyYAML's safe loader gives (same resolver, same constructors), with two
refusals, each a ``YamlRefused`` with a one-line message:

- an alias (``*name``): a cassette never needs one, and nine nested aliases in 1 KB (a "billion
  laughs") become gigabytes the first time anything walks the data (validation, a report, a
  comparison). Anchors alone (``&name``) are harmless and read as usual. Where other tools'
  files are read (``aliases=N``), aliases are followed as PyYAML follows them (one shared object)
  while everything read, each alias counted at its full size, stays within N values;
- a list longer than ``MAX_ITEMS`` entries, refused at the entry that passes the limit, so memory
  stays bounded whatever the file says.

A list named in ``arrays`` (by its last two keys, e.g. ``("quirktape", "offsets")``) is read into an
``array.array`` of that type code while every entry is a number of that kind: a million read offsets
cost 8 MB, not the 36 MB of a list of Python ints. Any other entry turns it back into a list, and
whoever validates the data reports it as usual.

Writing emits events straight from the values (libyaml's emitter where PyYAML has it), byte for
byte as ``yaml.dump(data, sort_keys=False, allow_unicode=False, width=100000)`` with quirktape's two
conventions would: text with a line break as a literal block (``|``) where YAML allows one, and a
list of numbers on one line (``[0, 151, 274]``). Nothing is anchored: an object that appears twice
is written twice. Where the two emitters differ (the ``...`` document-end marker), ``_Tail`` writes
PyYAML's bytes.
"""

from __future__ import annotations

import base64
import io
import os
import re
from array import array
from collections.abc import Callable
from typing import IO, Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode

SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The fastest safe loader PyYAML has here (libyaml's parser when PyYAML was built with it)."""
_SafeDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MAX_ITEMS = 2_000_000
"""Entries one YAML list may hold (a response's read offsets and times are the long ones)."""

_PACK = 4096  # entries read before they move into the array
_KINDS = {"q": frozenset({int}), "d": frozenset({int, float})}  # what each type code takes as it is

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_BINARY = "tag:yaml.org,2002:binary"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


class YamlRefused(ValueError):
    """YAML that is read no further (an alias, a list past ``MAX_ITEMS``); the message is one line."""


def read(
    stream: str | bytes | IO,
    *,
    loader: type = SafeLoader,
    max_items: int | None = None,
    aliases: int = 0,
    arrays: dict[tuple[str, str], str] | None = None,
) -> Any:
    """The single document in ``stream`` (text, UTF-8 bytes, or a file), as the safe loader reads it.

    ``loader`` decides how plain scalars resolve and construct (a ``SafeLoader`` subclass, e.g. one
    that keeps timestamps as text). ``aliases``: 0 refuses any alias; N follows them while the
    values read, aliases counted at their full size, number at most N. ``arrays``: the lists read
    as ``array.array`` (by their last two keys, with the type code: ``"q"`` ints, ``"d"`` floats).
    Raises ``YamlRefused``, or PyYAML's ``YAMLError`` for text that is not YAML, like ``yaml.load``.
    """
    parser = loader(stream)
    try:
        return _Reader(parser, MAX_ITEMS if max_items is None else max_items, aliases, arrays or {}).document()
    finally:
        parser.dispose()


def _packed(packed: array, items: list) -> array | None:
    """``packed`` with ``items`` moved into it, or None with ``items`` holding every entry (one is not a
    number of the array's kind, or does not fit it)."""
    size = len(packed)
    if set(map(type, items)) <= _KINDS[packed.typecode]:
        try:
            packed.extend(items)
            return packed
        except OverflowError:
            del packed[size:]  # what went in before the number that does not fit
    items[:0] = packed.tolist()
    return None


class _Reader:
    __slots__ = ("parser", "get", "max_items", "path", "constructors", "resolve", "bound", "anchors", "count", "arrays")

    def __init__(self, parser: Any, max_items: int, bound: int, arrays: dict[tuple[str, str], str]) -> None:
        self.parser = parser
        self.get: Callable[[], Any] = parser.get_event
        self.max_items = max_items
        self.path: list[Any] = []
        self.constructors = parser.yaml_constructors
        self.resolve = parser.resolve
        self.bound = bound
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.count = 0  # values read so far (with bound > 0: each alias counted at its size)
        self.arrays = arrays

    def document(self) -> Any:
        self.get()  # stream start
        if self.parser.check_event(StreamEndEvent):
            self.get()
            return None
        self.get()  # document start
        value = self.value(self.get())
        self.get()  # document end
        if not self.parser.check_event(StreamEndEvent):
            event = self.get()
            raise yaml.composer.ComposerError(
                "expected a single document in the stream", None, "but found another document", event.start_mark
            )
        return value

    def value(self, event: Any) -> Any:
        kind = type(event)
        if kind is AliasEvent:
            return self.alias(event)
        start = self.count
        self.count += 1
        if kind is ScalarEvent:
            value = self.scalar(event)
        elif kind is MappingStartEvent:
            value = self.mapping(event)
        elif kind is SequenceStartEvent:
            value = self.sequence(event)
        else:
            raise yaml.composer.ComposerError(None, None, f"unexpected {kind.__name__}", event.start_mark)
        if self.bound and event.anchor is not None:  # known once whole: an alias inside its own anchor is undefined
            self.anchors[event.anchor] = (value, self.count - start)
        return value

    def alias(self, event: Any) -> Any:
        line = event.start_mark.line + 1
        if not self.bound:
            raise YamlRefused(
                f"{self.where()}a YAML alias (*{event.anchor}) at line {line}: quirktape reads no aliases "
                "(a cassette never needs one, and nested ones expand without bound)"
            )
        if event.anchor not in self.anchors:
            raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
        value, size = self.anchors[event.anchor]
        self.count += size
        if self.count > self.bound:
            raise YamlRefused(
                f"{self.where()}the YAML alias *{event.anchor} at line {line} expands the document past "
                f"{self.bound:,} values: more than quirktape reads"
            )
        return value

    def where(self) -> str:
        return f"{'.'.join(str(p) for p in self.path)}: " if self.path else ""

    def scalar(self, event: Any) -> Any:
        value, tag = event.value, event.tag
        if tag is None or tag == "!":
            if not event.style and value.isdigit() and value.isascii() and (value[0] != "0" or len(value) == 1):
                return int(value)  # the common plain integer, as the int constructor would read it
            tag = self.resolve(ScalarNode, value, event.implicit)
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        construct = self.constructors.get(tag) or self.constructors[None]
        return construct(self.parser, ScalarNode(tag, value, event.start_mark, event.end_mark, style=event.style))

    def sequence(self, event: Any) -> list | array:
        self._collection_tag(event, _SEQ)
        code = self.arrays.get(tuple(self.path[-2:])) if self.arrays else None
        packed = array(code) if code else None  # the entries read so far, but the last few in ``items``
        items: list[Any] = []
        append, get, limit, path = items.append, self.get, self.max_items, self.path
        path.append(0)
        while True:
            item = get()
            kind = type(item)
            if kind is SequenceEndEvent:
                break
            if packed is not None and len(items) >= _PACK:
                packed = _packed(packed, items)
                if packed is None:  # ``items`` holds them all again
                    limit = self.max_items
                else:
                    limit -= len(items)
                    items.clear()
            if len(items) >= limit:
                path.pop()
                raise YamlRefused(
                    f"{self.where()}a list of more than {self.max_items:,} entries "
                    f"(line {event.start_mark.line + 1}): more than quirktape reads"
                )
            if kind is ScalarEvent and item.tag is None and not item.style and item.anchor is None:
                value = item.value  # a plain scalar (libyaml gives it style "", PyYAML None)
                if value.isdigit() and value.isascii() and (value[0] != "0" or len(value) == 1):
                    append(int(value))
                    self.count += 1
                    continue
            path[-1] = len(items) + (len(packed) if packed is not None else 0)
            append(self.value(item))
        path.pop()
        if packed is not None:
            whole = _packed(packed, items)
            return items if whole is None else whole
        return items

    def mapping(self, event: Any) -> dict:
        self._collection_tag(event, _MAP)
        out: dict[Any, Any] = {}
        merged: list[dict] = []
        get, path = self.get, self.path
        path.append("")
        while True:
            item = get()
            if type(item) is MappingEndEvent:
                break
            if (
                type(item) is ScalarEvent
                and item.tag is None
                and not item.style
                and item.value == "<<"
                and self.resolve(ScalarNode, "<<", _PLAIN) == _MERGE
            ):
                value = self.value(get())
                merged.extend([value] if isinstance(value, dict) else value if isinstance(value, list) else [None])
                continue
            key = self.value(item)
            path[-1] = key
            value = self.value(get())
            try:
                out[key] = value
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", event.start_mark, "found unhashable key", item.start_mark
                ) from None
        path.pop()
        if merged:  # ``<<: {…}`` without aliases: earlier merged keys win, the mapping's own keys win over all
            if not all(isinstance(m, dict) for m in merged):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", event.start_mark, "expected a mapping for merging", None
                )
            base: dict[Any, Any] = {}
            for m in reversed(merged):
                base.update(m)
            base.update(out)
            out = base
        return out

    def _collection_tag(self, event: Any, default: str) -> None:
        if event.tag not in (None, "!", default):
            raise YamlRefused(
                f"{self.where()}a {event.tag} collection at line {event.start_mark.line + 1}: "
                "quirktape reads plain mappings and lists"
            )


# --- writing --------------------------------------------------------------------------------------


DIRECT = 1 << 20
"""Characters from which a text that goes in a literal block is written by quirktape in slices, not
handed to libyaml, which holds two more copies of it while it writes it (the UTF-8 bytes PyYAML makes,
and libyaml's own): a million-chunk body is 60 MB. Same bytes either way."""

_SCAN = 1 << 20


def _literal(text: str) -> bool:
    """Whether an ASCII text goes in a literal block as it is: no character YAML escapes (only printable
    ASCII and line breaks) and no space before a line break. Else the emitter writes it double-quoted."""
    if " \n" in text:
        return False
    return all(text[at : at + _SCAN].replace("\n", "").isprintable() for at in range(0, len(text), _SCAN))


def _direct(text: str) -> int:
    """Where the trailing line breaks of a text to write in slices begin; 0 for a text libyaml writes.

    A text qualifies when it is long, ends with a line break, is one libyaml writes as a literal block,
    and needs no indentation hint (it starts with neither a space nor a line break).
    """
    if len(text) < DIRECT or not text.isascii() or text[0] in " \n" or text[-1] != "\n":
        return 0
    end = len(text)
    while text[end - 1] == "\n":
        end -= 1
    return end if _literal(text) else 0


def write(data: Any, stream: IO[str] | None = None) -> str | None:
    """``data`` as YAML text (returned, or written to ``stream``), never anchored."""
    out = _Tail(stream if stream is not None else io.StringIO())
    dumper = _SafeDumper(out, allow_unicode=False, width=100000, sort_keys=False, default_flow_style=False)
    try:
        emit = dumper.emit
        emit(StreamStartEvent())
        emit(DocumentStartEvent(explicit=False))
        _Writer(dumper, out).value(data)
        emit(DocumentEndEvent(explicit=False))
        emit(StreamEndEvent())
    finally:
        dumper.dispose()
    out.close()
    return out.stream.getvalue() if stream is None else None


class _Tail:
    """A text stream that writes the closing ``...`` document-end marker only where PyYAML's own emitter
    writes it, so both give the same bytes.

    Both write it after a keep-chomped literal block (``|+``) that ends the document: the marker ends
    the block's kept trailing lines. libyaml also writes it when such a block came anywhere earlier, and
    PyYAML then does not: dropped here. A ``|+`` block is the one thing that ends with an empty line, so
    the marker stays exactly when the text before it ends with one. (A cassette ends with a response
    body, often an SSE body kept as ``|+``: there the marker is written.)
    """

    __slots__ = ("stream", "held", "stand_ins", "waiting")

    _KEEP = 6  # "\n...\n" and the character before it
    _SLICE = 1 << 20

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.held = ""
        self.stand_ins: list[tuple[str, str, int]] = []  # (what libyaml writes, the text, its end), in order
        self.waiting = ""  # libyaml's output since the first stand-in was given, until it is written

    def swap(self, stand_in: str, text: str, end: int) -> None:
        """Write ``text[:end]`` where libyaml writes ``stand_in``: a literal block's first line, indented."""
        self.stand_ins.append((stand_in, text, end))

    def write(self, text: str) -> None:
        if self.stand_ins:
            text = self.waiting + text
            while self.stand_ins:
                stand_in, body, end = self.stand_ins[0]
                at = text.find(stand_in)
                if at < 0:
                    self.waiting = text
                    return
                del self.stand_ins[0]
                self._write(text[:at])
                self._lines(body, end, " " * (at - len(text[:at].rstrip(" "))))
                text = text[at + len(stand_in) :]
            self.waiting = ""
        self._write(text)

    def _lines(self, body: str, end: int, indent: str) -> None:
        """``body[:end]`` as a literal block's lines after the first one's indent (empty lines have none)."""
        start = 0
        while start < end:  # slices cut before a line break, so each line's indent is added within one
            cut = body.find("\n", min(start + self._SLICE, end))
            cut = end if cut < 0 or cut > end else cut
            self._write(_INDENTED.sub("\n" + indent, body[start:cut]))
            start = cut

    def _write(self, text: str) -> None:
        text = self.held + text
        self.held = text[-self._KEEP :]
        if len(text) > self._KEEP:
            self.stream.write(text[: -self._KEEP])

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.stand_ins:
            raise RuntimeError("libyaml did not write the stand-in of a long text")
        held, self.held = self.held, ""
        ended = held.endswith("\n...\n") and not held.endswith("\n\n...\n")
        self.stream.write(held[:-4] if ended else held)


_PLAIN = (True, False)  # a value written plain reads back as its own type


_INDENTED = re.compile(r"\n(?=[^\n])")  # a line break before a line that is not empty: indented after it


class _Writer:
    __slots__ = ("dumper", "emit", "resolve", "out")

    def __init__(self, dumper: Any, out: _Tail) -> None:
        self.out = out
        self.dumper = dumper
        self.emit = dumper.emit
        self.resolve = dumper.resolve

    def value(self, data: Any) -> None:
        kind = type(data)
        if kind is str:
            self.text(data)
        elif kind is dict:
            self.emit(MappingStartEvent(None, _MAP, True, flow_style=False))
            for key, value in data.items():
                self.value(key)
                self.value(value)
            self.emit(MappingEndEvent())
        elif kind is list or kind is array:
            numbers = bool(data) and (kind is array or all(type(i) in (int, float) for i in data))
            self.emit(SequenceStartEvent(None, _SEQ, True, flow_style=numbers))
            if numbers:
                self.numbers(data)
            else:
                for item in data:
                    self.value(item)
            self.emit(SequenceEndEvent())
        elif kind is int:
            self.emit(ScalarEvent(None, _INT, _PLAIN, str(data)))
        elif kind is float:
            self.emit(ScalarEvent(None, _FLOAT, _PLAIN, _float(data)))
        elif kind is bool:
            self.emit(ScalarEvent(None, _BOOL, _PLAIN, "true" if data else "false"))
        elif data is None:
            self.emit(ScalarEvent(None, _NULL, _PLAIN, "null"))
        elif kind is bytes:
            self.emit(ScalarEvent(None, _BINARY, (False, False), base64.encodebytes(data).decode("ascii"), style="|"))
        else:  # anything else the safe representer knows (a date, a subclass), else its error
            node = self.dumper.represent_data(data)
            if not isinstance(node, ScalarNode):
                raise yaml.representer.RepresenterError("cannot represent an object", data)
            self.scalar(node.tag, node.value, node.style)

    def text(self, text: str) -> None:
        end = _direct(text)
        if end:  # libyaml writes a stand-in of the same shape (same block hints), the text goes in its place
            stand_in = f"quirktape-{os.urandom(16).hex()}"
            self.out.swap(stand_in, text, end)
            text = stand_in + text[end:]
        self.scalar(_STR, text, "|" if "\n" in text else None)

    def scalar(self, tag: str, value: str, style: str | None) -> None:
        resolve = self.resolve
        implicit = (tag == resolve(ScalarNode, value, _PLAIN), tag == resolve(ScalarNode, value, _STR_IMPLICIT))
        self.emit(ScalarEvent(None, tag, implicit, value, style=style))

    def numbers(self, items: list | array) -> None:
        emit = self.emit
        for item in items:
            if type(item) is int:
                emit(ScalarEvent(None, _INT, _PLAIN, str(item)))
            else:
                emit(ScalarEvent(None, _FLOAT, _PLAIN, _float(item)))


_STR_IMPLICIT = (False, True)


def _float(data: float) -> str:
    """The text SafeRepresenter writes for a float."""
    if data != data:
        return ".nan"
    if data == float("inf"):
        return ".inf"
    if data == float("-inf"):
        return "-.inf"
    value = repr(data).lower()
    if "." not in value and "e" in value:
        value = value.replace("e", ".0e", 1)
    return value
