"""The oracle: what "correct" means for one cassette, invariant by invariant.

grammar        the Anthropic event sequence is one the real API could send and the
               official SDK accepts (tool input included, parsed strictly)
coverage       every upstream payload, and every content field in it, was read by the
               judge's own parser or is declared metadata (a judge that did not read its
               input must not say green)
conservation   every upstream text/reasoning character, signature and tool call is in
               the output, in order, and nothing was invented
rechunk        the same bytes in other pieces give the same events
stream-nonstream  where a cassette has both, the accumulated stream equals the
               translated complete response (ids and usage aside)
expect         the cassette's own hand-written expectations hold
errors         an upstream error or a cut stream ends in an Anthropic ``error`` event,
               never a clean ``message_stop``

Every finding says what kind it is: ``spec`` (the Anthropic stream as the API sends it
and the SDK accepts it), ``data`` (content lost, invented, reordered or corrupted, with a
machine-readable kind such as ``call_lost``) or ``policy`` (quirktape's own conventions
beyond the spec). quirktape's translator fails on all three; a foreign translator is
warned on policy unless ``strict``, and compared ids-insensitively, since real gateways
mint new ids per call.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain, islice
from typing import Any
from urllib.parse import urlsplit

from translator import (
    Emitter,
    Translator,
    accumulate,
    normalize_arguments,
    stream_error,
    summary,
    translate_stream,
    violations,
)
from translator.coverage import TraceWalk
from translator.ir import CITATION, DONE, ERROR, FINISH, REASONING, REDACTED, SIGNATURE, TEXT, TOOL

from ..replay import Replay, TranslateFn, TranslatorFailed, pick, rechunk, replay, stream_events
from ..replay.playback import Pieces, _told
from ..tape import Cassette, CassetteError, Expect, Interaction, body_of
from .latency import holds

INVARIANTS = ("grammar", "coverage", "conservation", "rechunk", "stream-nonstream", "expect", "errors", "latency")
RECHUNKS = ("bytes", "lines", "random:1", "random:2", "random:3")
CATEGORIES = ("spec", "data", "policy")
DATA_KINDS = (
    "text_lost",
    "reasoning_lost",
    "call_lost",
    "args_lost",
    "name_lost",
    "call_split",
    "invented",
    "cut_as_success",
    "error_as_success",
    "crash",
    "unread",
    "citation_lost",
)
"""Machine-readable kinds of a ``data`` finding (``--json`` carries them)."""

_POLICY_GRAMMAR = ("empty text block",)
"""Grammar rules that are quirktape's convention, not the API's: the SDK accepts the stream either way."""


@dataclass
class Location:
    """Where in one interaction a finding happened, so that a picture of the cassette can mark it.

    ``read`` is the upstream read (an index into ``offsets``) that brought the data, ``payload`` the
    framed payload (numbered as ``coverage`` numbers them), ``event`` the event of the translation
    under test, ``ending`` the way the body ended (a cut, an error status). ``fact`` is the IR fact
    the oracle pointed at, kept until ``check_cassette`` places it in a payload and a read. A finding
    about the whole interaction (stream = non-stream, expect) has no place, only ``interaction``.
    """

    interaction: int = 0
    read: int | None = None
    payload: int | None = None
    event: int | None = None
    ending: bool = False
    fact: int | None = field(default=None, repr=False, compare=False)

    @property
    def placed(self) -> bool:
        return self.ending or any(v is not None for v in (self.read, self.payload, self.event))

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"interaction": self.interaction}
        for key in ("read", "payload", "event"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.ending:
            out["ending"] = True
        return out


@dataclass
class Finding:
    """One thing the oracle found: its category, its kind, what it is, whether it only warns, and where."""

    category: str
    kind: str
    detail: str
    warn: bool = False
    at: Location | None = None

    def __str__(self) -> str:
        return f"{self.category}/{self.kind}: {self.detail}"

    def as_json(self) -> dict[str, Any]:
        out = {"category": self.category, "kind": self.kind, "detail": self.detail, "warn": self.warn}
        if self.at is not None and self.at.placed:
            out["at"] = self.at.as_json()
        return out


@dataclass
class Check:
    invariant: str
    ok: bool | None  # None: does not apply to this cassette
    details: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.ok is None:
            return "skip"
        if not self.ok:
            return "FAIL"
        return "warn" if any(f.warn for f in self.findings) else "ok"

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        self.details.append(str(finding) if not finding.warn else f"warning: {finding}")
        if not finding.warn:
            self.ok = False


def _each_delta(events: list[dict], dtype: str, key: str) -> Iterator[tuple[int, Any]]:
    """The ``key`` of every delta of type ``dtype``, with its event's position (a foreign stream may be
    malformed: nothing here may crash)."""
    for pos, e in enumerate(events):
        delta = e.get("delta") if e.get("type") == "content_block_delta" else None
        if isinstance(delta, dict) and delta.get("type") == dtype:
            yield pos, delta.get(key)


def _differs_at(a: Sequence, b: Sequence) -> int:
    """The first position at which ``a`` and ``b`` differ (the shorter one's length when it is the other's start)."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def _holding(parts: list[tuple[int, str]], i: int) -> int | None:
    """The position of the part (``(position, text)``) that holds character ``i`` of the parts' texts joined."""
    for pos, text in parts:
        if i < len(text):
            return pos
        i -= len(text)
    return None


