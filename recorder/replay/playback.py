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
from collections.abc import Callable
from dataclasses import dataclass

from translator import translate_stream

from ..tape import Cassette, CassetteError, Interaction

STRATEGIES = ("recorded", "bytes", "lines", "random:SEED")


def rechunk(body: bytes, strategy: str, offsets: list[int] | None = None) -> list[bytes]:
    """The body cut into reads according to ``strategy``."""
    if strategy == "recorded":
        cuts = list(offsets or [0])
    elif strategy == "bytes":
        cuts = list(range(len(body)))
    elif strategy == "lines":
        cuts = [0] + [i + 1 for i, byte in enumerate(body) if byte == 0x0A and i + 1 < len(body)]
    elif strategy.startswith("random:"):
        try:
            rng = random.Random(int(strategy.split(":", 1)[1]))
        except ValueError:
            raise CassetteError(f"bad rechunk strategy {strategy!r}: the seed must be an integer") from None
        cuts, pos = [0], 0
        while True:
            pos += rng.randint(1, 48)
            if pos >= len(body):
                break
            cuts.append(pos)
    else:
        raise CassetteError(f"unknown rechunk strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
    if not body:
        return []
    return [body[a:b] for a, b in zip(cuts, cuts[1:] + [len(body)])]


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
    tape = response.quirktape
    if tape.dialect is None:
        raise CassetteError(
            f"interaction {i}: neither its URL path nor its payloads tell the upstream dialect; "
            "set response.quirktape.dialect"
        )
    pieces = rechunk(response.raw, rechunk_strategy, tape.offsets)

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
