"""OpenAI Responses API (``POST /v1/responses``) read into IR facts.

A Responses stream is a series of named SSE events whose payload repeats the name in
``type`` and carries a ``sequence_number``; there is no ``[DONE]`` (gateways add one,
RSP-17): ``response.completed``, ``response.incomplete``, ``response.failed`` or ``error``
ends it. The answer is a list of output items addressed by ``output_index`` (a
``message``, a ``function_call``, a ``reasoning`` item); each streams as ``added``,
deltas, ``done``, and the terminal event repeats them all in ``response.output``.

Every piece of content can therefore arrive several times: as deltas, in a ``.done``
event, in a finished part, in the finished item, in the terminal snapshot. Vendors
differ in which of those copies they send at all (arguments only in ``.done``, RSP-05;
no ``output_item.added``, RSP-07; content only in the terminal snapshot, RSP-10), so
every copy is read, per item and per channel (text, refusal, full reasoning, each
summary part, arguments): the parser keeps what it delivered, and a later copy yields
only what is missing. A copy that adds nothing was still read (``absorbed``).

Reasoning: a ``reasoning`` item carries either the full reasoning text
(``reasoning_text``: vLLM/gpt-oss, OpenRouter, xAI, RSP-03) or summary parts (OpenAI);
the first kind an item delivers is its reasoning, the other is a copy. Summary parts are
joined with a blank line. ``encrypted_content`` (OpenAI with ``include:
["reasoning.encrypted_content"]``) rides in the thinking block's signature as
``responses:<kind>:<item id>:<encrypted>``, so ``to_responses_request`` can send the
reasoning item back.

A refusal part keeps its words as text and makes the turn a refusal (RSP-14); ``url_citation``
annotations become web citations, once each though every copy repeats them (RSP-20); the
finish is read off the terminal status and ``incomplete_details`` (RSP-12, RSP-13); errors
come as ``response.failed``, an ``error`` event, or a bare ``{"error": …}`` frame (RSP-15,
RSP-16). Nothing here emits Anthropic events.
"""

from __future__ import annotations

import json
from typing import Any

from .coverage import ANY_KEY, KEY, READ, dup, gap, meta
from .ir import (
    DONE,
    ERROR,
    FINISH,
    META,
    REASONING,
    SIGNATURE,
    TEXT,
    TOOL,
    USAGE,
    count,
    error_type,
    not_an_object,
    web_citation,
)

SIGNATURE_PREFIX = "responses:"
REASONING_KINDS = ("text", "summary")
"""Where a reasoning item's text came from: its full ``reasoning_text`` content, or its summary."""

SUMMARY_SEPARATOR = "\n\n"
"""Between two summary parts of one reasoning item (each part is a paragraph with its own heading)."""

INCOMPLETE_REASONS = {"max_output_tokens": "max_tokens", "content_filter": "refusal"}
"""``incomplete_details.reason`` -> Anthropic stop_reason; any other reason is ``end_turn`` (FIN-07)."""

ERROR_CODES = {
    "server_error": "api_error",
    "rate_limit_exceeded": "rate_limit_error",
    "insufficient_quota": "rate_limit_error",
    "invalid_prompt": "invalid_request_error",
    "context_length_exceeded": "invalid_request_error",
    "vector_store_timeout": "timeout_error",
    "bio_policy": "invalid_request_error",
    "misalignment_policy_violation": "invalid_request_error",
}
"""Responses ``error.code`` words -> Anthropic error types (image_* codes are invalid requests too)."""


def encode_signature(kind: str, item_id: str, encrypted: str) -> str:
    return f"{SIGNATURE_PREFIX}{kind}:{item_id}:{encrypted}"


def decode_signature(signature: str) -> tuple[str, str, str] | None:
    """``(kind, item id, encrypted content)`` for a signature this translator wrote, else None."""
    if not signature.startswith(SIGNATURE_PREFIX):
        return None
    kind, _, rest = signature[len(SIGNATURE_PREFIX) :].partition(":")
    item_id, colon, encrypted = rest.partition(":")
    return (kind, item_id, encrypted) if kind in REASONING_KINDS and colon else None


