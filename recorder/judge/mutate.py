"""Synthetic variants of a recorded stream (quirks.md part L).

Each variant changes the wire in a way the catalogue says must not change the
translation: CRLF line ends, comment lines between events, ``[DONE]`` removed
(when a finish reason still ends the stream), the usage-only chunk removed (usage
aside), the finish reason moved onto the last data chunk, and every tool-call index
rewritten to 0 (when calls carry distinct ids and do not interleave). A variant
that does not apply to a cassette is reported as such, never silently skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from translator import SSEDecoder, accumulate, translate_stream

from ..replay import TranslateFn, replay
from ..tape import Cassette, Interaction
from .oracle import comparable

Events = list[tuple[str | None, str]]


def sse_events(body: bytes) -> Events:
    decoder = SSEDecoder()
    return decoder.feed(body) + decoder.close()


def encode_events(events: Events) -> bytes:
    out = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        out.append(head + "".join(f"data: {line}\n" for line in data.split("\n")) + "\n")
    return "".join(out).encode()


def _payloads(events: Events) -> list[Any]:
    out = []
    for name, data in events:
        try:
            out.append(json.loads(data) if name is None else None)
        except ValueError:
            out.append(None)
    return out


def _choice(payload: Any) -> dict | None:
    choices = payload.get("choices") if isinstance(payload, dict) else None
    return choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def crlf(body: bytes, events: Events) -> bytes | str:
    return re.sub(rb"\r\n|\r|\n", b"\r\n", body)


def comments(body: bytes, events: Events) -> bytes | str:
    return b"".join(b": quirktape keepalive\n\n" + encode_events([event]) for event in events)


def no_done(body: bytes, events: Events) -> bytes | str:
    if not any((_choice(p) or {}).get("finish_reason") for p in _payloads(events)):
        return "no finish reason would end the stream without [DONE]"
    done = [n for n, e in enumerate(events) if e[1].strip() == "[DONE]"]
    if not done:
        return "no [DONE] to remove"
    if done[0] != len(events) - 1:
        return "data follows [DONE]: removing it changes the response (FIN-08)"
    return encode_events(events[:-1])


def no_usage(body: bytes, events: Events) -> bytes | str:
    payloads = _payloads(events)
    kept = [
        e for e, p in zip(events, payloads) if not (isinstance(p, dict) and p.get("choices") == [] and p.get("usage"))
    ]
    return encode_events(kept) if len(kept) < len(events) else "no usage-only chunk"


def finish_on_last(body: bytes, events: Events) -> bytes | str:
    payloads = _payloads(events)
    for n in range(len(payloads) - 1, 0, -1):
        choice = _choice(payloads[n])
        if choice and choice.get("finish_reason") and not choice.get("delta"):
            for m in range(n - 1, -1, -1):
                target = _choice(payloads[m])
                if target and target.get("delta") and not target.get("finish_reason"):
                    target["finish_reason"] = choice["finish_reason"]
                    for key in ("usage", "x_groq"):  # what rode on the finish chunk moves with it
                        if payloads[n].get(key) is not None:
                            payloads[m][key] = payloads[n][key]
                    rewritten = [(e[0], _dumps(payloads[m])) if i == m else e for i, e in enumerate(events)]
                    return encode_events(rewritten[:n] + rewritten[n + 1 :])
            break
    return "no separate finish chunk after a data chunk"


def index_zero(body: bytes, events: Events) -> bytes | str:
    payloads = _payloads(events)
    order: list[int] = []
    ids: dict[int, str] = {}
    for p in payloads:
        for call in ((_choice(p) or {}).get("delta") or {}).get("tool_calls") or []:
            index = call.get("index") if isinstance(call, dict) else None
            if not isinstance(index, int):
                return "tool calls without an index"
            if call.get("id"):
                ids.setdefault(index, call["id"])
            if not order or order[-1] != index:
                order.append(index)
    if not order:
        return "no tool calls"
    if len(order) != len(set(order)) or len(set(ids.values())) != len(order) or set(ids) != set(order):
        return "calls interleave or lack distinct ids, so index 0 would be ambiguous"
    rewritten = []
    for event, p in zip(events, payloads):
        calls = ((_choice(p) or {}).get("delta") or {}).get("tool_calls")
        if calls:
            for call in calls:
                call["index"] = 0
            event = (event[0], _dumps(p))
        rewritten.append(event)
    return encode_events(rewritten)


VARIANTS: dict[str, Callable[[bytes, Events], bytes | str]] = {
    "crlf": crlf,
    "comments": comments,
    "no-done": no_done,
    "no-usage": no_usage,
    "finish-on-last": finish_on_last,
    "index-zero": index_zero,
}
SSE_ONLY = {"comments", "no-done", "no-usage", "finish-on-last", "index-zero"}
OPENAI_ONLY = {"no-done", "no-usage", "finish-on-last", "index-zero"}


def _applies(interaction: Interaction, name: str) -> str | None:
    response = interaction.response
    if not response.is_stream or response.status.code >= 400:
        return "not a stream"
    if name in SSE_ONLY and (response.quirktape.dialect == "ollama" or response.raw.lstrip()[:1] in (b"[", b"{")):
        return "not an event stream"
    if name in OPENAI_ONLY and response.quirktape.dialect != "openai":
        return f"not an OpenAI stream ({response.quirktape.dialect})"
    return None


def mutate(cassette: Cassette, name: str) -> Cassette | str:
    """The cassette with variant ``name`` applied to its streams, or why it does not apply."""
    variant = VARIANTS[name]
    out = cassette.model_copy(deep=True)
    changed, reasons = False, []
    for interaction in out.interactions:
        why = _applies(interaction, name)
        if why is None:
            body = interaction.response.raw
            result = variant(body, sse_events(body))
            if result == body:
                result = "the wire is already like that"
            if isinstance(result, bytes):
                tape = interaction.response.quirktape
                interaction.response.body.string = (
                    result.decode("utf-8", "replace") if result.isascii() or _utf8(result) else result
                )
                tape.offsets, tape.t_ms = None, None
                if name == "no-done":
                    tape.ending = "eof"
                changed = True
                continue
            why = result
        reasons.append(why)
    if not changed:
        return "; ".join(dict.fromkeys(reasons))
    out.metadata.tags = [*out.metadata.tags, f"variant:{name}"]
    if name == "no-usage" and out.metadata.expect is not None:
        out.metadata.expect.usage = None  # the variant removes exactly what this expectation checked
    return out


def answers(cassette: Cassette, name: str, translate: TranslateFn = translate_stream) -> list[dict]:
    """What must stay the same under variant ``name``: the translation, with usage unless the variant drops it."""
    out = []
    for i in range(len(cassette.interactions)):
        events = replay(cassette, i, translate=translate).events
        answer = comparable(events)
        if name != "no-usage":
            answer["usage"] = (accumulate(events) or {}).get("usage")
        out.append(answer)
    return out


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
