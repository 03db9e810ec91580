"""Latency: how long the translation held each piece of content back after the upstream sent it.

Claude Code kills a stream that stays silent for a while, and a gateway that buffers a tool
call's arguments until the call ends goes quiet for seconds. quirktape records when each
upstream read arrived, so it can measure what nobody else does: the translator is fed the
recorded reads one at a time, and every unit of content (a text or reasoning character, a
tool call's start, an argument character) is matched with the read that brought it and the
read after which its event went out. The hold-back of a unit is the recorded time between
the two, and the number of upstream reads in between.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

from translator import Translator
from translator.ir import REASONING, TEXT, TOOL

from ..replay import rechunk
from ..tape import Cassette, body_of

UNITS = ("text", "reasoning", "tool start", "tool arguments")


@dataclass
class Hold:
    """The worst hold-back of one kind of content: how many reads, how many recorded milliseconds."""

    unit: str
    reads: int
    ms: float

    def __str__(self) -> str:
        return f"{self.unit}: held back {self.reads} upstream read(s), {self.ms:.1f} ms"


def _upstream_units(facts: list[tuple], seen: set) -> list[int]:
    counts = [0, 0, 0, 0]
    for fact in facts:
        kind = fact[0]
        if kind == TEXT:
            counts[0] += len(fact[1])
        elif kind == REASONING:
            counts[1] += len(fact[1])
        elif kind == TOOL:
            if fact[1] not in seen and fact[3]:
                seen.add(fact[1])
                counts[2] += 1
            counts[3] += len(fact[4] or "")
    return counts


def _output_units(events: list[dict]) -> list[int]:
    counts = [0, 0, 0, 0]
    for event in events:
        kind = event.get("type")
        if kind == "content_block_start" and event["content_block"].get("type") == "tool_use":
            counts[2] += 1
        elif kind == "content_block_delta":
            delta = event["delta"]
            dtype = delta.get("type")
            if dtype == "text_delta":
                counts[0] += len(delta["text"])
            elif dtype == "thinking_delta":
                counts[1] += len(delta["thinking"])
            elif dtype == "input_json_delta":
                counts[3] += len(delta["partial_json"])
    return counts


def holds(cassette: Cassette, index: int) -> list[Hold]:
    """The worst hold-back per kind of content for quirktape's translation of one streamed interaction.

    Content counts as arrived when the dialect parser read it out of a payload; a call a parser
    must hold whole until it closes (a Vertex call streaming ``partialArgs``) counts from the read
    that named it.
    """
    response = cassette.interactions[index].response
    tape = response.quirktape
    pieces = rechunk(body_of(response), "recorded", tape.offsets)
    options = cassette.metadata.options or None
    translator = Translator(tape.dialect, status=response.status.code, options=options, keep_ir=True)
    ir = translator.ir
    assert ir is not None
    held_calls = getattr(translator.parser, "calls_held", lambda: 0)
    seen: set = set()
    named: list[int] = []  # reads at which a held call was named, oldest first
    # per read, cumulative, for the kinds of content the stream has (made at the first): one entry per upstream read
    up: list[array | None] = [None] * len(UNITS)
    out: list[array | None] = [None] * len(UNITS)
    totals_up, totals_out = [0] * len(UNITS), [0] * len(UNITS)
    reads = 0
    for read, piece in enumerate(chain(pieces, (None,))):
        held = held_calls()
        events = translator.feed(piece) if piece is not None else translator.close(tape.ending)
        arrived = _upstream_units(ir, seen)
        ir.clear()  # the facts of this read are counted: none is kept
        if held_calls() > held:
            named.append(read)
        for k, (u, o) in enumerate(zip(arrived, _output_units(events))):
            totals_up[k] += u
            totals_out[k] += o
            ups, outs = up[k], out[k]
            if ups is None or outs is None:
                if not (totals_up[k] or totals_out[k]):
                    continue
                ups, outs = up[k], out[k] = array("q", bytes(8 * read)), array("q", bytes(8 * read))  # none so far
            ups.append(totals_up[k])
            outs.append(totals_out[k])
        starts = up[2]
        for _ in range(arrived[2]):  # a held call's start arrived when it was named
            if named and starts is not None:
                first = named.pop(0)
                for r in range(first, read):
                    starts[r] += 1
        reads = read
    times = tape.t_ms or [0.0] * max(reads, 1)
    return [_worst(unit, up[k] or (), out[k] or (), times) for k, unit in enumerate(UNITS) if totals_up[k]]


def _worst(unit: str, up: Sequence[int], out: Sequence[int], times: Sequence[float]) -> Hold:
    """The longest wait between a unit's arrival (``up``: cumulative per read) and its emission (``out``)."""
    worst, last = Hold(unit, 0, 0.0), len(times) - 1
    for r in range(len(out)):
        emitted_before = out[r - 1] if r else 0
        if out[r] == emitted_before:
            continue
        arrived = min(bisect_left(up, emitted_before + 1), r)  # the read that brought the first unit sent now
        wait = round(times[min(r, last)] - times[min(arrived, last)], 3)
        if (r - arrived, wait) > (worst.reads, worst.ms):
            worst = Hold(unit, r - arrived, wait)
    return worst