def usage_facts(usage: Any) -> dict | None:
    """Responses usage -> Anthropic usage: cache reads and writes are inside ``input_tokens`` and are not
    counted twice; reasoning tokens are already inside ``output_tokens``. Chat-completions keys are read
    too (RSP-11)."""
    if not isinstance(usage, dict):
        return None
    details = usage.get("input_tokens_details")
    if not isinstance(details, dict):
        details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    prompt = count(usage.get("input_tokens"))
    if prompt is None:
        prompt = count(usage.get("prompt_tokens"))
    output = count(usage.get("output_tokens"))
    if output is None:
        output = count(usage.get("completion_tokens"))
    cached = count(details.get("cached_tokens"))
    written = count(details.get("cache_write_tokens"))
    out = {}
    if prompt is not None:
        out["input_tokens"] = max(prompt - (cached or 0) - (written or 0), 0)
    if cached is not None:
        out["cache_read_input_tokens"] = cached
    if output is not None:
        out["output_tokens"] = output
    if written is not None:
        out["cache_creation_input_tokens"] = written
    return out or None


def error_of(err: Any) -> tuple:
    """An error object (``error`` event, ``response.error``, a chat-style ``{"error": …}``) as an ERROR fact."""
    if not isinstance(err, dict):
        return (ERROR, "api_error", str(err) or "upstream error")
    code, kind = err.get("code"), err.get("type")
    word = code if isinstance(code, str) and code else kind
    mapped = ERROR_CODES.get(word) if isinstance(word, str) else None
    if mapped is None:
        if isinstance(word, str) and word.startswith("image_"):
            mapped = "invalid_request_error"
        else:
            mapped = error_type(code if isinstance(code, int) else None, word)
    message = err.get("message")
    return (ERROR, mapped, message if isinstance(message, str) and message else json.dumps(err, default=str)[:300])


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _shape(field: str, value: Any) -> tuple:
    """A field whose type no known upstream sends: an error, so its content is not silently lost."""
    return (ERROR, "api_error", f"upstream sent {field} of an unexpected shape: {json.dumps(value, default=str)[:200]}")


class _Item:
    """One output item: what each of its channels delivered, and what it said about itself."""

    __slots__ = ("key", "kind", "id", "call_id", "name", "got", "base", "reasoning", "summary", "reasoned", "sealed")

    def __init__(self, key: int, kind: str | None) -> None:
        self.key = key
        self.kind = kind
        self.id = ""
        self.call_id = ""
        self.name = ""
        self.got: dict[Any, list[str]] = {}  # channel -> the pieces delivered (a summary part's channel is its index)
        self.base: dict[Any, int] = {}  # channel -> where its current part began
        self.reasoning: str | None = None  # "text" or "summary": which reasoning this item delivers
        self.summary: int | None = None  # the summary part delivered last
        self.reasoned = False
        self.sealed: str | None = None  # the encrypted content, held until the item is done and signed