def _first_difference(a: str, b: str) -> str:
    i = _differs_at(a, b)
    if i < min(len(a), len(b)):
        return f"differs at character {i}: upstream {a[i : i + 30]!r}, output {b[i : i + 30]!r}"
    shorter = "output" if len(b) < len(a) else "upstream"
    return f"{shorter} is shorter ({len(a)} upstream vs {len(b)} output characters)"


def _text_kind(label: str, upstream: str, output: str) -> str:
    """Lost when the output holds less (or other) text than the upstream sent, invented when it holds more."""
    if len(output) > len(upstream) and output.startswith(upstream):
        return "invented"
    return f"{label}_lost"


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


def _message(events: Iterable[dict], text: bool = True) -> dict:
    try:
        return accumulate(events, text=text) or {"content": [], "usage": {}}
    except (IndexError, KeyError, TypeError, AttributeError) as exc:
        raise Unreadable(f"the events cannot be accumulated into a message ({type(exc).__name__}: {exc})") from None


_TEXTS = ((TEXT, "text_delta", "text", "text"), (REASONING, "thinking_delta", "thinking", "reasoning"))


def _digest() -> Any:
    return hashlib.blake2b(digest_size=20)


def conservation(run: Replay) -> list[Finding]:
    """What the upstream said (the IR) against what the output carries.

    One pass over each side (the IR, the events, and the events once more folded into a message for
    the tool calls): quirktape's own translation is made again at every pass, not held. Each text is
    compared by a digest of its pieces (the same joined text, whatever its cuts); only a text that
    differs is read again, to place the difference.
    """
    ir, events = run.ir or [], run.events
    upstream = {kind: _digest() for kind, *_ in _TEXTS}
    special: list[tuple[int, tuple]] = []  # signature, citation and redacted-reasoning facts, with their positions
    for k, fact in enumerate(ir):
        kind = fact[0]
        if kind in upstream:
            upstream[kind].update(fact[1].encode("utf-8", "surrogatepass"))
        elif kind in (SIGNATURE, CITATION, REDACTED):
            special.append((k, fact))
    output = {dtype: _digest() for _, dtype, *_ in _TEXTS}
    keys = {dtype: key for _, dtype, key, _ in _TEXTS}
    signatures: set = set()
    cited: list = []
    redacted: set = set()
    starts: list[int] = []  # each tool_use block's content_block_start
    for pos, e in enumerate(events):
        etype = e.get("type")
        if etype == "content_block_delta":
            delta = e.get("delta")
            dtype = delta.get("type") if isinstance(delta, dict) else None
            if dtype in output:
                value = delta.get(keys[dtype])  # type: ignore[union-attr]
                if isinstance(value, str):
                    output[dtype].update(value.encode("utf-8", "surrogatepass"))
            elif dtype == "signature_delta" and isinstance(delta.get("signature"), str):  # type: ignore[union-attr]
                signatures.add(delta["signature"])  # type: ignore[index]
            elif dtype == "citations_delta":
                cited.append(delta.get("citation"))  # type: ignore[union-attr]
        elif etype == "content_block_start":
            block = e.get("content_block")
            if isinstance(block, dict):
                redacted.add(block.get("data"))
                if block.get("type") == "tool_use":
                    starts.append(pos)
    found = [
        _text_finding(ir, events, kind, dtype, key, label)
        for kind, dtype, key, label in _TEXTS
        if upstream[kind].digest() != output[dtype].digest()
    ]
    found += _signatures([(k, f) for k, f in special if f[0] == SIGNATURE], signatures)
    for k, fact in special:
        if fact[0] == CITATION and fact[1] not in cited:
            detail = f"citation of {str(fact[1].get('url') or fact[1])[:80]} is missing"
            found.append(Finding("data", "citation_lost", detail, at=Location(fact=k)))
    for k, fact in special:
        if fact[0] == REDACTED and fact[1] and fact[1] not in redacted:
            detail = f"redacted reasoning {fact[1][:30]!r}… is missing"
            found.append(Finding("data", "reasoning_lost", detail, at=Location(fact=k)))
    try:
        blocks = [b for b in _message(events, text=False)["content"] if b.get("type") == "tool_use"]
    except Unreadable as exc:
        return [*found, Finding("spec", "grammar", str(exc))]
    return found + _calls(_upstream_calls(ir), blocks, starts)


