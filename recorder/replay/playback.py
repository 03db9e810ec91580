"""Deterministic replay: a cassette's bytes, re-cut into reads, through a translator.

A rechunk strategy decides only where the body is cut; the translator must give
the same events for every cut. ``random:SEED`` uses its own seeded generator, so
a replay is the same on every machine and every run.
"""

from __future__ import annotations

import importlib
import inspect
import os
import random
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from translator import Translator, translate_stream

from ..tape import Cassette, CassetteError, Interaction, Tape, body_of

STRATEGIES = ("recorded", "bytes", "lines", "random:SEED")


def rechunk(body: bytes | str, strategy: str, offsets: list[int] | None = None) -> Pieces:
    """The body cut into reads according to ``strategy``: a sequence of byte strings, made as it is read.

    Iterating gives one piece at a time, so ``bytes`` over a 200 MB body never holds 200 million
    objects; ``len`` and indexing work too (for ``lines`` and ``random`` they find every cut first,
    a compact array of positions). An unknown strategy is a ``CassetteError`` at once.

    ``body`` may be the cassette's text itself when it is ASCII (``body_of``): its characters are
    its bytes, each piece is encoded as it is cut, and the body is never copied whole.
    """
    if isinstance(body, str) and not body.isascii():
        body = body.encode("utf-8")
    if strategy == "recorded":
        return Pieces(body, offsets or [0])
    if strategy == "bytes":
        return Pieces(body, range(len(body)))
    if strategy == "lines":
        return Pieces(body, None, _line_cuts)
    if strategy.startswith("random:"):
        try:
            seed = int(strategy.split(":", 1)[1])
        except ValueError:
            raise CassetteError(f"bad rechunk strategy {strategy!r}: the seed must be an integer") from None
        return Pieces(body, None, lambda data: _random_cuts(data, seed))
    raise CassetteError(f"unknown rechunk strategy {strategy!r} (known: {', '.join(STRATEGIES)})")


def _line_cuts(body: bytes | str) -> Iterator[int]:
    newline = "\n" if isinstance(body, str) else b"\n"
    yield 0
    find, size, at = body.find, len(body), body.find(newline)
    while 0 <= at < size - 1:
        yield at + 1
        at = find(newline, at + 1)


def _random_cuts(body: bytes | str, seed: int) -> Iterator[int]:
    rng = random.Random(seed)
    pos, size = 0, len(body)
    yield 0
    while True:
        pos += rng.randint(1, 48)
        if pos >= size:
            return
        yield pos


class Pieces(Sequence):
    """A body's reads: where each begins (``cuts``, or a function finding them), each cut out when asked for."""

    __slots__ = ("body", "_cuts", "_find")

    def __init__(
        self, body: bytes | str, cuts: Sequence[int] | None, find: Callable[[bytes], Iterable[int]] | None = None
    ) -> None:
        self.body = body  # bytes, or ASCII text (whose pieces are encoded as they are cut)
        self._cuts = cuts
        self._find = find

    def _starts(self) -> Iterable[int]:
        return self._cuts if self._cuts is not None else self._find(self.body)  # type: ignore[misc]

    @property
    def cuts(self) -> Sequence[int]:
        """Where each piece begins (found once, kept as an array of positions)."""
        if self._cuts is None:
            self._cuts = array("q", self._find(self.body))  # type: ignore[misc]
        return self._cuts

    def __iter__(self) -> Iterator[bytes]:
        body = self.body
        if not body:
            return
        text = isinstance(body, str)
        if type(self._cuts) is range and self._cuts.step == 1 and self._cuts.start == 0:  # "bytes"
            if text:
                for char in body:
                    yield char.encode("ascii")
            else:
                for i in range(len(body)):
                    yield body[i : i + 1]
            return
        starts = iter(self._starts())
        a = next(starts, 0)
        for b in starts:
            yield body[a:b].encode("ascii") if text else body[a:b]
            a = b
        yield body[a:].encode("ascii") if text else body[a:]

    def __len__(self) -> int:
        return len(self.cuts) if self.body else 0

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("piece index out of range")
        cuts = self.cuts
        end = cuts[index + 1] if index + 1 < size else len(self.body)
        piece = self.body[cuts[index] : end]
        return piece.encode("ascii") if isinstance(piece, str) else piece

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Pieces, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Pieces({len(self.body)} bytes)"

    @property
    def data(self) -> bytes:
        """The whole body as bytes."""
        return self.body.encode("ascii") if isinstance(self.body, str) else self.body


@dataclass
class Replay:
    """One interaction's translation: the Anthropic events and the IR facts behind them."""

    index: int
    interaction: Interaction
    events: list[dict]
    ir: list[tuple] | None


