"""The cassette: a vcrpy cassette plus what vcrpy loses.

Stock vcrpy must be able to load and replay every cassette (anchors.md §3.4):
``version: 1``; ``interactions[].request`` holds exactly method, uri, body,
headers; headers are lists; ``status.message`` is a string; ``body.string`` is
never null. What vcrpy cannot keep lives where it survives a vcrpy re-save:
read boundaries, timing, the ending and the dialect under ``response.quirktape``,
and provenance plus expectations (``Cassette.metadata``) under the first interaction's
``response.quirktape.metadata``.

Why there and not under a top-level ``metadata``: vcrpy 9 hands a top-level ``metadata`` back
as a third value from ``vcr.serialize.deserialize``, and pytest-recording (0.14), which unpacks
two, then cannot load the cassette at all; vcrpy re-serialises each ``response`` mapping whole,
so whatever is inside it survives a re-save by any vcrpy front-end. Files written before keep
loading: a top-level ``metadata`` is read as the cassette's when the first interaction carries
none. When both are there, ``quirktape.metadata`` wins: quirktape never writes both, so a
top-level one next to it is vcrpy's own (``cassette.get_metadata``), not quirktape's; it is left
alone by ``save_expect`` and not written by ``dumps``. Metadata on any later interaction is an
error: quirktape reads it from the first only, and would otherwise drop it without a word.

Content encoding. quirktape keeps bodies decoded: ``record`` and ``proxy`` store what
the client's decoder handed them, and a cassette recorded by another tool with
``content-encoding: gzip`` or ``deflate`` (vcrpy keeps the compressed bytes, e.g.
simonw/llm-gemini) is decoded when it is read, before anything else sees it. So
``Response.raw`` is the decoded body everywhere: the translator, the oracle, the
pytest plugin, ``ReplayTransport`` and ``serve`` all read the same bytes, and a
replay client gets them without ``content-encoding`` or ``content-length`` (those
described the compressed body). ``quirktape.offsets`` count decoded bytes: they mark
where each read began, and a reader reads through its decoder (httpx's
``iter_bytes``), so the reads of a compressed stream exist only as positions in the
decoded text. A body that does not decode, or an encoding quirktape cannot undo, is
a ``CassetteError``; a compressed stream may stop before its end only when the tape
says the response did not end normally (``ending`` other than ``done``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import stat
import tempfile
import time
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, pairwise
from pathlib import Path
from typing import IO, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_serializer,
    field_validator,
    model_validator,
)
from yaml.events import (
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from . import yamlio
from .redact import KnownSecretFound, find_secrets, findings, scrub_cassette

Ending = Literal["done", "eof", "reset", "timeout"]


class CassetteError(Exception):
    """A file that is not a usable cassette; the message is one line for the user."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Request(_Strict):
    method: str
    uri: str
    body: str | bytes | None = ""
    headers: dict[str, list[str]] = Field(default_factory=dict)


class Status(_Strict):
    code: int
    message: str = ""


class Body(_Open):
    string: str | bytes