def _text_finding(ir: Sequence[tuple], events: Sequence[dict], kind: str, dtype: str, key: str, label: str) -> Finding:
    """A text that differs: placed at the fact and the event of its first difference."""
    facts = [(k, f[1]) for k, f in enumerate(ir) if f[0] == kind]
    sent = [(k, t) for k, t in _each_delta(events, dtype, key) if isinstance(t, str)]
    upstream, output = "".join(t for _, t in facts), "".join(t for _, t in sent)
    i = _differs_at(upstream, output)
    at = Location(fact=_holding(facts, i), event=_holding(sent, i))
    detail = f"{label} {_first_difference(upstream, output)}"
    return Finding("data", _text_kind(label, upstream, output), detail, at=at)


def _signatures(facts: list[tuple[int, tuple]], output: set) -> list[Finding]:
    """Every signature must come back; for a foreign translator, its own encoding of it is a policy matter."""
    found = []
    for k, fact in facts:
        if not fact[1] or fact[1] in output:
            continue
        raw = fact[1].split(":", 2)[-1] if fact[1].startswith("gemini:") else fact[1]
        if any(raw in sig for sig in output):
            detail = f"signature {raw[:30]!r}… is carried in another encoding"
            found.append(Finding("policy", "signature_encoding", detail, at=Location(fact=k)))
        else:
            detail = f"signature {fact[1][:30]!r}… is missing"
            found.append(Finding("data", "reasoning_lost", detail, at=Location(fact=k)))
    return found


def _upstream_calls(ir: list[tuple]) -> list[dict]:
    calls: dict[object, dict] = {}
    for k, fact in enumerate(ir):
        if fact[0] == TOOL:
            call = calls.setdefault(fact[1], {"name": "", "args": [], "snapshot": None, "fact": k})
            call["name"] += fact[3] or ""
            if fact[4]:
                call["args"].append(fact[4])
            if fact[5] is not None:
                call["snapshot"] = fact[5]
    return [part for c in calls.values() if c["name"] for part in _split_values(c)]


def _calls(named: list[dict], blocks: list[dict], starts: Sequence[int] = ()) -> list[Finding]:
    """Upstream calls against the output's tool_use blocks; ``starts``: each block's ``content_block_start`` event.

    A lost call is placed at the first upstream call without its block (where the names part, else
    the first one past the blocks), an extra block at its own start event.
    """
    found = []
    counts = f"{len(named)} upstream tool call(s) but {len(blocks)} tool_use block(s)"
    if len(blocks) < len(named):
        n = _differs_at([c["name"] for c in named], [b.get("name") for b in blocks])
        found.append(Finding("data", "call_lost", counts, at=Location(fact=named[n]["fact"])))
    elif len(blocks) > len(named):
        names = {c["name"] for c in named}
        kind = "call_split" if named and all(b.get("name") in names for b in blocks) else "invented"
        found.append(Finding("data", kind, counts, at=Location(event=_nth(starts, len(named)))))
    for n, (call, block) in enumerate(zip(named, blocks)):
        at = Location(fact=call["fact"], event=_nth(starts, n))
        if call["name"] != block.get("name"):
            detail = f"tool call {n}: name {call['name']!r} became {block.get('name')!r}"
            found.append(Finding("data", "name_lost", detail, at=at))
        expected = _expected_input(call)
        if expected is not None and expected != block.get("input"):
            detail = f"tool call {n}: input {expected!r} became {block.get('input')!r}"
            found.append(Finding("data", "args_lost", detail, at=replace(at)))
        if not isinstance(block.get("input"), dict):
            found.append(Finding("spec", "grammar", f"tool call {n}: input is not an object", at=replace(at)))
    return found


def _nth(positions: Sequence[int], n: int) -> int | None:
    return positions[n] if n < len(positions) else None


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
    response = run.interaction.response
    if response.status.code >= 400:
        return f"HTTP {response.status.code}"
    kinds = {f[0] for f in run.ir or []}  # one pass: the IR may be made again at each
    if ERROR in kinds:
        return "an in-band upstream error"
    saw_done = DONE in kinds
    if response.quirktape.ending in ("reset", "timeout") and not saw_done:
        return f"connection {response.quirktape.ending}"
    if not saw_done and FINISH not in kinds:
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
        # an empty text block carries nothing: the grammar reports it (policy), the content comparison skips it
        content = [b for b in message["content"] if b.get("type") != "text" or b.get("text")]
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


def coverage(cassette: Cassette, index: int) -> list[Finding]:
    """The judge's own reading of one interaction's upstream body: anything it did not read is a finding."""
    response = cassette.interactions[index].response
    try:
        translator = Translator(
            response.quirktape.dialect,
            status=response.status.code,
            options=cassette.metadata.options or None,
            trace=True,
        )
        # each payload is judged as it is framed, and neither the trace nor the IR is kept: coverage
        # holds its findings, not the body (fed in bounded slices, so no read's events pile up either)
        walk = translator.trace = TraceWalk(translator.dialect, lambda: translator.whole is not None)
        translator.ir = _Dropped()
        body = body_of(response)
        for piece in Pieces(body, range(0, len(body), _SLICE)):
            translator.feed(piece)
        translator.close(response.quirktape.ending)
    except ValueError as exc:
        return [Finding("data", "unread", str(exc))]
    return [Finding("data", "unread", str(f), warn=f.gap, at=_at_payload(f.path)) for f in walk.findings]


