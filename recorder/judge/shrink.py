"""Delta debugging: the smallest cassette that still fails the same way.

Given a cassette on which a translator breaks an invariant, remove interactions,
recorded read boundaries, whole events, JSON fields, list items and text, keeping
each removal only if the same invariant still fails. What is left is the bug and
little else: the fixture a maintainer wants attached to an issue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from translator import translate_stream

from ..replay import TranslateFn, replay
from ..tape import Cassette, CassetteError
from .mutate import encode_events, sse_events
from .oracle import INVARIANTS, check_cassette, comparable

DIFFERS = "differs"
"""Not an oracle invariant: the translation differs from the reference translator's."""

SHRINKABLE = (*[i for i in INVARIANTS if i != "expect"], DIFFERS)


def fails(
    cassette: Cassette, invariant: str, translate: TranslateFn, reference: TranslateFn = translate_stream
) -> bool:
    """Does ``translate`` still break ``invariant`` on ``cassette``? A candidate that cannot even be read does not."""
    try:
        if invariant == DIFFERS:
            return any(
                comparable(replay(cassette, i, translate=translate).events)
                != comparable(replay(cassette, i, translate=reference).events)
                for i in range(len(cassette.interactions))
            )
        broken = any(c.invariant == invariant and c.ok is False for c in check_cassette(cassette, translate))
        # only the translator under test may fail: a candidate the reference fails too is not this bug
        return broken and not any(
            c.invariant == invariant and c.ok is False for c in check_cassette(cassette, reference)
        )
    except (CassetteError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return False


def _with_body(cassette: Cassette, index: int, events: list) -> Cassette:
    out = cassette.model_copy(deep=True)
    response = out.interactions[index].response
    response.body.string = encode_events(events).decode("utf-8", "replace")
    response.quirktape.offsets = response.quirktape.t_ms = None
    tape = response.quirktape
    if tape.dialect == "openai" and tape.ending == "done" and not any(data.strip() == "[DONE]" for _, data in events):
        tape.ending = "eof"  # the end-of-stream marker went with the events removed
    return out


def _smaller_payloads(value: Any) -> Iterator[Any]:
    """Each way to make one JSON value a little smaller: drop a key or item, shorten a string."""
    if isinstance(value, dict):
        for key in list(value):
            yield {k: v for k, v in value.items() if k != key}
        for key, item in value.items():
            for smaller in _smaller_payloads(item):
                yield {**value, key: smaller}
    elif isinstance(value, list):
        for n in range(len(value)):
            yield value[:n] + value[n + 1 :]
        for n, item in enumerate(value):
            for smaller in _smaller_payloads(item):
                yield value[:n] + [smaller] + value[n + 1 :]
    elif isinstance(value, str) and value:
        yield value[: len(value) // 2]
        if len(value) > 1:
            yield value[:1]


def shrink(
    cassette: Cassette,
    invariant: str,
    translate: TranslateFn,
    reference: TranslateFn = translate_stream,
    on_step: Callable[[str], None] | None = None,
) -> Cassette:
    """The smallest cassette found on which ``translate`` still breaks ``invariant``."""
    if invariant not in SHRINKABLE:
        raise CassetteError(f"cannot shrink on {invariant!r} (choose from {', '.join(SHRINKABLE)})")

    def still(candidate: Cassette) -> bool:
        return fails(candidate, invariant, translate, reference)

    if not still(cassette):
        raise CassetteError(f"the translator does not break {invariant!r} on this cassette: nothing to shrink")
    best = cassette.model_copy(deep=True)
    best.metadata.expect = None  # expectations of the original no longer describe the shrunk wire
    best.metadata.title = f"shrunk ({invariant}): {cassette.metadata.title}"
    progress = True
    while progress:
        progress = False
        for n in range(len(best.interactions) - 1, -1, -1):  # whole interactions
            if len(best.interactions) > 1:
                candidate = best.model_copy(deep=True)
                del candidate.interactions[n]
                if still(candidate):
                    best, progress = candidate, True
                    _say(on_step, f"dropped interaction {n}")
        for n, interaction in enumerate(best.interactions):
            if interaction.response.quirktape.offsets:  # recorded read boundaries
                candidate = best.model_copy(deep=True)
                candidate.interactions[n].response.quirktape.offsets = None
                candidate.interactions[n].response.quirktape.t_ms = None
                if still(candidate):
                    best, progress = candidate, True
                    _say(on_step, f"interaction {n}: one read")
            best, changed = _shrink_events(best, n, still, on_step)
            progress = progress or changed
    return best


def _is_event_stream(cassette: Cassette, index: int) -> bool:
    response = cassette.interactions[index].response
    return (
        response.is_stream and response.quirktape.dialect != "ollama" and response.raw.lstrip()[:1] not in (b"[", b"{")
    )


def _shrink_events(best: Cassette, index: int, still: Callable[[Cassette], bool], on_step) -> tuple[Cassette, bool]:
    if not _is_event_stream(best, index):
        return best, False
    events = sse_events(best.interactions[index].response.raw)
    changed = False
    size = max(len(events) // 2, 1)
    while size >= 1:  # drop runs of events, halving the run length (ddmin)
        start = 0
        while start < len(events):
            trial = events[:start] + events[start + size :]
            if trial and still(_with_body(best, index, trial)):
                events, changed = trial, True
                best = _with_body(best, index, events)
                _say(on_step, f"interaction {index}: {len(events)} events left")
            else:
                start += size
        size //= 2
    for position in range(len(events)):  # then make each remaining payload smaller
        name, data = events[position]
        try:
            payload = json.loads(data)
        except ValueError:
            continue
        improved = True
        while improved:
            improved = False
            for smaller in _smaller_payloads(payload):
                trial = events[:position] + [(name, json.dumps(smaller, ensure_ascii=False))] + events[position + 1 :]
                if still(_with_body(best, index, trial)):
                    payload, events, changed, improved = smaller, trial, True, True
                    best = _with_body(best, index, events)
                    break
        if changed:
            _say(on_step, f"interaction {index}: event {position} trimmed")
    return best, changed


def _say(on_step: Callable[[str], None] | None, message: str) -> None:
    if on_step:
        on_step(message)