class Tape(_Strict):
    """Stream fidelity data: where each network read began and when, and how it ended."""

    dialect: str | None = None
    """The upstream's wire dialect; when a cassette does not say, it is read off the exchange at load."""
    stream: bool | None = None
    offsets: Sequence[int] | None = None
    """An ``array("q")`` once validated (8 bytes a read: a long session has a million)."""
    t_ms: Sequence[float] | None = None
    """An ``array("d")`` once validated."""
    ending: Ending = "done"

    @field_validator("offsets", "t_ms", mode="wrap")
    @classmethod
    def _compact(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> array | None:
        """Reads kept as arrays: taken as they are when ``read_yaml`` made them, else validated as a list."""
        code = _ARRAY_CODES[info.field_name]  # type: ignore[index]
        if type(value) is array and value.typecode == code:
            return value
        items = handler(value)
        try:
            return None if items is None else array(code, items)
        except OverflowError:
            raise ValueError("a number out of range for a read offset or time") from None

    @field_serializer("offsets", "t_ms", when_used="json")
    def _listed(self, value: Sequence | None) -> list | None:
        return None if value is None else list(value)

    @model_validator(mode="after")
    def _reads(self) -> Tape:
        offsets = self.offsets
        if offsets is not None:
            if offsets and offsets[0] != 0:
                raise ValueError("offsets must start at 0")
            if any(b <= a for a, b in pairwise(offsets)):
                raise ValueError("offsets must be strictly increasing")
            if self.t_ms is not None and len(self.t_ms) != len(offsets):
                raise ValueError("t_ms needs one time per offset")
        return self


_ARRAY_CODES = {"offsets": "q", "t_ms": "d"}
_ARRAYS = {("quirktape", name): code for name, code in _ARRAY_CODES.items()}  # how ``load`` reads them

_GZIP = 16 + zlib.MAX_WBITS
_ZLIB = zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS
_WBITS = {"gzip": _GZIP, "x-gzip": _GZIP, "deflate": _ZLIB}
_DESCRIBE_ENCODED = frozenset({"content-encoding", "content-length"})


def _inflate(data: bytes, coding: str) -> tuple[bytes, bool]:
    """``data`` decompressed, and whether its compressed stream ended properly.

    Concatenated gzip members are one body (as ``gzip -c a b`` makes them); a deflate
    body without its zlib wrapper is accepted, as httpx accepts it, since servers send both.
    """
    wbits, out = _WBITS[coding], []
    while data:
        decoder = zlib.decompressobj(wbits)
        try:
            out.append(decoder.decompress(data) + decoder.flush())
        except zlib.error:
            if wbits != _ZLIB or out:
                raise
            wbits = _RAW_DEFLATE
            continue
        if not decoder.eof:
            return b"".join(out), False
        data = decoder.unused_data
        if data and wbits != _GZIP:
            raise zlib.error("data after the end of the compressed stream")
    return b"".join(out), True


def decode_body(body: bytes, codings: list[str], cut: bool) -> bytes:
    """The body under its ``content-encoding`` codings (applied in order, so undone in reverse).

    ``cut``: the connection broke, so the compressed stream may stop early (the reader
    got what had been decompressed so far). Any other problem is a ``ValueError``.
    """
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in _WBITS:
            raise ValueError(f"content-encoding {coding!r} cannot be decoded (quirktape decodes gzip and deflate)")
        try:
            body, whole = _inflate(body, coding)
        except zlib.error as exc:
            raise ValueError(f"body.string is not valid {coding} data ({exc})") from None
        if not whole and not cut:
            raise ValueError(f"body.string stops inside its {coding} data, yet the response is recorded as complete")
    return body


class Response(_Open):
    status: Status
    headers: dict[str, list[str]] = Field(default_factory=dict)
    body: Body
    quirktape: Tape = Field(default_factory=Tape)

    @model_validator(mode="after")
    def _decoded(self) -> Response:
        """Once, when read: the body decoded and the headers that described the encoded body dropped."""
        codings = [
            coding.strip().lower()
            for name, values in self.headers.items()
            if name.lower() == "content-encoding"
            for value in values
            for coding in value.split(",")
            if coding.strip()
        ]
        if not codings:
            return self
        body = decode_body(self.raw, codings, cut=self.quirktape.ending != "done")
        try:
            self.body.string = body.decode("utf-8")
        except UnicodeDecodeError:
            self.body.string = body
        self.headers = {k: v for k, v in self.headers.items() if k.lower() not in _DESCRIBE_ENCODED}
        return self

    @property
    def raw(self) -> bytes:
        string = self.body.string
        return string.encode("utf-8") if isinstance(string, str) else string

    @property
    def content_type(self) -> str:
        for name, values in self.headers.items():
            if name.lower() == "content-type" and values:
                return values[0]
        return ""

    @property
    def is_stream(self) -> bool:
        if self.quirktape.stream is not None:
            return self.quirktape.stream
        return "json" not in self.content_type or "event-stream" in self.content_type

    @model_validator(mode="after")
    def _offsets_fit(self) -> Response:
        offsets = self.quirktape.offsets
        if offsets and offsets[-1] >= max(len(body_of(self)), 1):
            raise ValueError("an offset lies beyond the end of body.string")
        return self


def body_of(response: Response) -> bytes | str:
    """A body as bytes are cut from it: its text when it is ASCII (the same characters, no copy), else its
    bytes (``Response.raw``)."""
    string = response.body.string
    return string if isinstance(string, str) and string.isascii() else response.raw


class Interaction(_Strict):
    request: Request
    response: Response


class Expect(_Strict):
    """What a correct translation must contain, written from the wire data by hand."""

    content: list[dict[str, Any]] | None = None
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: dict[str, int] | None = None
    error: dict[str, Any] | None = None


class Metadata(_Open):
    title: str = ""
    source: str = ""
    provider: str = ""
    model: str = ""
    tags: list[str] = Field(default_factory=list)
    recorded_at: str | None = None
    request: dict[str, Any] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    expect: Expect | None = None


class Cassette(_Strict):
    version: int = 1
    interactions: list[Interaction]
    metadata: Metadata = Field(default_factory=Metadata)

    @model_validator(mode="after")
    def _not_empty(self) -> Cassette:
        if not self.interactions:
            raise ValueError("a cassette needs at least one interaction")
        return self


METADATA_AT = ("interactions", 0, "response", "quirktape", "metadata")
"""Where a cassette file keeps ``Cassette.metadata`` (a top-level ``metadata`` is the old place, still read)."""


def _first_error(exc: ValidationError, lifted: bool = False) -> str:
    """The first problem, located where the file has it: metadata read from the first interaction
    is named there, not as the top-level ``metadata`` the model holds it under."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    if lifted and loc[:1] == ("metadata",):
        loc = METADATA_AT + loc[1:]
    where = ".".join(str(part) for part in loc) or "top level"
    return f"{where}: {err['msg']}"


def _tape_of(interaction: Any) -> Any:
    response = interaction.get("response") if isinstance(interaction, dict) else None
    return response.get("quirktape") if isinstance(response, dict) else None


def lift_metadata(data: dict, name: str = "cassette") -> tuple[dict, bool]:
    """``data`` as the model holds it: the first interaction's ``response.quirktape.metadata`` as
    the top-level ``metadata`` (replacing one there, which is vcrpy's own then), and whether it was
    there. ``data`` itself is not changed: the mappings on the way are copied.

    A file without it (the old shape, a plain vcrpy cassette, a ``model_dump``) is returned as it is.
    Metadata on a later interaction is a ``CassetteError``: read from the first only, it would be lost.
    """
    interactions = data.get("interactions")
    if not isinstance(interactions, list):
        return data, False
    found = None
    for n, interaction in enumerate(interactions):
        tape = _tape_of(interaction)
        if isinstance(tape, dict) and "metadata" in tape:
            if n:
                raise CassetteError(
                    f"{name}: interactions.{n}.response.quirktape.metadata: cassette metadata belongs on the "
                    "first interaction only (move it there)"
                )
            found = tape
    if found is None:
        return data, False
    first = interactions[0]
    tape = {key: value for key, value in found.items() if key != "metadata"}
    response = {**first["response"], "quirktape": tape}
    lifted = {
        **data,
        "metadata": found["metadata"],
        "interactions": [{**first, "response": response}, *interactions[1:]],
    }
    return lifted, True


def parse_cassette(data: Any, name: str = "cassette") -> Cassette:
    """A cassette from its parsed file (either shape of ``metadata``) or from a ``model_dump``."""
    if not isinstance(data, dict) or "interactions" not in data:
        raise CassetteError(f"{name}: not a cassette (no top-level 'interactions')")
    data, lifted = lift_metadata(data, name)
    try:
        cassette = Cassette.model_validate(data)
    except ValidationError as exc:
        raise CassetteError(f"{name}: invalid cassette: {_first_error(exc, lifted)}") from None
    except RecursionError:
        raise CassetteError(f"{name}: nested too deeply to be a cassette") from None
    _tell_dialects(cassette)
    return cassette


def _tell_dialects(cassette: Cassette) -> None:
    """A response that names no dialect (a plain vcrpy cassette) gets the one its payloads or URL tell.

    Never a default: one that nothing tells stays unknown, and replaying it is an error that says so.
    """
    from translator import DIALECTS

    from .sniff import exchange_dialect  # sniff reads cassettes' errors, so it is imported here, not above

    for interaction in cassette.interactions:
        tape = interaction.response.quirktape
        if tape.dialect is None:
            found = exchange_dialect(interaction.request.uri, interaction.response.raw.decode("utf-8", "replace"))
            tape.dialect = found if found in DIALECTS else None


def load(path: str | os.PathLike) -> Cassette:
    """Read a cassette file; any problem is a ``CassetteError`` with a one-line message.

    The file is parsed as it is read (libyaml reads it in blocks), so its text is never held whole
    next to the values read from it.
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise CassetteError(f"{path}: no such file") from None
    except OSError as exc:
        raise CassetteError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with handle:
        return _parsed(read_yaml(handle, str(path), arrays=_ARRAYS), str(path))


def loads(text: str, name: str = "cassette") -> Cassette:
    """A cassette from its YAML text; any problem is a ``CassetteError`` naming ``name``."""
    return _parsed(read_yaml(text, name, arrays=_ARRAYS), name)


def _parsed(data: Any, name: str) -> Cassette:
    try:
        return parse_cassette(data, name)
    except MemoryError:
        raise CassetteError(f"{name}: too large to read into memory") from None


def read_yaml(
    source: str | bytes | IO[bytes],
    name: str = "cassette",
    loader: type = yamlio.SafeLoader,
    arrays: dict[tuple[str, str], str] | None = None,
) -> Any:
    """The YAML document in ``source`` as the safe loader reads it, without aliases and within
    ``yamlio.MAX_ITEMS`` entries per list; any problem is a one-line ``CassetteError`` naming ``name``.

    Cassettes, reports and recordings are all read here; a cassette's reads come as arrays (``arrays``).
    """
    try:
        return yamlio.read(source, loader=loader, arrays=arrays)
    except yamlio.YamlRefused as exc:
        raise CassetteError(f"{name}: {exc}") from None
    except RecursionError:
        raise CassetteError(f"{name}: nested too deeply to be a cassette") from None
    except MemoryError:
        raise CassetteError(f"{name}: too large to read into memory") from None
    except yaml.reader.ReaderError as exc:
        if "utf-8" in str(exc).lower() or "unicode" in str(exc).lower():
            raise CassetteError(f"{name}: cannot read: not UTF-8 text (at byte {exc.position})") from None
        raise CassetteError(f"{name}: not valid YAML: {exc.reason}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise CassetteError(f"{name}: not valid YAML{at}") from None
    except OSError as exc:
        raise CassetteError(f"{name}: cannot read: {exc.strerror or exc}") from None


class _Dumper(yaml.SafeDumper):
    """Readable and exact: multi-line text as literal blocks where YAML allows it."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _represent_list(dumper: yaml.SafeDumper, items: list) -> yaml.Node:
    numbers = bool(items) and all(isinstance(i, (int, float)) and not isinstance(i, bool) for i in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=numbers)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(array, _represent_list)


def to_data(cassette: Cassette) -> dict:
    """The cassette as its file holds it: ``version`` and ``interactions`` only, ``metadata`` inside the
    first interaction's ``response.quirktape`` (``METADATA_AT``).

    Each response in reading order: status, headers, quirktape (``metadata`` first in it), body, then
    any other keys; so the title is near the top of the file, above the body. vcrpy sorts the keys
    when it re-saves a cassette, which changes nothing quirktape reads.
    """
    data = cassette.model_dump(mode="python", exclude_none=True)
    metadata = data.pop("metadata")
    for n, (interaction, model) in enumerate(zip(data["interactions"], cassette.interactions)):
        interaction["request"]["body"] = model.request.body  # vcrpy needs the key, even when null
        response = interaction["response"]
        tape = response.pop("quirktape")
        ordered = {"status": response.pop("status"), "headers": response.pop("headers")}
        ordered["quirktape"] = {"metadata": metadata, **tape} if n == 0 else tape
        ordered["body"] = response.pop("body")
        interaction["response"] = {**ordered, **response}
    return data


def dumps(cassette: Cassette) -> str:
    """The cassette's YAML text: ASCII (non-ASCII escaped: stock vcrpy opens files with the platform
    encoding), multi-line text as literal blocks where YAML allows them, lists of numbers on one line.

    Written by libyaml's emitter straight from the values (``yamlio.write``), byte for byte what
    PyYAML's own ``yaml.dump`` with ``_Dumper`` gives, without building a node per value.
    """
    return yamlio.write(to_data(cassette))


def save(
    cassette: Cassette, path: str | os.PathLike, secrets: list[str] | None = None, allow: Iterable[str] = ()
) -> None:
    """Write atomically (``write_atomic``) what ``safe_dumps`` makes of the cassette.

    Without known secrets the text is written as it is made: a long session's YAML (78 MB for a
    million chunks) is never held whole. With them, it is made whole for ``safe_dumps``' last scan.
    """
    if any(secrets or ()):
        write_atomic(path, safe_dumps(cassette, secrets, allow, name=str(path)))
    else:
        clean = _scrubbed(cassette, [], allow, str(path))
        write_atomic(path, lambda out: yamlio.write(to_data(clean), out))


def _scrubbed(cassette: Cassette, secrets: list[str], allow: Iterable[str], name: str) -> Cassette:
    """The cassette scrubbed (``redact.scrub_cassette``), or a ``CassetteError`` when what it would hold
    cannot be redacted where it sits: a known secret the upstream echoed, or a credential the upstream
    said in pieces (token by token, across its events) or escaped in JSON, which only the dialect's
    parser sees whole (``content_windows``). Such a credential is refused, never written in pieces;
    ``allow`` keeps a value that only looks like one."""
    try:
        clean = scrub_cassette(cassette, secrets, allow)
    except KnownSecretFound as exc:
        raise CassetteError(f"{name}: refusing to write: {exc} would appear in the cassette") from None
    for said in content_windows(clean):
        spans = findings(said, allow, secrets)
        if spans:
            known = find_secrets(said, secrets)
            what = ", ".join(known) if known else f"what looks like a credential ({spans[0][2]})"
            raise CassetteError(
                f"{name}: refusing to write: {what} would appear in the cassette, in what the upstream said "
                "(in pieces across its events, or escaped), where it cannot be redacted"
                + ("" if known else "; --allow-value VALUE keeps it if it is not one")
            )
    return clean


def safe_dumps(
    cassette: Cassette, secrets: list[str] | None = None, allow: Iterable[str] = (), name: str = "cassette"
) -> str:
    """The cassette's text once every string is scrubbed (``redact.scrub_cassette``); ``allow`` keeps
    values that only look like credentials.

    With ``secrets`` (known credentials), a cassette holding one (or its base64) anywhere but where
    credentials travel (headers, the URL, credential-named keys: there it is redacted) is refused,
    even where a shape rule would redact it: the upstream echoed it. The whole text is scanned once
    more after scrubbing, as a last line. What each response says is read by its dialect's parser
    for both (``_scrubbed``): an upstream that says a credential token by token splits it across its
    events, or escapes it in JSON, where no scan of the text finds it.
    """
    secrets = [s for s in secrets or [] if s]
    cassette = _scrubbed(cassette, secrets, allow, name)
    text = dumps(cassette)
    if secrets:
        found = find_secrets(text, secrets) or find_secrets(str(to_data(cassette)), secrets)
        if found:
            raise CassetteError(f"{name}: refusing to write: {', '.join(found)} would appear in the cassette")
    return text


_SAID_SLICE = 1 << 16  # bytes of a body fed at a time when reading what it says


def _slices(response: Response) -> Iterator[bytes]:
    """A response's body in slices; an ASCII text is cut as it is, never encoded whole."""
    body = body_of(response)
    for at in range(0, len(body), _SAID_SLICE):
        piece = body[at : at + _SAID_SLICE]
        yield piece.encode() if isinstance(piece, str) else piece


_WINDOW = 1 << 20  # characters of what a response says scanned at a time
_OVERLAP = 1 << 14  # characters each window shares with the next: more than any credential is long


def content_windows(cassette: Cassette) -> Iterator[str]:
    """What each response says, read by its dialect's parser and joined across the stream (its text, its
    reasoning, each tool call's name and its arguments), in windows: each about ``_WINDOW`` characters,
    sharing ``_OVERLAP`` with the next of the same kind, so anything shorter than that is whole in one.

    The body is fed in slices and each slice's facts are dropped once read, and only a window of each
    kind is held: a long stream costs what it says no more than a window at a time. A response whose
    dialect is unknown says nothing.
    """
    from translator import Translator
    from translator.ir import REASONING, TEXT, TOOL

    for interaction in cassette.interactions:
        response, tape = interaction.response, interaction.response.quirktape
        if tape.dialect is None:
            continue
        try:
            translator = Translator(
                tape.dialect, status=response.status.code, options=cassette.metadata.options or None, keep_ir=True
            )
        except ValueError:  # a dialect or option the translator does not know: the text scans still hold
            continue
        facts = translator.ir
        assert facts is not None
        said: dict[Any, io.StringIO] = {TEXT: io.StringIO(), REASONING: io.StringIO()}  # since the last window
        for piece in chain(_slices(response), [None]):
            if piece is not None:
                translator.feed(piece)
            else:
                translator.close(tape.ending)
            for fact in facts:
                if fact[0] in (TEXT, REASONING) and isinstance(fact[1], str):
                    said[fact[0]].write(fact[1])
                elif fact[0] == TOOL:  # its name, its arguments streamed, its arguments whole (a Gemini call)
                    snapshot = None if fact[5] is None else json.dumps(fact[5], ensure_ascii=False, default=str)
                    for n, part in ((3, fact[3]), (4, fact[4]), (5, snapshot)):
                        if isinstance(part, str):
                            said.setdefault((fact[1], n), io.StringIO()).write(part)
            facts.clear()
            for key, text in said.items():
                if text.tell() > _WINDOW:
                    window = text.getvalue()
                    yield window
                    said[key] = io.StringIO()
                    said[key].write(window[-_OVERLAP:])
        for text in said.values():
            if text.tell():
                yield text.getvalue()


TEMP_SUFFIX = ".quirktape.tmp"
STALE_AFTER = 60.0
"""Seconds after which a temporary file of a dead writer is removed; any is, after a day."""


def output_path(path: str | os.PathLike) -> Path:
    """Where a write to ``path`` lands: a symlink's target (the link stays a link), and never a
    device, a FIFO, a socket or a directory (refused: ``-o -`` is how to write to stdout)."""
    path = Path(path)
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise CassetteError(f"{path}: cannot write: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise CassetteError(f"{path}: is a directory")
    if not stat.S_ISREG(mode):
        raise CassetteError(f"{path}: not a regular file (a device, pipe or socket); refusing to write to it")
    return target


def clean_stale_temps(folder: Path, now: float | None = None) -> list[Path]:
    """Remove temporary files a killed write of ours left in ``folder``; returns what was removed.

    Ours end in ``TEMP_SUFFIX`` and name their writer's pid: stale once that process is gone and
    the file is ``STALE_AFTER`` seconds old (a live writer's is never touched), or after a day.
    """
    now = time.time() if now is None else now
    removed = []
    for tmp in folder.glob(f".*{TEMP_SUFFIX}"):
        found = re.search(r"\.(\d+)" + re.escape(TEMP_SUFFIX) + "$", tmp.name)
        try:
            age = now - tmp.lstat().st_mtime
        except OSError:
            continue
        pid = int(found.group(1)) if found else 0
        if age < STALE_AFTER or (age < 86400 and (pid == os.getpid() or _alive(pid))):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def write_atomic(path: str | os.PathLike, text: str | Callable[[IO[str]], object]) -> None:
    """Nothing is ever written half: a temporary file in the same folder, then rename.

    ``text``: the text, or what writes it to the open file (a text too long to hold whole).

    A symlink's target is written (``output_path``); a file that is not a regular file is never
    replaced. An existing file keeps its permissions; a new one gets those a plain ``open()``
    would give. Stale temporary files a killed write left there are removed first.
    """
    path = output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".{os.getpid()}{TEMP_SUFFIX}", dir=path.parent)
    try:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # the permissions a plain open() would give, not mkstemp's 0600
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if isinstance(text, str):
                handle.write(text)
            else:
                text(handle)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _looks_like_cassette(path: Path) -> bool:
    """Cheap test on the text: a cassette has top-level ``interactions:`` (malformed ones still fail loudly)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return any(line.startswith(("interactions:", '"interactions"', '{"interactions"')) for line in handle)
    except OSError:
        return True


def iter_cassette_paths(paths: list[str]) -> list[Path]:
    """Cassette files named directly or found (``*.yaml``/``*.yml``) under directories."""
    found: list[Path] = []
    for entry in paths:
        p = Path(entry)
        if p.is_dir():  # in a directory, YAML that is not a cassette (CI configs, …) is not ours to judge
            inside = sorted(
                q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file() and _looks_like_cassette(q)
            )
            if not inside:
                raise CassetteError(f"{p}: no cassettes (*.yaml, *.yml) in this directory")
            found.extend(inside)
        elif p.exists():
            found.append(p)
        else:
            raise CassetteError(f"{p}: no such file or directory")
    return found


def save_expect(path: str | os.PathLike, cassette: Cassette) -> None:
    """Write ``cassette`` whose only change is ``metadata.expect``, touching only that block.

    Hand-formatted cassettes keep their formatting, so a review diff shows the new
    expectation and nothing else. The block is found where ``parse_cassette`` reads the
    metadata: the first interaction's ``response.quirktape.metadata``, else (a file in the old
    shape, or a plain vcrpy cassette with vcrpy's own ``metadata``) the top-level ``metadata``,
    which is then spliced where it is: the file keeps its shape, as it keeps its formatting.
    When the block cannot be found and replaced exactly, the whole cassette is written
    instead, in the current shape.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    spliced = _splice_expect(text, cassette.metadata.expect)
    if spliced is not None:
        try:
            if dumps(loads(spliced)) == dumps(cassette):
                write_atomic(path, spliced)
                return
        except CassetteError:
            pass
    save(cassette, path)


_LINE = re.compile(r"[^\r\n\x85\u2028\u2029]*(?:\r\n|[\r\n\x85\u2028\u2029]|$)")
"""One line with its break, as YAML counts lines (the marks the parser gives are in these lines)."""


def _lines(text: str) -> list[str]:
    return [line for line in _LINE.findall(text) if line]


@dataclass
class _Block:
    """Where a block mapping is written: its keys' column, each key's first line and the first
    line after its value, and the first line after the mapping (all 0-based)."""

    column: int
    keys: dict[Any, tuple[int, int]]
    end: int


class _Found(Exception):
    pass


class _Locator:
    """Finds the metadata mapping in a cassette's YAML text from the parser's events, without
    building the document: ``METADATA_AT`` (it ends the search), else the top-level ``metadata``."""

    _WANTED = frozenset({METADATA_AT[:n] for n in range(len(METADATA_AT) + 1)} | {("metadata",)})

    def __init__(self, text: str) -> None:
        self.lines = _lines(text)
        self.parser = yamlio.SafeLoader(text)
        self.blocks: dict[tuple, _Block | None] = {}

    def find(self) -> _Block | None:
        try:
            get = self.parser.get_event
            get(), get()  # stream start, document start
            self.node(get(), ())
        except _Found:
            pass
        finally:
            self.parser.dispose()
        return self.blocks.get(METADATA_AT, self.blocks.get(("metadata",)))

    def after(self, mark: Any, since: int) -> int:
        """The first line after a node that ends at ``mark``: a block node ends where the next token
        starts, on that token's line; a node that ends inside a line takes that line."""
        line, column = mark.line, mark.column
        if line > since and (line >= len(self.lines) or not self.lines[line][:column].strip()):
            return line
        return line + 1

    def node(self, event: Any, path: tuple | None) -> Any:
        """Read the node ``event`` starts; returns its end mark."""
        if path not in self._WANTED:
            return self.skip(event)
        if isinstance(event, MappingStartEvent):
            return self.mapping(event, path)
        if isinstance(event, SequenceStartEvent):
            index, get = 0, self.parser.get_event
            while not isinstance(item := get(), SequenceEndEvent):
                self.node(item, path + (index,))
                index += 1
            return item.end_mark
        if path in (METADATA_AT, ("metadata",)):
            self.blocks[path] = None  # there, but not a mapping: nothing to splice into
        return event.end_mark

    def mapping(self, event: MappingStartEvent, path: tuple) -> Any:
        get = self.parser.get_event
        keys: dict[Any, tuple[int, int]] = {}
        column = -1
        while not isinstance(key := get(), MappingEndEvent):
            if not isinstance(key, ScalarEvent):
                self.skip(key)
                self.skip(get())
                continue
            column = key.start_mark.column if column < 0 else column
            end = self.node(get(), path + (key.value,))
            keys[key.value] = (key.start_mark.line, self.after(end, key.start_mark.line))
        if path in (METADATA_AT, ("metadata",)):
            block = _Block(column, keys, self.after(key.end_mark, event.start_mark.line))
            self.blocks[path] = None if event.flow_style or column < 0 else block
            if path == METADATA_AT:
                raise _Found
        return key.end_mark

    def skip(self, event: Any) -> Any:
        """Read past a node nobody asked about; returns its end mark."""
        depth, get = 0, self.parser.get_event
        while True:
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                depth += 1
            elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                depth -= 1
            if depth == 0:
                return event.end_mark
            event = get()


def _metadata_block(text: str) -> tuple[_Block | None, list[str]]:
    """The metadata mapping ``parse_cassette`` reads from ``text`` as a ``_Block`` (None when it is
    missing or not a block mapping), and the text's lines."""
    locator = _Locator(text)
    try:
        return locator.find(), locator.lines
    except (yaml.YAMLError, RecursionError, MemoryError):
        return None, locator.lines


def _trailing(line: str, column: int) -> bool:
    """A blank line, or a comment no deeper than the mapping's keys: it belongs to what follows."""
    stripped = line.lstrip(" ")
    return not stripped.strip() or (stripped.startswith("#") and len(line) - len(stripped) <= column)


def _splice_expect(text: str, expect: Expect | None) -> str | None:
    """``text`` with the metadata's ``expect`` block replaced by ``expect`` (added when missing,
    removed when None), indented as the metadata's keys are; None when there is no block metadata."""
    block, lines = _metadata_block(text)
    if block is None:
        return None
    indent = " " * block.column
    new = []
    if expect is not None:
        data = expect.model_dump(mode="python", exclude_none=True)
        body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=False, width=100000)
        new = [f"{indent}expect:\n"] + [f"{indent}  {line}\n" for line in body.splitlines()]
    start, stop = block.keys["expect"] if "expect" in block.keys else (block.end, block.end)
    while stop > 0 and _trailing(lines[stop - 1], block.column):  # never past a line of the mapping's own
        stop -= 1
    start = min(start, stop)
    if start and not lines[start - 1].endswith(("\n", "\r", "\x85", "\u2028", "\u2029")):
        lines[start - 1] += "\n"
    return "".join(lines[:start] + new + lines[stop:])