_SLICE = 1 << 16
"""The bytes coverage feeds at a time."""


class _Dropped:
    """An IR list that keeps nothing (coverage reads the facts from its trace, one payload at a time)."""

    __slots__ = ()

    def extend(self, facts: object) -> None:
        pass


_PAYLOAD = re.compile(r"payload (\d+)\b")
_EVENT = re.compile(r"event (\d+)\b")


def _at_payload(path: str) -> Location | None:
    """``trace_findings`` names the payload first in each path (``payload 3 choices[0]…``): the place."""
    found = _PAYLOAD.match(path)
    return Location(payload=int(found.group(1))) if found else None


def _at_event(problem: str) -> Location | None:
    """The grammar and the SDK check name the event first in each problem (``event 7 (…): …``): the place."""
    found = _EVENT.match(problem)
    return Location(event=int(found.group(1))) if found else None


def sdk_problems(events: Iterable[dict]) -> list[str]:
    """Tool input the official SDK cannot parse: it re-parses the growing buffer after every delta, strictly.

    The same verdicts without the quadratic re-parse: a block's input is judged once, whole, when
    its block is over (a new start at its index, or the events' end). Whole input that starts an
    object or an array and parses is accepted at every delta too (the SDK's partial parser accepts
    every prefix of what it accepts, once a container has begun); when it does not parse, the first
    delta at which it stops parsing is found by halving (once one prefix fails, every longer one
    does). Input that is not a container, or judged without jiter, is read delta by delta as the SDK
    reads it.
    """
    try:
        from jiter import from_json  # the SDK's own parser, when the SDK is installed
    except ImportError:
        from_json = None
    problems: list[tuple[int, str]] = []
    buffers: dict[Any, list[tuple[int, str]]] = {}  # index -> (event position, partial_json) of each delta
    for pos, event in enumerate(events):
        if event.get("type") == "content_block_start" and (event.get("content_block") or {}).get("type") == "tool_use":
            index = event.get("index")
            if index in buffers:
                problems += _sdk_rejects(buffers.pop(index), from_json)
            buffers[index] = []
        elif event.get("type") == "content_block_delta" and event.get("index") in buffers:
            part = (event.get("delta") or {}).get("partial_json")
            if isinstance(part, str):
                buffers[event["index"]].append((pos, part))
    for parts in buffers.values():
        problems += _sdk_rejects(parts, from_json)
    return [problem for _, problem in sorted(problems, key=lambda p: p[0])]


def _sdk_rejects(parts: list[tuple[int, str]], from_json: Any) -> list[tuple[int, str]]:
    """The first delta of one block at which the SDK cannot parse the input so far (position, problem), if any."""
    text = "".join(part for _, part in parts)
    if from_json is not None and text.lstrip()[:1] in ("{", "["):
        if _strict_problem(text, from_json) is None:
            return []
        ends = list(_running_ends(parts))
        lo, hi = 0, len(parts) - 1  # the whole text fails: the first failing prefix is in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            if _strict_problem(text[: ends[mid]], from_json) is None:
                lo = mid + 1
            else:
                hi = mid
        return [_sdk_problem(parts[lo][0], text[: ends[lo]], from_json)]
    seen, flagged = "", False
    for pos, part in parts:
        seen += part
        if from_json is None and not flagged:  # without jiter only surrogate escapes are judged: look for one
            tail = seen[-(len(part) + 5) :].lower()
            flagged = "\\ud8" in tail or "\\udc" in tail
            if not flagged:
                continue
        if _strict_problem(seen, from_json):
            return [_sdk_problem(pos, seen, from_json)]
    return []


def _running_ends(parts: list[tuple[int, str]]) -> Iterator[int]:
    end = 0
    for _, part in parts:
        end += len(part)
        yield end


def _sdk_problem(pos: int, text: str, from_json: Any) -> tuple[int, str]:
    return pos, f"event {pos}: the SDK cannot parse the tool input {text[-60:]!r}: {_strict_problem(text, from_json)}"


def _strict_problem(text: str, from_json: Any) -> str | None:
    if not text.strip():
        return None
    if from_json is not None:
        try:
            from_json(text.encode("utf-8", "surrogatepass"), partial_mode=True)
        except ValueError as exc:
            return str(exc)
        return None
    if "\\ud8" in text.lower() or "\\udc" in text.lower():  # no jiter: the rule it applies to escapes
        try:
            json.dumps(json.loads(text), ensure_ascii=False).encode("utf-8")
        except (ValueError, UnicodeEncodeError) as exc:
            return f"a lone surrogate ({type(exc).__name__})"
    return None