TranslateFn = Callable[..., tuple[list[dict], "list[tuple] | None"]]
"""A translator under test: ``(pieces, dialect, *, ending, status, options, keep_ir) -> (events, ir)``.

Same signature as ``translator.translate_stream``. A foreign translator may return ``None``
for the IR; the oracle then reads the upstream with our own parser.
"""


class TranslatorFailed(CassetteError):
    """The translator under test raised, or returned something that is not (events, ir)."""


def load_translator(spec: str) -> TranslateFn:
    """``module:callable`` -> the callable, for checking any translator, not only ours.

    Modules are found in the current directory too, as pytest finds them. A callable that
    cannot take the call ``replay`` makes is refused here, so a wrong signature is reported
    as that, not as a translation that fails every invariant.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise CassetteError(f"--translator must look like module:callable, not {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise CassetteError(f"cannot load translator {spec!r}: {exc}") from None
    except Exception as exc:  # the module itself fails to import: its error, in one line
        raise CassetteError(f"cannot load translator {spec!r}: {type(exc).__name__}: {exc}") from None
    if not callable(target):
        raise CassetteError(f"translator {spec!r} is not callable")
    try:
        inspect.signature(target).bind([b""], "openai", ending="eof", status=200, options=None, keep_ir=True)
    except TypeError as exc:
        raise CassetteError(
            f"translator signature: {spec} cannot be called as fn(pieces, dialect, *, ending, status, options, "
            f"keep_ir) ({exc})"
        ) from None
    except ValueError:
        pass  # no signature to inspect (a builtin): the call itself will tell
    return target


def pick(cassette: Cassette, index: int | None) -> int:
    if index is None:
        return 0
    if not 0 <= index < len(cassette.interactions):
        raise CassetteError(f"interaction {index} does not exist (the cassette has {len(cassette.interactions)})")
    return index


def replay(
    cassette: Cassette,
    index: int | None = None,
    rechunk_strategy: str = "recorded",
    translate: TranslateFn = translate_stream,
) -> Replay:
    """Feed one interaction's response through the translator, cut as ``rechunk_strategy`` says."""
    i = pick(cassette, index)
    interaction = cassette.interactions[i]
    response = interaction.response
    tape = _told(i, interaction)
    pieces = rechunk(body_of(response), rechunk_strategy, tape.offsets)

    def run(fn: TranslateFn) -> tuple[list[dict], list[tuple] | None]:
        try:
            result = fn(
                pieces,
                tape.dialect,
                ending=tape.ending,
                status=response.status.code,
                options=cassette.metadata.options or None,
                keep_ir=True,
            )
        except ValueError as exc:  # unknown dialect or option: bad input, not a crash
            raise CassetteError(str(exc)) from None
        except Exception as exc:  # a translator under test that crashes is a finding, not our traceback
            raise TranslatorFailed(f"the translator raised {type(exc).__name__}: {exc}") from None
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], list)):
            raise TranslatorFailed(f"the translator returned {type(result).__name__}, not (events, ir)")
        return result

    events, ir = run(translate)
    if ir is None:  # a foreign translator: what the upstream said, read by our parser
        ir = run(translate_stream)[1]
    return Replay(i, interaction, events, ir)


def _told(i: int, interaction: Interaction) -> Tape:
    tape = interaction.response.quirktape
    if tape.dialect is None:
        raise CassetteError(
            f"interaction {i}: neither its URL path nor its payloads tell the upstream dialect; "
            "set response.quirktape.dialect"
        )
    return tape


def stream_events(cassette: Cassette, index: int | None = None, rechunk_strategy: str = "recorded") -> Iterator[dict]:
    """quirktape's translation of one interaction, event by event as the pieces are fed.

    ``replay`` with quirktape's translator, without holding the events (``replay`` keeps them all,
    and the IR): what ``quirktape replay`` prints, and what the oracle compares a rechunked run with.
    Problems with the cassette are a ``CassetteError`` before the first event.
    """
    i = pick(cassette, index)
    interaction = cassette.interactions[i]
    response = interaction.response
    tape = _told(i, interaction)
    pieces = rechunk(body_of(response), rechunk_strategy, tape.offsets)
    try:
        translator = Translator(tape.dialect, status=response.status.code, options=cassette.metadata.options or None)
    except ValueError as exc:  # unknown dialect or option
        raise CassetteError(str(exc)) from None
    return _fed(translator, pieces, tape.ending)


def _fed(translator: Translator, pieces: Iterable[bytes], ending: str) -> Iterator[dict]:
    feed = translator.feed
    for piece in pieces:
        yield from feed(piece)
    yield from translator.close(ending)
