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

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from translator import (
    Translator,
    accumulate,
    normalize_arguments,
    stream_error,
    summary,
    translate_stream,
    violations,
)
from translator.coverage import trace_findings
from translator.ir import CITATION, DONE, ERROR, FINISH, REASONING, REDACTED, SIGNATURE, TEXT, TOOL

from ..replay import Replay, TranslateFn, TranslatorFailed, replay, stream_events
from ..tape import Cassette, CassetteError, Expect, Interaction
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
class Finding:
    """One thing the oracle found: its category, its kind, what it is, and whether it only warns."""

    category: str
    kind: str
    detail: str
    warn: bool = False

    def __str__(self) -> str:
        return f"{self.category}/{self.kind}: {self.detail}"

    def as_json(self) -> dict[str, Any]:
        return {"category": self.category, "kind": self.kind, "detail": self.detail, "warn": self.warn}


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


def _deltas(events: list[dict], dtype: str, key: str) -> list:
    """The ``key`` of every delta of type ``dtype`` (a foreign stream may be malformed: nothing here may crash)."""
    out = []
    for e in events:
        delta = e.get("delta") if e.get("type") == "content_block_delta" else None
        if isinstance(delta, dict) and delta.get("type") == dtype:
            out.append(delta.get(key))
    return out


def _first_difference(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
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


def _message(events: list[dict]) -> dict:
    try:
        return accumulate(events) or {"content": [], "usage": {}}
    except (IndexError, KeyError, TypeError, AttributeError) as exc:
        raise Unreadable(f"the events cannot be accumulated into a message ({type(exc).__name__}: {exc})") from None


def conservation(run: Replay) -> list[Finding]:
    """What the upstream said (the IR) against what the output carries."""
    ir, events = run.ir or [], run.events
    found = []
    for kind, dtype, key, label in (
        (TEXT, "text_delta", "text", "text"),
        (REASONING, "thinking_delta", "thinking", "reasoning"),
    ):
        upstream = "".join(f[1] for f in ir if f[0] == kind)
        output = "".join(t for t in _deltas(events, dtype, key) if isinstance(t, str))
        if upstream != output:
            found.append(
                Finding("data", _text_kind(label, upstream, output), f"{label} {_first_difference(upstream, output)}")
            )
    found += _signatures(ir, events)
    cited = _deltas(events, "citations_delta", "citation")
    for fact in ir:
        if fact[0] == CITATION and fact[1] not in cited:
            found.append(
                Finding("data", "citation_lost", f"citation of {str(fact[1].get('url') or fact[1])[:80]} is missing")
            )
    blocks = [e.get("content_block") for e in events if e.get("type") == "content_block_start"]
    redacted = {b.get("data") for b in blocks if isinstance(b, dict)}
    for fact in ir:
        if fact[0] == REDACTED and fact[1] and fact[1] not in redacted:
            found.append(Finding("data", "reasoning_lost", f"redacted reasoning {fact[1][:30]!r}… is missing"))
    try:
        blocks = [b for b in _message(events)["content"] if b.get("type") == "tool_use"]
    except Unreadable as exc:
        return [*found, Finding("spec", "grammar", str(exc))]
    return found + _calls(_upstream_calls(ir), blocks)


def _signatures(ir: list[tuple], events: list[dict]) -> list[Finding]:
    """Every signature must come back; for a foreign translator, its own encoding of it is a policy matter."""
    output = {s for s in _deltas(events, "signature_delta", "signature") if isinstance(s, str)}
    found = []
    for fact in ir:
        if fact[0] != SIGNATURE or not fact[1] or fact[1] in output:
            continue
        raw = fact[1].split(":", 2)[-1] if fact[1].startswith("gemini:") else fact[1]
        if any(raw in sig for sig in output):
            found.append(
                Finding("policy", "signature_encoding", f"signature {raw[:30]!r}… is carried in another encoding")
            )
        else:
            found.append(Finding("data", "reasoning_lost", f"signature {fact[1][:30]!r}… is missing"))
    return found


def _upstream_calls(ir: list[tuple]) -> list[dict]:
    calls: dict[object, dict] = {}
    for fact in ir:
        if fact[0] == TOOL:
            call = calls.setdefault(fact[1], {"name": "", "args": [], "snapshot": None})
            call["name"] += fact[3] or ""
            if fact[4]:
                call["args"].append(fact[4])
            if fact[5] is not None:
                call["snapshot"] = fact[5]
    return [part for c in calls.values() if c["name"] for part in _split_values(c)]


def _calls(named: list[dict], blocks: list[dict]) -> list[Finding]:
    found = []
    if len(blocks) < len(named):
        found.append(
            Finding("data", "call_lost", f"{len(named)} upstream tool call(s) but {len(blocks)} tool_use block(s)")
        )
    elif len(blocks) > len(named):
        names = {c["name"] for c in named}
        kind = "call_split" if named and all(b.get("name") in names for b in blocks) else "invented"
        found.append(Finding("data", kind, f"{len(named)} upstream tool call(s) but {len(blocks)} tool_use block(s)"))
    for n, (call, block) in enumerate(zip(named, blocks)):
        if call["name"] != block.get("name"):
            found.append(
                Finding("data", "name_lost", f"tool call {n}: name {call['name']!r} became {block.get('name')!r}")
            )
        expected = _expected_input(call)
        if expected is not None and expected != block.get("input"):
            found.append(
                Finding("data", "args_lost", f"tool call {n}: input {expected!r} became {block.get('input')!r}")
            )
        if not isinstance(block.get("input"), dict):
            found.append(Finding("spec", "grammar", f"tool call {n}: input is not an object"))
    return found


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
        translator.feed(response.raw)
        translator.close(response.quirktape.ending)
    except ValueError as exc:
        return [Finding("data", "unread", str(exc))]
    whole = translator.whole is not None
    return [
        Finding("data", "unread", str(f), warn=f.gap)
        for f in trace_findings(translator.dialect, translator.trace or [], whole)
    ]


def sdk_problems(events: list[dict]) -> list[str]:
    """Tool input the official SDK cannot parse: it re-parses the growing buffer after every delta, strictly."""
    try:
        from jiter import from_json  # the SDK's own parser, when the SDK is installed
    except ImportError:
        from_json = None
    problems, buffers = [], {}
    for pos, event in enumerate(events):
        if event.get("type") == "content_block_start" and (event.get("content_block") or {}).get("type") == "tool_use":
            buffers[event.get("index")] = ""
        elif event.get("type") == "content_block_delta" and event.get("index") in buffers:
            part = (event.get("delta") or {}).get("partial_json")
            if not isinstance(part, str):
                continue
            text = buffers[event["index"]] = buffers[event["index"]] + part
            problem = _strict_problem(text, from_json)
            if problem:
                problems.append(f"event {pos}: the SDK cannot parse the tool input {text[-60:]!r}: {problem}")
                buffers.pop(event["index"])
    return problems


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
        results[name].add(finding)

    for run in runs:
        for name, finding in _judge(cassette, run, translate, foreign):
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
        yield "grammar", Finding("policy" if policy else "spec", "empty_block" if policy else "grammar", problem)
    for problem in sdk_problems(run.events):
        yield "grammar", Finding("spec", "sdk_rejects", problem)
    for finding in coverage(cassette, run.index):
        yield "coverage", finding
    for finding in conservation(run):
        yield "conservation", finding
    if run.interaction.response.is_stream and getattr(translate, "rechunkable", True):
        for strategy in RECHUNKS:
            try:
                other = _rechunked(cassette, run, strategy, translate)
            except TranslatorFailed as exc:
                yield "rechunk", Finding("data", "crash", f"--rechunk {strategy}: {exc}")
                continue
            if other is None:
                continue
            found = difference(run.events, other, foreign, f"--rechunk {strategy}")
            if found:
                yield "rechunk", found
    reason = upstream_failed(run)
    if reason:
        ended = [e.get("type") for e in run.events[-1:]]
        if ended != ["error"] or any(e.get("type") == "message_stop" for e in run.events):
            kind = "error_as_success" if reason.startswith(("HTTP", "an in-band")) else "cut_as_success"
            yield "errors", Finding("data", kind, f"upstream failed ({reason}) but the stream ended with {ended}")
    if cassette.metadata.expect is not None:
        for problem in expect_problems(cassette.metadata.expect, run.events):
            usage = problem.startswith("usage.")
            yield "expect", Finding("policy" if usage else "data", "usage" if usage else "expect", problem)


def _rechunked(cassette: Cassette, run: Replay, strategy: str, translate: TranslateFn) -> list[dict] | None:
    """The events of ``run``'s interaction with its body re-cut by ``strategy``; None when they are ``run.events``.

    quirktape's translator is compared event by event as the re-cut pieces are fed (both made
    lazily), so a rechunk that agrees holds neither its pieces nor its events; only one that
    differs is translated again in full, for the finding. Another translator returns its events
    whole, and they are compared whole.
    """
    if translate is translate_stream:
        try:
            if _same_events(run.events, stream_events(cassette, run.index, strategy)):
                return None
        except CassetteError:
            raise
        except Exception as exc:  # as ``replay`` reports it: a finding, not a traceback
            raise TranslatorFailed(f"the translator raised {type(exc).__name__}: {exc}") from None
    return replay(cassette, run.index, strategy, translate=translate).events


def _same_events(want: list[dict], events: Iterator[dict]) -> bool:
    n = len(want)
    i = 0
    for event in events:
        if i == n or event != want[i]:
            return False
        i += 1
    return i == n


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
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"event {i}: {json.dumps(x)[:120]} vs {json.dumps(y)[:120]}"
    return f"{len(a)} vs {len(b)} events"