def _without_ids(events: list[dict]) -> list[dict]:
    """Events with the ids a gateway mints per call taken out (message id, tool_use ids)."""
    out = []
    for e in events:
        if e.get("type") == "message_start":
            e = {**e, "message": {k: v for k, v in (e.get("message") or {}).items() if k != "id"}}
        elif e.get("type") == "content_block_start" and "id" in (e.get("content_block") or {}):
            e = {**e, "content_block": {k: v for k, v in e["content_block"].items() if k != "id"}}
        out.append(e)
    return out


def difference(want: list[dict], got: list[dict], foreign: bool, what: str) -> Finding | None:
    """How two translations of the same upstream data differ: in content (data) or only in events (policy)."""
    if foreign:
        want, got = _without_ids(want), _without_ids(got)
    if want == got:
        return None
    a, b = comparable(want), comparable(got)
    if a != b:
        return Finding("data", _summary_kind(a, b), f"{what} gives different content: {_digest_difference(a, b)}")
    return Finding("policy", "event_boundaries", f"{what} gives different events ({first_event_difference(want, got)})")


def _summary_kind(want: dict, got: dict) -> str:
    if want.get("error") != got.get("error"):
        return "error_as_success" if want.get("error") else "invented"
    wt, gt = want.get("tool_use") or [], got.get("tool_use") or []
    if len(gt) < len(wt):
        return "call_lost"
    if len(gt) > len(wt):
        return "call_split" if {t["name"] for t in gt} <= {t["name"] for t in wt} else "invented"
    for w, g in zip(wt, gt):
        if w["name"] != g["name"]:
            return "name_lost"
        if w["input"] != g["input"]:
            return "args_lost"
    for key, label in (("text", "text"), ("thinking", "reasoning")):
        if want.get(key) != got.get(key):
            return _text_kind(label, want.get(key) or "", got.get(key) or "")
    return "text_lost" if want.get("stop_reason") == got.get("stop_reason") else "stop_reason"


def _digest_difference(want: dict, got: dict) -> str:
    for key in want.keys() | got.keys():
        if want.get(key) != got.get(key):
            return (
                f"{key} {json.dumps(want.get(key), default=str)[:120]} vs {json.dumps(got.get(key), default=str)[:120]}"
            )
    return "?"


def check_cassette(
    cassette: Cassette,
    translate: TranslateFn = translate_stream,
    *,
    foreign: bool | None = None,
    strict: bool = False,
    max_holdback_ms: float | None = None,
) -> list[Check]:
    """Run every invariant over every interaction of ``cassette``.

    ``foreign`` (default: any translator but quirktape's) compares ids-insensitively and
    makes policy findings warnings, unless ``strict``. ``latency`` reports the worst hold-back of
    quirktape's translation; past ``max_holdback_ms`` recorded milliseconds it is a policy finding.
    """
    foreign = translate is not translate_stream if foreign is None else foreign
    results = {name: Check(name, True) for name in INVARIANTS}
    try:
        if translate is translate_stream:  # quirktape's own translation, made again when read
            runs = [_own_replay(cassette, i) for i in range(len(cassette.interactions))]
        else:
            runs = [replay(cassette, i, translate=translate) for i in range(len(cassette.interactions))]
    except TranslatorFailed as exc:
        for name in INVARIANTS[2:]:
            results[name].ok = None
        results["grammar"].add(Finding("data", "crash", str(exc)))
        for i in range(len(cassette.interactions)):
            for finding in coverage(cassette, i):
                results["coverage"].add(finding)
        return list(results.values())

    def add(name: str, run: Replay, finding: Finding) -> None:
        if finding.category == "policy":
            finding.warn = finding.warn or (foreign and not strict)
        if len(runs) > 1:
            finding.detail = f"interaction {run.index}: {finding.detail}"
        finding.at = finding.at or Location()
        finding.at.interaction = run.index
        results[name].add(finding)

    for run in runs:
        found = list(_judge(cassette, run, translate, foreign))
        _place(cassette, run, [finding for _, finding in found], own=translate is translate_stream)
        for name, finding in found:
            add(name, run, finding)
    if cassette.metadata.expect is None:
        results["expect"].ok = None
    streams = [r for r in runs if r.interaction.response.is_stream]
    wholes = [r for r in runs if not r.interaction.response.is_stream]
    if not streams or not getattr(translate, "rechunkable", True):
        results["rechunk"].ok = None
    twins = [
        (run, whole) for run in streams for whole in wholes[:1] if _same_request(run.interaction, whole.interaction)
    ]
    for run, whole in twins:
        got, want = comparable(run.events), comparable(whole.events)
        if got != want:
            detail = f"stream {got} != non-stream (interaction {whole.index}) {want}"
            add("stream-nonstream", run, Finding("data", _summary_kind(want, got), detail))
    if not twins:
        results["stream-nonstream"].ok = None
    _latency(cassette, streams, results["latency"], foreign, max_holdback_ms, add)
    return list(results.values())