class ResponsesStream:
    """One Responses answer's parser state: the output items and what each delivered."""

    done_sentinel = "[DONE]"  # not the API's: gateways (LiteLLM, …) end Responses streams with it (RSP-17)

    def __init__(self, options: dict | None = None) -> None:
        self.items: dict[int, _Item] = {}  # by output_index
        self.by_id: dict[str, _Item] = {}  # by item id and call id
        self.order: list[_Item] = []
        self.signed: set[int] = set()
        self.last: _Item | None = None
        self.copies = 0
        self.meta_done = False
        self.refused = False
        self.cited: set[tuple] = set()  # (item, url, start, end): the same annotation comes in every copy

    def absorbed(self) -> int:
        """Copies read that added nothing (a ``.done`` event, a finished item): read, not lost."""
        return self.copies

    def end(self) -> list[tuple]:
        return []

    def payload(self, obj: dict) -> list[tuple]:
        """One event payload (a JSON object; the Translator unwraps lists and rejects the rest)."""
        kind = obj.get("type")
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is not None:
            return handler(self, obj)
        if kind is None and obj.get("error"):  # RSP-16: a chat-style error frame mid-stream
            return [error_of(obj["error"])]
        return []

    def response(self, obj: Any) -> list[tuple]:
        """A complete ``response`` object (non-streaming) as facts."""
        if not isinstance(obj, dict):
            return [not_an_object(obj)]
        if obj.get("object") != "response" and obj.get("error"):
            return [error_of(obj["error"])]
        return self._terminal(obj, None)

    # -- lifecycle ----------------------------------------------------------------------------------

    def _meta(self, response: dict) -> list[tuple]:
        if self.meta_done:
            return []
        upstream_id, model = _str(response.get("id")), _str(response.get("model"))
        self.meta_done = bool(upstream_id and model)
        return [(META, upstream_id, model)] if upstream_id or model else []

    def _lifecycle(self, obj: dict) -> list[tuple]:
        """``response.created`` / ``.in_progress`` / ``.queued``: ids, and usage if a vendor sends it early."""
        response = obj.get("response")
        if not isinstance(response, dict):
            return []
        out = self._meta(response)
        usage = usage_facts(response.get("usage"))
        if usage:
            out.append((USAGE, usage))
        return out

    def _terminal_event(self, obj: dict) -> list[tuple]:
        response = obj.get("response")
        return self._terminal(response if isinstance(response, dict) else {}, obj.get("type"))

    def _terminal(self, response: dict, event: str | None) -> list[tuple]:
        """``response.completed`` / ``.incomplete`` / ``.failed`` (or a complete response): what the
        output snapshot adds, the usage, then how the answer ended."""
        out = self._meta(response)
        output = response.get("output")
        if isinstance(output, list):
            used: set[int] = set()
            for data in output:
                if isinstance(data, dict):
                    item = self._match(data, used)
                    used.add(item.key)
                    self._snapshot(item, data, out)
                    self._sign(item, out)  # RSP-10: an item whose own done event never came is done now
        usage = usage_facts(response.get("usage"))
        if usage:
            out.append((USAGE, usage))
        status = response.get("status")
        if event == "response.failed" or status == "failed":
            error = response.get("error")
            out.append(error_of(error) if error else (ERROR, "api_error", "upstream response failed"))
            return out
        if status == "cancelled":
            out.append((ERROR, "api_error", "upstream response was cancelled"))
            return out
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        if reason is not None or status == "incomplete" or event == "response.incomplete":
            out.append((FINISH, INCOMPLETE_REASONS.get(reason, "end_turn"), None))  # type: ignore[arg-type]
        elif _cut_at_limit(response):  # RSP-13: "completed", yet every token the limit allowed was spent
            out.append((FINISH, "max_tokens", None))
        else:
            out.append((FINISH, "end_turn", None))
        out.append((DONE,))
        return out

    def _error_event(self, obj: dict) -> list[tuple]:
        return [error_of(obj.get("error") if isinstance(obj.get("error"), dict) else obj)]

    # -- items ------------------------------------------------------------------------------------

    def _new(self, index: Any, item_id: str | None, kind: str | None) -> _Item:
        item = _Item(len(self.order), kind)
        self.order.append(item)
        if type(index) is int:
            self.items[index] = item
        if item_id:
            item.id = item_id
            self.by_id.setdefault(item_id, item)
        return item

    def _locate(self, obj: dict, kind: str | None) -> _Item:
        """The item an event is about: by ``item_id``, else ``output_index``; an event with neither
        belongs to the item the stream is on (RSP-09); an unknown one starts an item (RSP-07)."""
        item_id, index = _str(obj.get("item_id")), obj.get("output_index")
        item = self.by_id.get(item_id) if item_id else None
        if item is None:
            if type(index) is int:
                item = self.items.get(index)
                if item is not None and item_id and item.id and item.id != item_id:
                    item = None  # another item at a reused index
            elif self.last is not None:
                item = self.last
            if item is not None and item_id and not item.id:
                item.id = item_id
                self.by_id.setdefault(item_id, item)
        if item is None:
            item = self._new(index, item_id, kind)
        if item.kind is None:
            item.kind = kind
        return item

    def _enter(self, item: _Item, out: list) -> None:
        """The stream moves on to ``item``: reasoning that was streaming before it is over (RSP-09:
        llama.cpp sends every output_item.done at the end), so its full text is signed now."""
        last = self.last
        if last is not None and last is not item and last.reasoning == "text" and not last.sealed:
            self._sign(last, out)
        self.last = item

    def _item_event(self, obj: dict) -> list[tuple]:
        """``response.output_item.added`` / ``.done``: the item as it stands."""
        data = obj.get("item")
        if not isinstance(data, dict):
            return []  # RSP-08: an added event without an item (its index is a gap)
        kind, item_id, call_id = _str(data.get("type")), _str(data.get("id")), _str(data.get("call_id"))
        done = obj.get("type") == "response.output_item.done"
        item = None
        for key in (item_id, call_id):
            if key and item is None:
                item = self.by_id.get(key)
        if item is None:
            index = obj.get("output_index")
            known = self.items.get(index) if type(index) is int else self.last if index is None else None
            if known is not None and known.kind in (None, kind) and (done or not (known.id or known.call_id)):
                if not (item_id and known.id and known.id != item_id) and not (
                    call_id and known.call_id and known.call_id != call_id
                ):
                    item = known  # its deltas came first (RSP-07), or its done event has no id (RSP-09)
            if item is None:
                item = self._new(index, None, kind)
        if item.kind is None:
            item.kind = kind
        if item_id and not item.id:
            item.id = item_id
            self.by_id.setdefault(item_id, item)
        out: list[tuple] = []
        self._enter(item, out)
        self._snapshot(item, data, out)
        if done:
            self._sign(item, out)
        return out

    def _match(self, data: dict, used: set[int]) -> _Item:
        """The streamed item a terminal snapshot's item is: by id or call id, else the first of its type
        not matched yet (gateways change ids and indexes between the deltas and the snapshot)."""
        for key in (_str(data.get("id")), _str(data.get("call_id"))):
            item = self.by_id.get(key) if key else None
            if item is not None and item.key not in used:
                return item
        kind = _str(data.get("type"))
        for item in self.order:
            if item.key not in used and item.kind == kind:
                return item
        return self._new(None, _str(data.get("id")), kind)

    def _snapshot(self, item: _Item, data: dict, out: list) -> None:
        """A whole item (added, done, or in a terminal snapshot): whatever it holds that was not delivered."""
        kind = data.get("type")
        if kind == "message":
            texts, refusals = [], []
            for part in data.get("content") or ():
                if isinstance(part, dict):
                    if isinstance(part.get("text"), str):
                        texts.append(part["text"])
                    if isinstance(part.get("refusal"), str):
                        refusals.append(part["refusal"])
            self._settle(item, "text", "".join(texts), out, whole=True)
            self._settle(item, "refusal", "".join(refusals), out, whole=True)
            for part in data.get("content") or ():
                if isinstance(part, dict) and part.get("annotations"):
                    self._cite(item, part["annotations"], part.get("text") or "", out)
        elif kind == "function_call":
            self._head(item, data, out)
            arguments = data.get("arguments")
            if isinstance(arguments, str):
                self._settle(item, "args", arguments, out, whole=True)
            elif isinstance(arguments, dict) and arguments:
                if item.got.get("args"):
                    self.copies += 1
                else:  # arguments as an object (TC-10 on a Responses server)
                    item.got["args"] = [json.dumps(arguments)]
                    out.append((TOOL, item.key, None, None, None, arguments))
        elif kind == "reasoning":
            content = data.get("content")
            full = [p["text"] for p in content or () if isinstance(p, dict) and isinstance(p.get("text"), str)]
            self._settle(item, "reasoning", "".join(full), out, whole=True)
            for index, part in enumerate(data.get("summary") or ()):
                if isinstance(part, dict):
                    self._settle(item, index, part.get("text"), out, whole=True)
            encrypted = _str(data.get("encrypted_content"))
            if encrypted:
                if item.sealed == encrypted or item.key in self.signed:
                    self.copies += 1
                else:
                    item.sealed = encrypted
                    self.copies += 1  # held until the item is done: it closes the thinking block's signature

    def _head(self, item: _Item, data: dict, out: list) -> None:
        """A function call's id and name, each given once."""
        call_id, name = _str(data.get("call_id")), _str(data.get("name"))
        new_id = call_id if call_id and not item.call_id else None
        new_name = name if name and not item.name else None
        if new_id:
            item.call_id = new_id
            self.by_id.setdefault(new_id, item)
        if new_name:
            item.name = new_name
        if new_id or new_name:
            out.append((TOOL, item.key, new_id, new_name, None, None))
        elif call_id or name:
            self.copies += 1

    def _sign(self, item: _Item, out: list) -> None:
        """A reasoning item is done: its signature closes its thinking block (once)."""
        if item.kind != "reasoning" or item.key in self.signed:
            return
        encrypted = item.sealed or ""
        if encrypted or item.reasoning == "text":
            self.signed.add(item.key)
            out.append((SIGNATURE, encode_signature(item.reasoning or "summary", item.id, encrypted)))

    # -- channels ---------------------------------------------------------------------------------

    def _settle(self, item: _Item, channel: Any, text: Any, out: list, whole: bool = False) -> None:
        """A copy of a channel's content (its current part, or ``whole``): deliver only what is missing."""
        if not isinstance(text, str) or not text:
            return
        got = "".join(item.got.get(channel, ()))
        current = got if whole else got[item.base.get(channel, 0) :]
        if len(text) > len(current) and text.startswith(current):
            self._deliver(item, channel, text[len(current) :], out)
        else:  # already delivered (or a copy that disagrees with the deltas: the deltas stand)
            self.copies += 1

    def _deliver(self, item: _Item, channel: Any, text: str, out: list) -> None:
        item.got.setdefault(channel, []).append(text)
        if channel == "text":
            out.append((TEXT, text))
        elif channel == "refusal":  # the model's refusal: its words kept, the turn a refusal (RSP-14)
            out.append((TEXT, text))
            if not self.refused:
                self.refused = True
                out.append((FINISH, "refusal", None))
        elif channel == "args":
            out.append((TOOL, item.key, None, None, text, None))
        else:
            kind = "text" if channel == "reasoning" else "summary"
            if item.reasoning is None:
                item.reasoning = kind
            elif item.reasoning != kind:
                self.copies += 1  # RSP-03: the summary of reasoning whose full text came (or the reverse)
                return
            if kind == "summary":
                if item.reasoned and channel != item.summary:
                    out.append((REASONING, SUMMARY_SEPARATOR))
                item.summary = channel
            item.reasoned = True
            out.append((REASONING, text))

    def _delta(self, obj: dict, channel: Any, kind: str) -> list[tuple]:
        delta = obj.get("delta")
        if not isinstance(delta, str):
            return [] if delta is None else [_shape("delta", delta)]
        if not delta:
            return []
        item = self._locate(obj, kind)
        out: list[tuple] = []
        self._enter(item, out)
        self._deliver(item, channel, delta, out)
        return out

    def _text_delta(self, obj: dict) -> list[tuple]:
        return self._delta(obj, "text", "message")

    def _refusal_delta(self, obj: dict) -> list[tuple]:
        return self._delta(obj, "refusal", "message")

    def _reasoning_delta(self, obj: dict) -> list[tuple]:
        return self._delta(obj, "reasoning", "reasoning")

    def _summary_delta(self, obj: dict) -> list[tuple]:
        index = obj.get("summary_index")
        return self._delta(obj, index if type(index) is int else 0, "reasoning")

    def _arguments_delta(self, obj: dict) -> list[tuple]:
        return self._delta(obj, "args", "function_call")

    def _done(self, obj: dict, field: str, channel: Any, kind: str) -> list[tuple]:
        """A ``.done`` event: the whole current part of one channel, a copy of its deltas."""
        item = self._locate(obj, kind)
        out: list[tuple] = []
        self._enter(item, out)
        self._settle(item, channel, obj.get(field), out, whole=isinstance(channel, int))
        return out

    def _text_done(self, obj: dict) -> list[tuple]:
        return self._done(obj, "text", "text", "message")

    def _refusal_done(self, obj: dict) -> list[tuple]:
        return self._done(obj, "refusal", "refusal", "message")

    def _reasoning_done(self, obj: dict) -> list[tuple]:
        return self._done(obj, "text", "reasoning", "reasoning")

    def _summary_done(self, obj: dict) -> list[tuple]:
        index = obj.get("summary_index")
        return self._done(obj, "text", index if type(index) is int else 0, "reasoning")

    def _arguments_done(self, obj: dict) -> list[tuple]:
        item = self._locate(obj, "function_call")
        out: list[tuple] = []
        self._enter(item, out)
        self._head(item, {"name": obj.get("name")}, out)
        self._settle(item, "args", obj.get("arguments"), out, whole=True)
        return out

    def _part(self, obj: dict) -> list[tuple]:
        """``response.content_part.*`` / ``response.reasoning_summary_part.*`` / vLLM's
        ``response.reasoning_part.*``: a part starting (or finished) with the text it holds."""
        part = obj.get("part")
        if not isinstance(part, dict):
            return []
        kind = part.get("type")
        summary = obj.get("summary_index")
        if type(summary) is int or kind == "summary_text":
            channel: Any = summary if type(summary) is int else 0
            text = part.get("text")
        elif kind == "refusal":
            channel, text = "refusal", part.get("refusal")
        elif kind == "reasoning_text":
            channel, text = "reasoning", part.get("text")
        else:
            channel, text = "text", part.get("text")
        item = self._locate(obj, "message" if channel in ("text", "refusal") else "reasoning")
        if obj.get("type", "").endswith(".added") and not isinstance(channel, int):
            item.base[channel] = sum(map(len, item.got.get(channel, ())))  # a new part starts here
        out: list[tuple] = []
        self._enter(item, out)
        self._settle(item, channel, text, out, whole=isinstance(channel, int))
        if part.get("annotations"):
            self._cite(item, part["annotations"], text if isinstance(text, str) else "", out)
        return out

    def _annotation(self, obj: dict) -> list[tuple]:
        """``response.output_text.annotation.added``: a citation on the part being written."""
        item = self._locate(obj, "message")
        out: list[tuple] = []
        self._enter(item, out)
        got = "".join(item.got.get("text", ()))
        self._cite(item, [obj.get("annotation")], got[item.base.get("text", 0) :], out)
        return out

    def _cite(self, item: _Item, annotations: Any, text: str, out: list) -> None:
        """``url_citation`` annotations as web citations, each once (``cited_text``: the span of ``text``
        it points at, when that text is known); file citations are a declared gap."""
        for note in annotations if isinstance(annotations, list) else ():
            if not isinstance(note, dict) or not _str(note.get("url")):
                continue
            start, end = note.get("start_index"), note.get("end_index")
            key = (item.key, note["url"], start, end)
            if key in self.cited:
                self.copies += 1
                continue
            self.cited.add(key)
            spans = type(start) is int and type(end) is int and 0 <= start <= end <= len(text)
            out.append(web_citation(note["url"], note.get("title"), text[start:end] if spans else ""))


