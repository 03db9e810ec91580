"""The oracle: what "correct" means for one cassette, invariant by invariant.

grammar        the Anthropic event sequence is valid
conservation   every upstream text/reasoning character, signature and tool call is in
               the output, in order, and nothing was invented
rechunk        the same bytes in other pieces give the same events
stream-nonstream  where a cassette has both, the accumulated stream equals the
               translated complete response (ids and usage aside)
expect         the cassette's own hand-written expectations hold
errors         an upstream error or a cut stream ends in an Anthropic ``error`` event,
               never a clean ``message_stop``
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from translator import accumulate, normalize_arguments, stream_error, summary, violations
from translator.ir import DONE, ERROR, FINISH, REASONING, REDACTED, SIGNATURE, TEXT, TOOL

from .cassette import Cassette, Expect, Interaction
from .replay import Replay, TranslateFn, TranslatorFailed, replay, translate_stream

INVARIANTS = ("grammar", "conservation", "rechunk", "stream-nonstream", "expect", "errors")
RECHUNKS = ("bytes", "lines", "random:1", "random:2", "random:3")


@dataclass
class Check:
    invariant: str
    ok: bool | None  # None: does not apply to this cassette
    details: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "skip" if self.ok is None else ("ok" if self.ok else "FAIL")


def _deltas(events: list[dict], dtype: str, key: str) -> list[str]:
    return [
        e["delta"][key] for e in events if e.get("type") == "content_block_delta" and e["delta"].get("type") == dtype
    ]


def _first_difference(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"differs at character {i}: upstream {a[i : i + 30]!r}, output {b[i : i + 30]!r}"
    shorter = "output" if len(b) < len(a) else "upstream"
    return f"{shorter} is shorter ({len(a)} upstream vs {len(b)} output characters)"


def _expected_input(call: dict) -> Any:
    if call["snapshot"] is not None:
        return normalize_arguments(call["snapshot"])
    text = "".join(call["args"])
    try:
        json.loads(text)
    except ValueError:
        return None  # cut or broken JSON: only "an object" can be required
    return normalize_arguments(text)


class Unreadable(Exception):
    """The events cannot even be folded into a message."""


def _message(events: list[dict]) -> dict:
    try:
        return accumulate(events) or {"content": [], "usage": {}}
    except (IndexError, KeyError, TypeError, AttributeError) as exc:
        raise Unreadable(f"the events cannot be accumulated into a message ({type(exc).__name__}: {exc})") from None


def conservation(run: Replay) -> list[str]:
    ir, events = run.ir or [], run.events
    problems = []
    for kind, dtype, key, label in (
        (TEXT, "text_delta", "text", "text"),
        (REASONING, "thinking_delta", "thinking", "reasoning"),
    ):
        upstream = "".join(f[1] for f in ir if f[0] == kind)
        output = "".join(_deltas(events, dtype, key))
        if upstream != output:
            problems.append(f"{label} {_first_difference(upstream, output)}")
    signatures = set(_deltas(events, "signature_delta", "signature"))
    for fact in ir:
        if fact[0] == SIGNATURE and fact[1] and fact[1] not in signatures:
            problems.append(f"signature {fact[1][:30]!r}… is missing")
    redacted = {e["content_block"].get("data") for e in events if e.get("type") == "content_block_start"}
    for fact in ir:
        if fact[0] == REDACTED and fact[1] and fact[1] not in redacted:
            problems.append(f"redacted reasoning {fact[1][:30]!r}… is missing")
    calls: dict[object, dict] = {}
    for fact in ir:
        if fact[0] == TOOL:
            call = calls.setdefault(fact[1], {"name": "", "args": [], "snapshot": None})
            call["name"] += fact[3] or ""
            if fact[4]:
                call["args"].append(fact[4])
            if fact[5] is not None:
                call["snapshot"] = fact[5]
    named = [part for c in calls.values() if c["name"] for part in _split_values(c)]
    try:
        blocks = [b for b in _message(events)["content"] if b.get("type") == "tool_use"]
    except Unreadable as exc:
        return [*problems, str(exc)]
    if len(blocks) != len(named):
        problems.append(f"{len(named)} upstream tool call(s) but {len(blocks)} tool_use block(s)")
    for n, (call, block) in enumerate(zip(named, blocks)):
        if call["name"] != block["name"]:
            problems.append(f"tool call {n}: name {call['name']!r} became {block['name']!r}")
        expected = _expected_input(call)
        if expected is not None and expected != block["input"]:
            problems.append(f"tool call {n}: input {expected!r} became {block['input']!r}")
        if not isinstance(block["input"], dict):
            problems.append(f"tool call {n}: input is not an object")
    return problems


def _split_values(call: dict) -> list[dict]:
    """TC-07: one upstream call whose arguments are several complete objects is several calls."""
    text = "".join(call["args"])
    if call["snapshot"] is not None:
        return [call]
    decoder, pos, values = json.JSONDecoder(), 0, []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos == len(text):
            break
        try:
            _, end = decoder.raw_decode(text, pos)
        except ValueError:
            return [call] if not values else [*values, {**call, "args": [text[pos:]]}]
        values.append({**call, "args": [text[pos:end]]})
        pos = end
    return values if len(values) > 1 else [call]


def upstream_failed(run: Replay) -> str | None:
    """Why the upstream response did not complete, judged from the wire alone."""
    ir = run.ir or []
    response = run.interaction.response
    if response.status.code >= 400:
        return f"HTTP {response.status.code}"
    if any(f[0] == ERROR for f in ir):
        return "an in-band upstream error"
    saw_done = any(f[0] == DONE for f in ir)
    if response.quirktape.ending in ("reset", "timeout") and not saw_done:
        return f"connection {response.quirktape.ending}"
    if not saw_done and not any(f[0] == FINISH for f in ir):
        return "neither a finish reason nor an end-of-stream marker"
    return None


def _block_mismatch(n: int, want: dict, got: dict | None) -> list[str]:
    if got is None:
        return [f"block {n}: expected {want}, got nothing"]
    out = []
    for key, value in want.items():
        if got.get(key) != value:
            out.append(f"block {n}: {key} expected {value!r}, got {got.get(key)!r}")
    return out


def expect_problems(expect: Expect, events: list[dict]) -> list[str]:
    problems: list[str] = []
    try:
        message = _message(events)
    except Unreadable as exc:
        return [str(exc)]
    error = stream_error(events)
    if expect.content is not None:
        content = message["content"]
        for n, want in enumerate(expect.content):
            problems += _block_mismatch(n, want, content[n] if n < len(content) else None)
        for n in range(len(expect.content), len(content)):
            problems.append(f"block {n}: unexpected {content[n].get('type')} block {content[n]}")
    for key in ("stop_reason", "stop_sequence"):
        want = getattr(expect, key)
        if want is not None and message.get(key) != want:
            problems.append(f"{key} expected {want!r}, got {message.get(key)!r}")
    for key, want in (expect.usage or {}).items():
        got = message.get("usage", {}).get(key)
        if got != want:
            problems.append(f"usage.{key} expected {want}, got {got}")
    if expect.error is not None:
        if error is None:
            problems.append(f"expected an error event {expect.error}, the stream ended without one")
        elif "type" in expect.error and error.get("type") != expect.error["type"]:
            problems.append(f"error type expected {expect.error['type']!r}, got {error.get('type')!r}")
    elif error is not None:
        problems.append(f"unexpected error event: {error}")
    return problems


_EXPECT_KEYS = {
    "text": ("text",),
    "thinking": ("thinking",),
    "tool_use": ("name", "input"),
    "redacted_thinking": ("data",),
}


def expect_from(events: list[dict]) -> Expect:
    """The ``expect`` that the translation ``events`` satisfies (``--quirktape-update``, bug reports).

    Content blocks with their type and text / thinking / name and input / data; the stop reason
    (and stop sequence, when one matched); ``input_tokens`` and ``output_tokens``; ``error`` with
    its type when the stream ends in an Anthropic error. Raises ``Unreadable`` when the events
    cannot be folded into a message.
    """
    message = _message(events)
    content = []
    for block in message.get("content") or []:
        kind = block.get("type")
        want: dict[str, Any] = {"type": kind}
        for key in _EXPECT_KEYS.get(kind, ()):
            if key in block:
                want[key] = block[key]
        content.append(want)
    usage = message.get("usage") or {}
    error = stream_error(events)
    return Expect(
        content=content,
        stop_reason=message.get("stop_reason"),
        stop_sequence=message.get("stop_sequence") or None,
        usage={
            key: usage[key]
            for key in ("input_tokens", "output_tokens")
            if isinstance(usage.get(key), int) and not isinstance(usage.get(key), bool)
        }
        or None,
        error=None if error is None else ({"type": error["type"]} if error.get("type") else {}),
    )


def check_cassette(cassette: Cassette, translate: TranslateFn = translate_stream) -> list[Check]:
    """Run every invariant over every interaction of ``cassette``."""
    results = {name: Check(name, True) for name in INVARIANTS}
    try:
        runs = [replay(cassette, i, translate=translate) for i in range(len(cassette.interactions))]
    except TranslatorFailed as exc:
        return [Check(name, False, [str(exc)]) if name == "grammar" else Check(name, None) for name in INVARIANTS]

    def fail(name: str, run: Replay, problems: list[str]) -> None:
        if problems:
            results[name].ok = False
            prefix = f"interaction {run.index}: " if len(runs) > 1 else ""
            results[name].details += [prefix + p for p in problems]

    for run in runs:
        fail("grammar", run, violations(run.events))
        fail("conservation", run, conservation(run))
        if run.interaction.response.is_stream:
            for strategy in RECHUNKS:
                try:
                    other = replay(cassette, run.index, strategy, translate=translate).events
                except TranslatorFailed as exc:
                    fail("rechunk", run, [f"--rechunk {strategy}: {exc}"])
                    continue
                if other != run.events:
                    fail(
                        "rechunk",
                        run,
                        [f"--rechunk {strategy} gives different events ({first_event_difference(run.events, other)})"],
                    )
        reason = upstream_failed(run)
        if reason:
            ended = [e.get("type") for e in run.events[-1:]]
            if ended != ["error"] or any(e.get("type") == "message_stop" for e in run.events):
                fail("errors", run, [f"upstream failed ({reason}) but the stream ended with {ended}"])
        if cassette.metadata.expect is not None:
            fail("expect", run, expect_problems(cassette.metadata.expect, run.events))
    if cassette.metadata.expect is None:
        results["expect"].ok = None
    streams = [r for r in runs if r.interaction.response.is_stream]
    wholes = [r for r in runs if not r.interaction.response.is_stream]
    if not streams:
        results["rechunk"].ok = None
    twins = [
        (run, whole) for run in streams for whole in wholes[:1] if _same_request(run.interaction, whole.interaction)
    ]
    for run, whole in twins:
        got, want = comparable(run.events), comparable(whole.events)
        if got != want:
            fail("stream-nonstream", run, [f"stream {got} != non-stream (interaction {whole.index}) {want}"])
    if not twins:
        results["stream-nonstream"].ok = None
    return [results[name] for name in INVARIANTS]


def _request_key(interaction: Interaction) -> tuple[str, str]:
    """A request with its streaming switch taken out: two interactions with one key are twins."""
    body: Any = interaction.request.body or ""
    try:
        body = json.loads(body)
    except (TypeError, ValueError):
        pass
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    path = urlsplit(interaction.request.uri).path.replace(":streamGenerateContent", ":generateContent")
    return path, json.dumps(body, sort_keys=True, default=str)


def _same_request(a: Interaction, b: Interaction) -> bool:
    return _request_key(a) == _request_key(b)


def comparable(events: list[dict]) -> dict:
    """What two translations of one response must share: content, stop reason, error type (ids, usage aside)."""
    try:
        digest = summary(_message(events))
    except Unreadable as exc:
        return {"error": str(exc)}
    digest.pop("usage", None)
    digest["error"] = (stream_error(events) or {}).get("type")
    return digest


def first_event_difference(a: list[dict], b: list[dict]) -> str:
    """The first event at which two translations part, in one line (``diff.event_diff`` shows all)."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"event {i}: {json.dumps(x)[:120]} vs {json.dumps(y)[:120]}"
    return f"{len(a)} vs {len(b)} events"
