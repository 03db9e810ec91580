"""Answering an Anthropic client from a cassette: the translation, in the recorded pieces and pace.

``serve --as anthropic`` and ``ReplayTransport(side="anthropic")`` impersonate a gateway
rather than the upstream: a ``POST /v1/messages`` gets what the cassette's upstream said,
translated. Each upstream read is fed to the translator as it was recorded, and the events
it produced go out as one piece at that read's recorded time, so a client sees the same
rhythm a live gateway would have given it (a held-back tool call included).

Which interaction answers: the request's turn (how many assistant messages it carries)
picks the cassette's n-th exchange of the same kind (streamed or not). A turn the cassette
never recorded (a client's follow-up after running the recorded tool calls) gets a short
final answer that says so, so an agent does not loop; its ``stop_reason`` is ``end_turn``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from translator import Translator, encode_sse, reply_for

from ..tape import Cassette, Interaction
from .playback import TranslateFn, rechunk

FOLLOW_UP = "quirktape: the cassette has no recorded answer for this turn."
"""The text of the final answer to a turn the cassette did not record."""


PING = encode_sse({"type": "ping"})
PING_AFTER = 10.0
"""Default seconds of upstream silence before a ping (0 or None: never)."""


@dataclass
class Answer:
    """What goes back to the client: status, headers, and the body in timed pieces."""

    status: int
    headers: list[tuple[str, str]]
    pieces: list[bytes]
    t_ms: list[float] = field(default_factory=list)
    interaction: int | None = None  # which recorded exchange answered (None: a follow-up)


def turn_of(request: Any) -> int:
    """How many assistant turns the conversation already holds: which recorded exchange comes next."""
    messages = request.get("messages") if isinstance(request, dict) else None
    return sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant") if messages else 0


def pick(cassette: Cassette, request: Any) -> int | None:
    """The interaction that answers ``request``, or None when the cassette recorded no such turn."""
    streamed = bool(request.get("stream")) if isinstance(request, dict) else False
    kinds = [i for i, x in enumerate(cassette.interactions) if x.response.is_stream == streamed]
    if not kinds:  # a non-streaming request to a stream-only cassette: the stream, accumulated
        kinds = list(range(len(cassette.interactions)))
    turn = turn_of(request)
    return kinds[turn] if turn < len(kinds) else None


def timed_events(
    interaction: Interaction, options: dict | None, translate: TranslateFn | None, rechunk_strategy: str
) -> list[tuple[float, list[dict]]]:
    """The translation as ``(recorded ms, events)`` per upstream read.

    quirktape's translator is fed read by read; a translator under test (``translate``) takes
    the whole body at once, so its events all go out at the last read's time.
    """
    response = interaction.response
    tape = response.quirktape
    pieces = rechunk(response.raw, rechunk_strategy, tape.offsets)
    times = _times(tape.offsets, tape.t_ms, pieces)
    if translate is not None:
        events, _ = translate(
            pieces, tape.dialect, ending=tape.ending, status=response.status.code, options=options, keep_ir=False
        )
        return [(times[-1] if times else 0.0, events)]
    translator = Translator(tape.dialect, status=response.status.code, options=options)
    out = [(t, translator.feed(piece)) for t, piece in zip(times, pieces)]
    out.append((times[-1] if times else 0.0, translator.close(tape.ending)))
    return [(t, events) for t, events in out if events]


def _times(offsets: list[int] | None, t_ms: list[float] | None, pieces: list[bytes]) -> list[float]:
    """The recorded time of the read each piece starts in (0 when the cassette kept no timing)."""
    if not t_ms:
        return [0.0] * len(pieces)
    starts, pos, out, read = offsets or [0], 0, [], 0
    for piece in pieces:
        while read + 1 < len(starts) and starts[read + 1] <= pos:
            read += 1
        out.append(t_ms[read])
        pos += len(piece)
    return out


def answer(
    cassette: Cassette,
    request: Any,
    *,
    translate: TranslateFn | None = None,
    rechunk_strategy: str = "recorded",
    ping_after: float | None = PING_AFTER,
) -> Answer:
    """The Anthropic answer to ``request`` (a parsed ``/v1/messages`` body) from ``cassette``.

    ``ping_after``: seconds of recorded upstream silence after which a streamed answer sends
    ``event: ping`` (and again after each further such stretch), as a live gateway must so a
    client's idle watchdog does not end the turn; None or 0: never.
    """
    streamed = bool(request.get("stream")) if isinstance(request, dict) else False
    index = pick(cassette, request)
    if index is None:
        timed = [(0.0, follow_up(request))]
    else:
        timed = timed_events(
            cassette.interactions[index], cassette.metadata.options or None, translate, rechunk_strategy
        )
    if streamed:
        headers = [("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache")]
        pieces = [(t, b"".join(encode_sse(e) for e in events)) for t, events in timed]
        pieces = with_pings(pieces, ping_after * 1000 if ping_after else None)
        return Answer(200, headers, [p for _, p in pieces], [t for t, _ in pieces], index)
    status, body = reply_for([e for _, events in timed for e in events])
    text = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Answer(status, [("content-type", "application/json")], [text], [timed[-1][0] if timed else 0.0], index)


def with_pings(pieces: list[tuple[float, bytes]], every_ms: float | None) -> list[tuple[float, bytes]]:
    """``(ms, bytes)`` pieces with a ping inserted wherever the recorded gap between two is ``every_ms`` or more."""
    if not every_ms:
        return pieces
    out: list[tuple[float, bytes]] = []
    for n, (t, piece) in enumerate(pieces):
        if n:
            silent_since = pieces[n - 1][0]
            while t - silent_since >= every_ms:
                silent_since += every_ms
                out.append((silent_since, PING))
        out.append((t, piece))
    return out


def follow_up(request: Any) -> list[dict]:
    """A short, valid final answer for a turn the cassette did not record."""
    model = request.get("model") if isinstance(request, dict) and isinstance(request.get("model"), str) else "quirktape"
    usage = {"input_tokens": 0, "output_tokens": 0}
    return [
        {
            "type": "message_start",
            "message": {
                "id": f"msg_quirktape_followup_{turn_of(request)}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": usage,
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": FOLLOW_UP}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": usage},
        {"type": "message_stop"},
    ]