def _cut_at_limit(response: dict) -> bool:
    """RSP-13: ``status: completed`` and no ``incomplete_details``, but the output spent ``max_output_tokens``."""
    limit = count(response.get("max_output_tokens"))
    usage = response.get("usage")
    spent = count(usage.get("output_tokens")) if isinstance(usage, dict) else None
    return bool(limit) and spent is not None and spent >= limit  # type: ignore[operator]


_HANDLERS = {
    "response.created": ResponsesStream._lifecycle,
    "response.in_progress": ResponsesStream._lifecycle,
    "response.queued": ResponsesStream._lifecycle,
    "response.output_item.added": ResponsesStream._item_event,
    "response.output_item.done": ResponsesStream._item_event,
    "response.content_part.added": ResponsesStream._part,
    "response.content_part.done": ResponsesStream._part,
    "response.reasoning_summary_part.added": ResponsesStream._part,
    "response.reasoning_summary_part.done": ResponsesStream._part,
    "response.reasoning_part.added": ResponsesStream._part,
    "response.reasoning_part.done": ResponsesStream._part,
    "response.output_text.delta": ResponsesStream._text_delta,
    "response.output_text.done": ResponsesStream._text_done,
    "response.output_text.annotation.added": ResponsesStream._annotation,
    "response.refusal.delta": ResponsesStream._refusal_delta,
    "response.refusal.done": ResponsesStream._refusal_done,
    "response.reasoning_text.delta": ResponsesStream._reasoning_delta,
    "response.reasoning_text.done": ResponsesStream._reasoning_done,
    "response.reasoning_summary_text.delta": ResponsesStream._summary_delta,
    "response.reasoning_summary_text.done": ResponsesStream._summary_done,
    "response.function_call_arguments.delta": ResponsesStream._arguments_delta,
    "response.function_call_arguments.done": ResponsesStream._arguments_done,
    "response.completed": ResponsesStream._terminal_event,
    "response.incomplete": ResponsesStream._terminal_event,
    "response.failed": ResponsesStream._terminal_event,
    "error": ResponsesStream._error_event,
}
"""Event ``type`` -> reader (named SSE events and unnamed ``data:`` payloads alike)."""


