"""The one Anthropic emitter: IR facts in, Anthropic stream events out.

Every upstream dialect feeds this state machine, so every upstream gets a
grammatical stream by construction: one ``message_start``; block indices 0, 1,
2… from our own counter (never the upstream's); one open block at a time;
deltas only inside the block of their type; ``message_delta`` with cumulative
usage; then ``message_stop``, or ``error`` when the upstream failed.

The rule it never breaks: no fragment is lost. Anything that cannot be emitted
where it belongs yet (a second tool call while the first one's JSON is still
incomplete, text that arrives meanwhile, a call whose name has not arrived) waits
in order in ``pending`` and is emitted as soon as it can be, or at the end.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from typing import Any

from .ir import CITATION, DONE, ERROR, FINISH, META, REASONING, REDACTED, SIGNATURE, TEXT, TOOL, USAGE
from .jsontext import JsonPrefix, mend_surrogates, normalize_arguments

UNSIGNED = "quirktape:unsigned"
"""Signature sent for reasoning that came without one (Anthropic requires a value)."""

_KEEP_ID = re.compile(r"[A-Za-z0-9_-]{8,}")

_WAITING, _OPEN, _CLOSED = range(3)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class _Call:
    __slots__ = ("id", "name", "parts", "snapshot", "scanner", "sent", "held", "state", "parsed")

    def __init__(self, name: str = "") -> None:
        self.id = ""
        self.name = name
        self.parts: list[str] = []
        self.snapshot: Any = None
        self.scanner: JsonPrefix | None = JsonPrefix()
        self.sent = 0
        self.held = ""
        self.state = _WAITING
        self.parsed: tuple[int, bool] = (-1, False)  # (parts seen, parses) for buffered text


class Emitter:
    """Consumes IR facts (``apply``) and collects Anthropic events (``take``)."""

    def __init__(self, model: str | None = None) -> None:
        self.out: list[dict] = []
        self.model = model
        self.upstream_id: str | None = None
        self.fallback_id = ""  # set by the caller from the payloads, for upstreams without ids
        self.message_id = ""
        self.started = False
        self.ended = False
        self.ending = False
        self.saw_done = False
        self.next_index = 0
        self.open_kind: str | None = None
        self.open_call: _Call | None = None
        self.signature: str | None = None
        self.pending: deque = deque()
        self.calls: dict[object, _Call] = {}
        self.tool_ids: set[str] = set()
        self.tool_blocks = 0
        self.truncated = False
        self.unnamed_calls = 0
        self.finish: str | None = None
        self.stop_sequence: str | None = None
        self.stop_details: dict | None = None
        self.usage = {
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        self._handlers = {
            TEXT: self.text,
            REASONING: self.reasoning,
            SIGNATURE: self.signature_fact,
            REDACTED: self.redacted,
            TOOL: self.tool,
            FINISH: self.finish_fact,
            USAGE: self.usage_fact,
            ERROR: self.error,
            META: self.meta,
            DONE: self.done,
            CITATION: self.citation,
        }
        self.citations: list[dict] = []  # waiting for the text block they belong to

    # -- driving -------------------------------------------------------------

    def apply(self, facts: list[tuple]) -> None:
        if self.ended:
            return
        handlers = self._handlers
        for fact in facts:
            handlers[fact[0]](*fact[1:])
            if self.ended:
                return

    def take(self) -> list[dict]:
        out, self.out = self.out, []
        return out

    def end(self, cut: str | None = None) -> None:
        """The upstream body is over. ``cut`` is ``reset``/``timeout`` for a broken connection."""
        if self.ended:
            return
        if cut in ("reset", "timeout") and not self.saw_done:
            # FIN-05/ERR-06: a retryable error, so clients try again instead of keeping half a turn
            self.error("api_error", f"upstream connection {cut} before the stream finished")
            return
        if not self.saw_done and self.finish is None:
            self.error("api_error", "upstream stream ended with neither a finish reason nor an end-of-stream marker")
            return
        self._flush()
        if self.unnamed_calls:
            self._fail("api_error", f"upstream sent {self.unnamed_calls} tool call(s) without a name")
            return
        self._start()
        self.out.append(
            {
                "type": "message_delta",
                "delta": self._stop_delta(),
                "usage": dict(self.usage),
            }
        )
        self.out.append({"type": "message_stop"})
        self.ended = True

    # -- facts ---------------------------------------------------------------

    def text(self, text: str) -> None:
        if not text:
            return
        if self.open_kind == "text" and not self.pending:
            self.out.append(
                {
                    "type": "content_block_delta",
                    "index": self.next_index - 1,
                    "delta": {"type": "text_delta", "text": text},
                }
            )
            if self.citations:
                self._cite()
            return
        self.pending.append(("text", text))
        self._pump()

    def reasoning(self, text: str) -> None:
        if not text:
            return
        if self.open_kind == "thinking" and not self.pending:
            self._thinking_delta(text)
            return
        self.pending.append(("thinking", text))
        self._pump()

    def signature_fact(self, signature: str) -> None:
        if signature:
            self.pending.append(("signature", signature))
            self._pump()

    def redacted(self, data: str) -> None:
        if data:
            self.pending.append(("redacted", data))
            self._pump()

    def tool(self, key: object, id: str | None, name: str | None, args: str | None, snapshot: Any) -> None:
        call = self.calls.get(key)
        if call is not None and call.state == _CLOSED:
            if not name and snapshot is None and not (args or "").strip():
                return  # whitespace after a finished call changes nothing
            call = self._late_call(key, name or call.name)
            name = None
        elif call is None:
            call = _Call()
            self.calls[key] = call
            self.pending.append(call)
        if id and not call.id:
            call.id = id
        if name:
            call.name += name
        if snapshot is not None:
            call.snapshot = snapshot
            call.scanner = None
        if args:
            call.parts.append(args)
            if call is self.open_call and call.scanner is not None:
                self._forward(call)
        self._pump()

    def citation(self, citation: dict) -> None:
        """A source the text cites: on the text block being written, else on the next one that gets text."""
        self.citations.append(citation)
        if self.open_kind == "text" and not self.pending:
            self._cite()

    def _cite(self) -> None:
        index = self.next_index - 1
        for citation in self.citations:
            self.out.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "citations_delta", "citation": citation},
                }
            )
        self.citations = []

    def _late_call(self, key: object, name: str) -> _Call:
        """More arguments for a call that is already complete: they are another call (TC-07)."""
        call = _Call(name)
        self.calls[key] = call
        self.pending.append(call)
        return call

    def finish_fact(self, stop_reason: str | None, stop_sequence: str | None = None, details: Any = None) -> None:
        if not stop_reason or (self.finish == "refusal" and stop_reason != "refusal"):
            return  # a refusal stays one, whatever finish follows it (OpenAI: delta.refusal, then "stop")
        self.finish = stop_reason
        self.stop_sequence = stop_sequence
        if isinstance(details, dict):
            self.stop_details = details

    def usage_fact(self, usage: dict) -> None:
        self.usage.update(usage)

    def meta(self, upstream_id: str | None, model: str | None) -> None:
        if upstream_id and self.upstream_id is None:
            self.upstream_id = upstream_id
        if model and not self.model:
            self.model = model

    def done(self) -> None:
        self.saw_done = True

    def error(self, error_type: str, message: str) -> None:
        """An upstream error: keep what arrived, close it, and end with ``error``."""
        if self.ended:
            return
        self._flush()
        self._fail(error_type, message)

    # -- blocks --------------------------------------------------------------

    def _fail(self, error_type: str, message: str) -> None:
        self.out.append({"type": "error", "error": {"type": error_type, "message": message}})
        self.ended = True

    def begin(self) -> None:
        """Send ``message_start`` now, if the model is known and the stream has not already ended.

        A client's idle watchdog (Claude Code's) counts from the request: waiting for the first
        content, behind a long reasoning preamble or a buffered call, can look like a dead stream.
        """
        if self.model and not self.ended:
            self._start()

    def _start(self) -> None:
        if self.started:
            return
        self.started = True
        self.message_id = "msg_" + _digest(self.upstream_id or self.fallback_id)
        self.out.append(
            {
                "type": "message_start",
                "message": {
                    "id": self.message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": self.model or "unknown",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": dict(self.usage),
                },
            }
        )

    def _blocked(self) -> bool:
        call = self.open_call
        return call is not None and not self.ending and not self._closable(call)

    def _closable(self, call: _Call) -> bool:
        if call.snapshot is not None:
            return True
        scanner = call.scanner
        if scanner is None:
            seen, parses = call.parsed
            if seen != len(call.parts):
                try:
                    json.loads("".join(call.parts))
                    parses = True
                except ValueError:
                    parses = False
                call.parsed = (len(call.parts), parses)
            return parses
        return scanner.complete or not scanner.ok

    def _ready(self, call: _Call) -> bool:
        if not call.name:
            return False
        return self.ending or call.snapshot is not None or any(p.strip() for p in call.parts)

    def _pump(self) -> None:
        pending = self.pending
        while pending:
            if self._blocked():
                return
            item = pending[0]
            if type(item) is _Call:
                if not self._ready(item):
                    if self.ending:  # a call whose name never came
                        pending.popleft()
                        item.state = _CLOSED
                        self.unnamed_calls += 1
                        continue
                    return
                pending.popleft()
                self._open_call(item)
                continue
            pending.popleft()
            kind, value = item
            if kind == "text":
                self._ensure("text")
                self.out.append(
                    {
                        "type": "content_block_delta",
                        "index": self.next_index - 1,
                        "delta": {"type": "text_delta", "text": value},
                    }
                )
                if self.citations:
                    self._cite()
            elif kind == "thinking":
                self._ensure("thinking")
                self._thinking_delta(value)
            elif kind == "signature":
                if self.open_kind == "thinking" and self.signature is not None:
                    self._close_open()  # one signature per thinking block: the next one gets its own
                self._ensure("thinking")
                self.signature = value
            else:  # redacted
                self._close_open()
                self._start()
                index = self._new_index()
                self.out.append(
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "redacted_thinking", "data": value},
                    }
                )
                self.out.append({"type": "content_block_stop", "index": index})

    def _flush(self) -> None:
        self.ending = True
        self._pump()
        if self.citations and self.open_kind == "text":
            self._cite()
        self._close_open()

    def _new_index(self) -> int:
        index = self.next_index
        self.next_index += 1
        return index

    def _ensure(self, kind: str) -> None:
        if self.open_kind == kind:
            return
        self._close_open()
        self._start()
        self.open_kind = kind
        block = (
            {"type": "text", "text": ""} if kind == "text" else {"type": "thinking", "thinking": "", "signature": ""}
        )
        self.out.append({"type": "content_block_start", "index": self._new_index(), "content_block": block})

    def _thinking_delta(self, text: str) -> None:
        self.out.append(
            {
                "type": "content_block_delta",
                "index": self.next_index - 1,
                "delta": {"type": "thinking_delta", "thinking": text},
            }
        )

    def _open_call(self, call: _Call) -> None:
        self._close_open()
        self._start()
        index = self._new_index()
        call_id = call.id
        if not (_KEEP_ID.fullmatch(call_id) and call_id not in self.tool_ids):
            call_id = "toolu_" + _digest(f"{self.message_id}:{index}")
        self.tool_ids.add(call_id)
        self.out.append(
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "tool_use", "id": call_id, "name": call.name, "input": {}},
            }
        )
        call.state = _OPEN
        self.open_kind = "tool"
        self.open_call = call
        self.tool_blocks += 1
        if call.scanner is not None:
            self._forward(call)

    def _forward(self, call: _Call) -> None:
        """Send argument fragments while the running text is an object prefix.

        Accepted text waits in ``held`` while it cannot be sent yet: whitespace before the
        object begins, and the scanner's ``unsettled`` end (a character not yet whole).
        """
        parts = call.parts
        while call.sent < len(parts):
            scanner = call.scanner
            if scanner is None:
                return
            part = parts[call.sent]
            if not scanner.feed(part):
                if scanner.overflow >= 0:  # a second value after a complete object: another call
                    head, tail = part[: scanner.overflow], part[scanner.overflow :]
                    rest = parts[call.sent + 1 :]
                    del parts[call.sent :]
                    parts.append(head)
                    call.sent = len(parts)
                    head, call.held = call.held + head, ""
                    if head:
                        self._json_delta(head)
                    key = next(k for k, c in self.calls.items() if c is call)
                    self._late_call(key, call.name).parts = [tail, *rest]
                elif not scanner.started:
                    call.scanner = None  # not an object at all: send it whole at the end
                return
            call.sent += 1
            text = call.held + part
            ready = len(text) - len(scanner.unsettled) if scanner.started else 0
            call.held = text[ready:]
            if ready:
                self._json_delta(text[:ready])

    def _json_delta(self, text: str) -> None:
        self.out.append(
            {
                "type": "content_block_delta",
                "index": self.next_index - 1,
                "delta": {"type": "input_json_delta", "partial_json": mend_surrogates(text)},
            }
        )

    def _close_open(self) -> None:
        kind = self.open_kind
        if kind is None:
            return
        index = self.next_index - 1
        if kind == "thinking":
            self.out.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "signature_delta", "signature": self.signature or UNSIGNED},
                }
            )
            self.signature = None
        elif kind == "tool":
            self._finish_call(self.open_call)  # type: ignore[arg-type]
            self.open_call = None
        self.out.append({"type": "content_block_stop", "index": index})
        self.open_kind = None

    def _finish_call(self, call: _Call) -> None:
        call.state = _CLOSED
        scanner = call.scanner
        if scanner is None:
            source = call.snapshot if call.snapshot is not None else "".join(call.parts)
            self._json_delta(json.dumps(normalize_arguments(source), ensure_ascii=False))
        elif not scanner.ok:  # the unsent end of the accepted text is kept with what could not be parsed
            self._json_delta(scanner.repair_suffix(call.held + "".join(call.parts[call.sent :])))
        elif not scanner.started:
            self._json_delta("{}")
        elif not scanner.complete:
            # Cut mid-JSON (max_tokens, TC-16): close it so the client keeps every character
            # that arrived whole (a cut one is dropped, see JsonPrefix.repair_suffix);
            # stop_reason max_tokens says the call is not to be run.
            self.truncated = True
            self._json_delta(scanner.repair_suffix(""))

    def _stop_delta(self) -> dict:
        """``message_delta.delta``: a refusal carries ``stop_details`` as the API sends it (its category null
        when the upstream named none), every other stop reason none."""
        delta = {"stop_reason": self._stop_reason(), "stop_sequence": self._stop_sequence()}
        if delta["stop_reason"] == "refusal":
            delta["stop_details"] = {
                "type": "refusal",
                "category": None,
                "explanation": None,
                **(self.stop_details or {}),
            }
        return delta

    def _stop_reason(self) -> str:
        reason = self.finish
        if reason == "refusal":
            return reason
        if self.truncated:
            return "max_tokens"
        if self.tool_blocks and reason != "max_tokens":
            return "tool_use"
        if reason == "tool_use" or reason is None:
            return "end_turn"
        return reason

    def _stop_sequence(self) -> str | None:
        return self.stop_sequence if self._stop_reason() == "stop_sequence" else None