def _latency(cassette: Cassette, streams: list[Replay], check: Check, foreign: bool, limit: float | None, add) -> None:
    """quirktape's own hold-back, read by read (a translator under test is called once, so its timing is not seen)."""
    if foreign or not streams:
        check.ok = None
        return
    for run in streams:
        worst = holds(cassette, run.index)
        check.details += [f"interaction {run.index}: {hold}" if len(streams) > 1 else str(hold) for hold in worst]
        for hold in worst:
            if limit is not None and hold.ms > limit:
                add("latency", run, Finding("policy", "held_back", f"{hold} (limit {limit:g} ms)"))


def _judge(cassette: Cassette, run: Replay, translate: TranslateFn, foreign: bool) -> Iterator[tuple[str, Finding]]:
    """Every finding on one interaction, with the invariant it belongs to (twins are judged together)."""
    for problem in violations(run.events):
        policy = any(rule in problem for rule in _POLICY_GRAMMAR)
        kind = "empty_block" if policy else "grammar"
        yield "grammar", Finding("policy" if policy else "spec", kind, problem, at=_at_event(problem))
    for problem in sdk_problems(run.events):
        yield "grammar", Finding("spec", "sdk_rejects", problem, at=_at_event(problem))
    for finding in coverage(cassette, run.index):
        yield "coverage", finding
    for finding in conservation(run):
        yield "conservation", finding
    if run.interaction.response.is_stream and getattr(translate, "rechunkable", True):
        agreed = _agreeing(cassette, run) if translate is translate_stream else {}
        for strategy in RECHUNKS:
            try:
                other = _rechunked(cassette, run, strategy, translate, agreed.get(strategy))
            except TranslatorFailed as exc:
                yield "rechunk", Finding("data", "crash", f"--rechunk {strategy}: {exc}")
                continue
            if other is None:
                continue
            found = difference(run.events, other, foreign, f"--rechunk {strategy}")
            if found:
                found.at = Location(event=_differs_at(run.events, other))
                yield "rechunk", found
    reason = upstream_failed(run)
    if reason:
        ended = [e.get("type") for e in run.events[-1:]]
        if ended != ["error"] or any(e.get("type") == "message_stop" for e in run.events):
            kind = "error_as_success" if reason.startswith(("HTTP", "an in-band")) else "cut_as_success"
            detail = f"upstream failed ({reason}) but the stream ended with {ended}"
            yield "errors", Finding("data", kind, detail, at=_failure_at(run, kind))
    if cassette.metadata.expect is not None:
        for problem in expect_problems(cassette.metadata.expect, run.events):
            usage = problem.startswith("usage.")
            yield "expect", Finding("policy" if usage else "data", "usage" if usage else "expect", problem)


def _failure_at(run: Replay, kind: str) -> Location:
    """An upstream error is placed at its error fact, a cut at the body's ending; both at the output's last event."""
    last = len(run.events) - 1 if run.events else None
    error = next((k for k, f in enumerate(run.ir or []) if f[0] == ERROR), None)
    if kind == "error_as_success" and error is not None:
        return Location(fact=error, event=last)
    return Location(event=last, ending=True)


def _rechunked(
    cassette: Cassette, run: Replay, strategy: str, translate: TranslateFn, agreed: bool | TranslatorFailed | None
) -> list[dict] | None:
    """The events of ``run``'s interaction with its body re-cut by ``strategy``; None when they are ``run.events``.

    For quirktape's translator, ``agreed`` is ``_agreeing``'s verdict: a rechunk that agrees is held
    nowhere, and only one that differs is translated again in full, for the finding. Another
    translator returns its events whole, and they are compared whole.
    """
    if isinstance(agreed, TranslatorFailed):
        raise agreed
    if agreed:
        return None
    return replay(cassette, run.index, strategy, translate=translate).events


def _agreeing(cassette: Cassette, run: Replay) -> dict[str, bool | TranslatorFailed]:
    """Whether quirktape's translator gives each re-cut body (``RECHUNKS``) the events of the recorded reads,
    or how it failed on it.

    Every re-cut is translated as its pieces are made and compared event by event with one pass over
    ``run.events`` (a pass makes quirktape's translation again: one for all the re-cuts, not one each).
    """
    pending = {strategy: stream_events(cassette, run.index, strategy) for strategy in RECHUNKS}
    verdicts: dict[str, bool | TranslatorFailed] = {}
    for want in chain(run.events, (_END,)):
        for strategy, events in list(pending.items()):
            try:
                got = next(events, _END)
            except CassetteError:
                raise
            except Exception as exc:  # as ``replay`` reports it: a finding, not a traceback
                verdicts[strategy] = TranslatorFailed(f"the translator raised {type(exc).__name__}: {exc}")
                del pending[strategy]
                continue
            if got is _END or want is _END or got != want:
                verdicts[strategy] = got is _END and want is _END
                del pending[strategy]
        if not pending:
            break
    return verdicts