# -- what a payload holds, field by field (coverage) ------------------------------------------------

_ACCOUNTING = meta("token accounting that Anthropic usage has no field for (totals, per-turn breakdowns)")
_INSIDE_OUTPUT = meta("already inside the output token count: adding it would count it twice")

USAGE_FIELDS = {
    "input_tokens": READ,
    "output_tokens": READ,
    "input_tokens_details": {"cached_tokens": READ, "cache_write_tokens": READ, ANY_KEY: _ACCOUNTING},
    "output_tokens_details": {"reasoning_tokens": _INSIDE_OUTPUT, ANY_KEY: _ACCOUNTING},
    "prompt_tokens": READ,
    "completion_tokens": READ,
    "prompt_tokens_details": {"cached_tokens": READ, ANY_KEY: _ACCOUNTING},
    "completion_tokens_details": {"reasoning_tokens": _INSIDE_OUTPUT, ANY_KEY: _ACCOUNTING},
    ANY_KEY: _ACCOUNTING,
}
"""``usage``; the chat-completions keys are what new-api / one-api and Cloudflare send (RSP-11)."""

ANNOTATION_FIELDS = {
    "type": KEY,
    "url": READ,
    "title": READ,
    "start_index": KEY,
    "end_index": KEY,
    "index": KEY,
    "file_id": gap("a file citation (Anthropic's web citations cannot carry it)"),
    "filename": gap("a file citation (Anthropic's web citations cannot carry it)"),
    "container_id": gap("a container file citation (Anthropic's web citations cannot carry it)"),
}
"""An annotation on output text: a ``url_citation`` is read, file citations are gaps."""

PART_FIELDS = {
    "type": KEY,
    "text": READ,
    "refusal": READ,
    "annotations": [ANNOTATION_FIELDS],
    "logprobs": meta("token log-probabilities"),
}
"""A content part (``output_text``, ``refusal``, ``reasoning_text``) or a summary part."""

ITEM_FIELDS = {
    "id": KEY,
    "type": KEY,
    "call_id": KEY,
    "status": meta("the item's own state (the response's status decides the finish)"),
    "role": meta('always "assistant"'),
    "phase": meta('gpt-5 codex: "commentary" or "final_answer"; the text is read either way'),
    "content": [PART_FIELDS],
    "summary": [PART_FIELDS],
    "encrypted_content": READ,
    "name": READ,
    "arguments": READ,
    "caller": meta("who made the call (the model itself, or a program it ran)"),
    "action": gap("a built-in web search call (built-in tools are not translated)"),
    "queries": gap("a built-in file search call (built-in tools are not translated)"),
    "results": gap("built-in file search results (built-in tools are not translated)"),
    "code": gap("a built-in code interpreter call (built-in tools are not translated)"),
    "outputs": gap("built-in code interpreter outputs (built-in tools are not translated)"),
    "container_id": meta("the built-in code interpreter's container"),
    "result": gap("a built-in image generation result (built-in tools are not translated)"),
}
"""An output item: ``message``, ``function_call``, ``reasoning``, and the built-in tools' items (gaps)."""