_END = object()


def _request_key(interaction: Interaction) -> tuple[str, str]:
    """A request with its streaming switch taken out: two interactions with one key are twins."""
    body: Any = interaction.request.body or ""
    try:
        body = json.loads(body)
    except (TypeError, ValueError):
        pass
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    path = _STREAMING_METHOD.sub(":generateContent", urlsplit(interaction.request.uri).path)
    return path, json.dumps(body, sort_keys=True, default=str)


_STREAMING_METHOD = re.compile(":streamgeneratecontent", re.IGNORECASE)


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
    i = _differs_at(a, b)
    if i < min(len(a), len(b)):
        return f"event {i}: {json.dumps(a[i])[:120]} vs {json.dumps(b[i])[:120]}"
    return f"{len(a)} vs {len(b)} events"


# -- quirktape's own translation, made again when read -------------------------------------------


class _Again(Sequence):
    """quirktape's own translation of one interaction, its events or its IR facts, made again from the
    recorded reads each time it is read, never held.

    A check reads it a few dozen times; holding it cost as much memory as the body's text once more
    (and a list of dicts per chunk before that), so a long session's check grew with its body. A
    pass costs what a translation costs, a few µs a chunk. Its length and its last items are known
    from the first pass; any other position costs a pass.
    """

    __slots__ = ("_make", "_size", "_tail")

    def __init__(self, make: Callable[[], Iterator], size: int, tail: Sequence) -> None:
        self._make, self._size, self._tail = make, size, list(tail)

    def __iter__(self) -> Iterator:
        return self._make()

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            wanted = range(*i.indices(self._size))
        elif -self._size <= i < self._size:
            wanted = range(i % self._size, i % self._size + 1)
        else:
            raise IndexError("translation index out of range")
        if not wanted:
            return []
        first, last = min(wanted), max(wanted)
        held = self._size - len(self._tail)  # the position of the first item kept
        window = self._tail if first >= held else list(islice(self, first, last + 1))
        base = held if first >= held else first
        items = [window[k - base] for k in wanted]
        return items if isinstance(i, slice) else items[0]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (list, tuple, _Again)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]


_TAIL = 8  # items kept from the end of a translation: the errors check reads the last event


def _translation(cassette: Cassette, index: int) -> Iterator[tuple[list[dict], list[tuple]]]:
    """``replay``'s translation, read by read: the events and the IR facts each recorded read gave."""
    interaction = cassette.interactions[index]
    response = interaction.response
    tape = _told(index, interaction)
    translator = Translator(
        tape.dialect, status=response.status.code, options=cassette.metadata.options or None, keep_ir=True
    )
    made = translator.ir
    assert made is not None
    for piece in rechunk(body_of(response), "recorded", tape.offsets):
        yield translator.feed(piece), made
        made.clear()
    yield translator.close(tape.ending), made


def _own_replay(cassette: Cassette, index: int) -> Replay:
    """``replay`` with quirktape's translator (same errors), its events and IR made again when read (``_Again``)."""
    events, facts = 0, 0
    last_events: deque[dict] = deque(maxlen=_TAIL)
    last_facts: deque[tuple] = deque(maxlen=_TAIL)
    try:
        for made, read in _translation(cassette, index):
            events += len(made)
            facts += len(read)
            last_events.extend(made)
            last_facts.extend(read)
    except ValueError as exc:  # unknown dialect or option: bad input, not a crash
        raise CassetteError(str(exc)) from None
    except Exception as exc:  # as ``replay`` reports it
        raise TranslatorFailed(f"the translator raised {type(exc).__name__}: {exc}") from None

    def each_event() -> Iterator[dict]:
        return (event for made, _ in _translation(cassette, index) for event in made)

    def each_fact() -> Iterator[tuple]:
        return (fact for _, read in _translation(cassette, index) for fact in read)

    interaction = cassette.interactions[index]
    return Replay(index, interaction, _Again(each_event, events, last_events), _Again(each_fact, facts, last_facts))  # type: ignore[arg-type]


# -- where findings happened --------------------------------------------------------------------


@dataclass
class Payload:
    """One payload the framing yielded: the read that completed it, what the dialect read from it, what it caused.

    ``events`` are positions in ``Timeline.events``; ``absorbed``: the parser took content from it
    that comes out as facts later (a ``<think>`` tag, a Vertex call still streaming its arguments).
    """

    read: int
    name: str | None  # the SSE event name; None for data-only, JSON-array, NDJSON and whole payloads
    text: str
    facts: list[tuple]
    events: range
    absorbed: bool