_ECHO = meta("a request setting, echoed back")

RESPONSE_OBJECT = {
    "id": KEY,
    "model": KEY,
    "object": meta('"response"'),
    "created_at": meta("creation time"),
    "completed_at": meta("completion time"),
    "status": KEY,
    "incomplete_details": KEY,
    "max_output_tokens": KEY,
    "error": READ,
    "output": [ITEM_FIELDS],
    "output_text": dup("output", "a convenience copy of the output's text"),
    "usage": USAGE_FIELDS,
    **dict.fromkeys(
        (
            "instructions",
            "metadata",
            "parallel_tool_calls",
            "temperature",
            "top_p",
            "top_logprobs",
            "frequency_penalty",
            "presence_penalty",
            "tool_choice",
            "tools",
            "max_tool_calls",
            "background",
            "conversation",
            "previous_response_id",
            "prompt",
            "prompt_cache_key",
            "prompt_cache_retention",
            "prompt_cache_options",
            "reasoning",
            "safety_identifier",
            "service_tier",
            "store",
            "text",
            "truncation",
            "user",
            "image",
            "access_programs",
        ),
        _ECHO,
    ),
    "billing": meta("who pays for the response"),
    "moderation": meta("moderation verdicts"),
    "prompt_cache_diagnostics": meta("why the prompt cache hit or missed"),
    "input_transformations": meta("input items the API dropped before generating"),
    "tool_usage": meta("built-in tool accounting"),
    "kv_transfer_params": meta("vLLM: disaggregated-serving transfer parameters"),
    "input_messages": meta("vLLM: the prompt as the model saw it"),
    "output_messages": dup("output", "vLLM: the raw messages behind output"),
}
"""The ``response`` object (lifecycle events, terminal events, a complete response)."""

FIELDS = {
    "type": KEY,
    "sequence_number": meta("the event's place in the stream"),
    "response": RESPONSE_OBJECT,
    "output_index": KEY,
    "item_id": KEY,
    "content_index": KEY,
    "summary_index": KEY,
    "item": ITEM_FIELDS,
    "part": PART_FIELDS,
    "delta": READ,
    "text": READ,
    "refusal": READ,
    "arguments": READ,
    "name": READ,
    "logprobs": meta("token log-probabilities"),
    "obfuscation": meta("OpenAI: random padding against length side channels"),
    "annotation": ANNOTATION_FIELDS,
    "annotation_index": meta("the citation's place among the text's annotations"),
    "error": READ,
    "code": READ,
    "message": READ,
    "param": meta("the request parameter an error is about"),
    "timings": meta("llama.cpp: prompt and generation timings"),
    "prompt_progress": meta("llama.cpp: how far prompt processing is"),
}
"""One streamed event's payload, whichever its type."""

RESPONSE_FIELDS = RESPONSE_OBJECT
"""A complete ``response`` object (or an ``error``)."""

_BUILT_IN = meta("progress of a built-in tool; its output item is read (a declared gap)")
_BUILT_IN_COPY = meta("a built-in tool's code as it streams; the finished item carries it (a declared gap)")

EVENTS: dict[str, Any] = {
    **dict.fromkeys(_HANDLERS, READ),
    **dict.fromkeys(
        (
            "response.web_search_call.in_progress",
            "response.web_search_call.searching",
            "response.web_search_call.completed",
            "response.file_search_call.in_progress",
            "response.file_search_call.searching",
            "response.file_search_call.completed",
            "response.code_interpreter_call.in_progress",
            "response.code_interpreter_call.interpreting",
            "response.code_interpreter_call.completed",
            "response.image_generation_call.in_progress",
            "response.image_generation_call.generating",
            "response.image_generation_call.completed",
        ),
        _BUILT_IN,
    ),
    "response.code_interpreter_call_code.delta": _BUILT_IN_COPY,
    "response.code_interpreter_call_code.done": _BUILT_IN_COPY,
}
"""Every Responses SSE event is named by its type; these are read, or knowingly ignored. Others
(custom tool input, MCP, audio, partial images) are unread: coverage names them."""