@dataclass
class Timeline:
    """quirktape's translation of one interaction, fed read by read as recorded: which read brought which
    payload, and which events each payload caused (``closing``: those the body's end caused).

    The oracle places its findings with it; ``quirktape view`` draws it.
    """

    index: int
    reads: list[tuple[int, int]]  # the byte range of each read
    ending: str
    payloads: list[Payload]
    events: list[dict]
    closing: range
    ir: list[tuple]

    def payload_of_fact(self, fact: int) -> int | None:
        """The payload an IR fact was read from; None for the facts the body's end flushed."""
        starts = list(_running([len(p.facts) for p in self.payloads]))
        n = bisect_right(starts, fact) - 1
        return n if 0 <= n < len(self.payloads) and fact < starts[n] + len(self.payloads[n].facts) else None

    def payload_of_event(self, event: int) -> int | None:
        """The payload whose facts caused an event; None for the events of the body's end."""
        for n, payload in enumerate(self.payloads):
            if event in payload.events:
                return n
        return None


def _running(sizes: list[int]) -> Iterator[int]:
    total = 0
    for size in sizes:
        yield total
        total += size


class _Marking(Emitter):
    """The emitter, noting where the events of each ``apply`` begin: which payload caused which events."""

    def __init__(self, trace: list) -> None:
        super().__init__()
        self.trace, self.taken = trace, 0
        self.marks: list[tuple[int | None, int]] = []  # (payload, or None for the body's end; first event)

    def apply(self, facts: list[tuple]) -> None:
        self.marks.append((len(self.trace) - 1, self.taken + len(self.out)))
        super().apply(facts)

    def end(self, cut: str | None = None) -> None:
        self.marks.append((None, self.taken + len(self.out)))
        super().end(cut)

    def take(self) -> list[dict]:
        out = super().take()
        self.taken += len(out)
        return out


def timeline(cassette: Cassette, index: int | None = None) -> Timeline:
    """quirktape's translation of one interaction (``replay``'s pieces and events) with its trace, read by read."""
    i = pick(cassette, index)
    response = cassette.interactions[i].response
    tape = response.quirktape
    pieces = rechunk(body_of(response), "recorded", tape.offsets)
    try:
        translator = Translator(
            tape.dialect or "", status=response.status.code, options=cassette.metadata.options or None, trace=True
        )
    except ValueError as exc:
        raise CassetteError(f"interaction {i}: {exc}") from None
    trace = translator.trace if translator.trace is not None else []
    emitter = translator.emitter = _Marking(trace)
    events: list[dict] = []
    read_of: list[int] = []
    for n, piece in enumerate(pieces):
        events += translator.feed(piece)
        read_of += [n] * (len(trace) - len(read_of))
    framed, marked = len(trace), len(emitter.marks)
    events += translator.close(tape.ending)
    read_of += [max(len(pieces) - 1, 0)] * (len(trace) - len(read_of))  # framed only once the body ended
    spans: dict[int | None, list[int]] = {}
    bounds = [*emitter.marks, (None, len(events))]
    for m, ((owner, start), (_, end)) in enumerate(zip(bounds, bounds[1:])):
        if owner is not None and m >= marked and owner < framed:
            owner = None  # the end flushed what the parser held: the body's end caused it, not the last payload
        span = spans.setdefault(owner, [start, end])
        span[0], span[1] = min(span[0], start), max(span[1], end)
    cuts = pieces.cuts if len(pieces) else []
    size = len(pieces.body)
    reads = [(a, cuts[n + 1] if n + 1 < len(cuts) else size) for n, a in enumerate(cuts)]
    payloads, absorbed = [], 0
    for n, (name, text, facts, count) in enumerate(trace):
        payloads.append(Payload(read_of[n], name, text, facts, range(*spans.get(n, (0, 0))), count != absorbed))
        absorbed = count
    closing = spans.get(None, [len(events), len(events)])
    return Timeline(i, reads, tape.ending, payloads, events, range(*closing), translator.ir or [])


def _place(cassette: Cassette, run: Replay, findings: list[Finding], own: bool) -> None:
    """Put each located finding in its payload and read, from the timeline (built only when one needs it).

    An IR fact is placed when the translation's IR is quirktape's (a foreign translator that returns
    its own IR is placed by its events only); an event is placed in a payload only when the events
    are quirktape's own (``own``): a foreign translator's events do not come payload by payload.
    """
    todo = [f.at for f in findings if f.at is not None and f.at.read is None and not f.at.ending]
    todo = [at for at in todo if at.fact is not None or at.payload is not None or (own and at.event is not None)]
    if not todo:
        return
    line = timeline(cassette, run.index)
    same_ir = run.ir == line.ir
    for at in todo:
        if at.payload is None and at.fact is not None and same_ir:
            at.payload = line.payload_of_fact(at.fact)
            at.ending = at.payload is None
        elif at.payload is None and at.event is not None and own:
            at.payload = line.payload_of_event(at.event)
            at.ending = at.payload is None
        if at.payload is not None and at.payload < len(line.payloads):
            at.read = line.payloads[at.payload].read
