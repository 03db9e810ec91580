"""OpenAI chat.completions (and every compatible server) read into IR facts.

All knowledge about *reading* OpenAI-compatible streams lives here: how a
tool-call fragment finds its call (index, id, position: quirks TC-01…TC-16),
which fields carry reasoning (RSN-01…RSN-07), what a finish reason means
(FIN-07), where usage hides (USE-01…USE-06), and what an in-band error looks
like (ERR-01, ERR-02). Nothing here emits Anthropic events.
"""

from __future__ import annotations

import json
from typing import Any

from .coverage import ANY_KEY, KEY, READ, First, Shapes, dup, gap, meta
from .gemini import encode_signature
from .ir import (
    DONE,
    ERROR,
    FINISH,
    META,
    REASONING,
    REDACTED,
    SIGNATURE,
    TEXT,
    TOOL,
    USAGE,
    count,
    error_fact,
    web_citation,
)
from .think import ThinkSplitter

FINISH_REASONS = {
    "stop": "end_turn",
    "end_turn": "end_turn",
    "eos": "end_turn",
    "": "end_turn",
    "length": "max_tokens",
    "max_tokens": "max_tokens",
    "tool_calls": "tool_use",
    "tool_call": "tool_use",
    "function_call": "tool_use",
    "tool_use": "tool_use",
    "content_filter": "refusal",
    "refusal": "refusal",
    "stop_sequence": "stop_sequence",
}
"""Upstream finish_reason -> Anthropic stop_reason; anything else is ``end_turn`` (FIN-07)."""


def usage_facts(usage: Any) -> dict | None:
    """OpenAI usage -> Anthropic usage, only the counts this payload states (cached tokens are not input)."""
    if not isinstance(usage, dict):
        return None
    details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    prompt = count(usage.get("prompt_tokens"))
    cached = _first_count(
        details.get("cached_tokens"), usage.get("prompt_cache_hit_tokens"), usage.get("cache_read_input_tokens")
    )
    # prompt_tokens counts the cache writes too (OpenRouter's cache_write_tokens, the LiteLLM proxy's
    # cache_creation_input_tokens); Anthropic's input_tokens counts neither reads nor writes
    written = _first_count(details.get("cache_write_tokens"), usage.get("cache_creation_input_tokens"))
    out = {}
    if prompt is not None:
        out["input_tokens"] = max(prompt - (cached or 0) - (written or 0), 0)
    if cached is not None:
        out["cache_read_input_tokens"] = cached
    completion = count(usage.get("completion_tokens"))
    if completion is not None:
        out["output_tokens"] = completion
    if written is not None:
        out["cache_creation_input_tokens"] = written
    return out or None


def _first_count(*values: Any) -> int | None:
    """The first of several fields that carry the same count under different vendors' names."""
    for value in values:
        number = count(value)
        if number is not None:
            return number
    return None


class _Slot:
    __slots__ = ("key", "id", "name", "has_args")

    def __init__(self, key: int) -> None:
        self.key = key
        self.id = ""
        self.name = ""
        self.has_args = False


class OpenAIStream:
    """One upstream response's parser state: which fragment belongs to which call."""

    done_sentinel = "[DONE]"

    def __init__(self, options: dict | None = None) -> None:
        self.slots: dict[int, _Slot] = {}
        self.by_id: dict[str, _Slot] = {}
        self.last: _Slot | None = None
        self.serial = 0
        self.meta_done = False
        self.nameless: dict[int, list[str]] = {}
        self.nameless_parts = 0
        self.cited: set[tuple] = set()  # sources already cited: Perplexity repeats its list on every chunk
        mode = (options or {}).get("think_tags")
        self.think = ThinkSplitter(mode) if mode else None

    def payload(self, obj: dict) -> list[tuple]:
        """One payload (a JSON object; the Translator unwraps lists and rejects the rest)."""
        out: list[tuple] = []
        if not self.meta_done:
            self._meta(obj, out)
        error = obj.get("error") or (obj if obj.get("object") == "error" else None)
        choices = obj.get("choices")
        if choices:
            if type(choices) is not list:
                return [*out, _shape("choices", choices)]
            for choice in choices:
                if type(choice) is dict and choice.get("index") in _FIRST:
                    self._choice(choice, out, reported=error is not None)
                    break
        usage = obj.get("usage")
        if usage is None and isinstance(obj.get("x_groq"), dict):
            usage = obj["x_groq"].get("usage")
        if usage:
            mapped = usage_facts(usage)
            if mapped:
                out.append((USAGE, mapped))
        if obj.get("citations") or obj.get("search_results"):
            self._sources(obj, out)
        if error is not None:
            out.append(error_fact(obj))
        return out

    def _cite(self, fact: tuple | None, out: list) -> None:
        if fact is not None:
            key = (fact[1]["url"], fact[1]["cited_text"])
            if key not in self.cited:
                self.cited.add(key)
                out.append(fact)

    def _sources(self, obj: dict, out: list) -> None:
        """Perplexity: the sources behind the answer (``search_results``) and the URLs its [n] markers name."""
        titles = {}
        for result in obj.get("search_results") or []:
            if isinstance(result, dict) and isinstance(result.get("url"), str):
                titles[result["url"]] = result.get("title")
                self._cite(web_citation(result["url"], result.get("title")), out)
        for url in obj.get("citations") or []:
            self._cite(web_citation(url, titles.get(url)), out)

    def response(self, obj: Any) -> list[tuple]:
        """A complete chat.completion (non-streaming) as facts."""
        if type(obj) is not dict:
            return [(ERROR, "api_error", f"upstream response is not a JSON object: {str(obj)[:200]}")]
        if obj.get("error") or obj.get("object") == "error":
            return [error_fact(obj)]
        out: list[tuple] = []
        self._meta(obj, out)
        choices = obj.get("choices") or []
        if type(choices) is not list:
            return [*out, _shape("choices", choices)]
        for choice in choices:
            if type(choice) is dict and choice.get("index") in _FIRST:
                message = choice.get("message")
                self._choice({"delta": message, "finish_reason": choice.get("finish_reason"), **_stops(choice)}, out)
                break
        mapped = usage_facts(obj.get("usage"))
        if mapped:
            out.append((USAGE, mapped))
        out.extend(self.end())
        out.append((DONE,))
        return out

    def absorbed(self) -> int:
        """How many pieces of content were read without yielding a fact yet (think tags, arguments awaiting a name)."""
        return self.nameless_parts + (self.think.absorbed if self.think else 0)

    def end(self) -> list[tuple]:
        out = self.think.flush() if self.think else []
        for key, parts in self.nameless.items():
            out.extend(_name_from_arguments(key, "".join(parts)))
        return out

    # -- pieces ---------------------------------------------------------------

    def _meta(self, obj: dict, out: list) -> None:
        upstream_id, model = obj.get("id"), obj.get("model")
        if upstream_id and model:
            self.meta_done = True
        if upstream_id or model:
            out.append(
                (META, upstream_id if isinstance(upstream_id, str) else None, model if isinstance(model, str) else None)
            )

    def _choice(self, choice: dict, out: list, reported: bool = False) -> None:
        delta = choice.get("delta")
        if type(delta) is dict:
            self._delta(delta, out)
        elif delta is not None:
            out.append(_shape("delta", delta))
        reason = choice.get("finish_reason")
        if reason is not None:
            if reason == "error":  # ERR-02; the error object, when present, says more
                if not reported:
                    out.append((ERROR, "api_error", 'upstream finished with finish_reason "error"'))
                return
            mapped = FINISH_REASONS.get(reason, "end_turn") if isinstance(reason, str) else "end_turn"
            matched = choice.get("stop_reason")
            if not isinstance(matched, str):
                matched = choice.get("matched_stop")
            if mapped == "end_turn" and isinstance(matched, str) and matched:
                out.append((FINISH, "stop_sequence", matched))
            else:
                out.append((FINISH, mapped, None))

    def _reasoning(self, delta: dict, out: list) -> None:
        details = delta.get("reasoning_details")
        if details and self._details(details, out):
            return
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if not reasoning:
            return
        if type(reasoning) is str:
            out.append((REASONING, reasoning))
        elif isinstance(reasoning, dict) and ("text" in reasoning or "signature" in reasoning):  # RSN-05
            if isinstance(reasoning.get("text"), str):
                out.append((REASONING, reasoning["text"]))
            if isinstance(reasoning.get("signature"), str):
                out.append((SIGNATURE, reasoning["signature"]))
        else:
            out.append(_shape("reasoning", reasoning))

    def _delta(self, delta: dict, out: list) -> None:
        if "reasoning_details" in delta or "reasoning_content" in delta or "reasoning" in delta:
            self._reasoning(delta, out)
        content = delta.get("content")
        if content:
            if type(content) is str:
                if self.think:
                    out.extend(self.think.split(content))
                else:
                    out.append((TEXT, content))
            elif isinstance(content, list):  # RSN-04: Mistral content parts
                self._content_parts(content, out)
            else:
                out.append(_shape("content", content))
        annotations = delta.get("annotations")
        for note in annotations if isinstance(annotations, list) else []:
            cited = note.get("url_citation") if isinstance(note, dict) else None
            if isinstance(cited, dict):  # the text span's indices are the whole message's: not sliced per chunk
                self._cite(web_citation(cited.get("url"), cited.get("title"), cited.get("content")), out)
        refusal = delta.get("refusal")
        if refusal and isinstance(refusal, str):  # the model's refusal: its words kept, the turn a refusal
            out.append((TEXT, refusal))
            out.append((FINISH, "refusal", None))
        calls = delta.get("tool_calls")
        if calls:
            if isinstance(calls, dict):  # TC-14: a lone object instead of an array
                calls = [calls]
            if isinstance(calls, list):
                if len(calls) > 1:  # an index is the call's place in the message: several in one delta go in order
                    calls = sorted(calls, key=_index_order)
                for call in calls:
                    if type(call) is dict:
                        self._tool_call(call, out)

    def _details(self, details: Any, out: list) -> bool:
        """OpenRouter reasoning_details; True when they carried the reasoning text."""
        had_text = False
        if not isinstance(details, list):
            return False
        for item in details:
            if not isinstance(item, dict):
                continue
            kind = item.get("type")
            if kind == "reasoning.text":
                had_text = True
                if isinstance(item.get("text"), str):
                    out.append((REASONING, item["text"]))
                if isinstance(item.get("signature"), str):
                    out.append((SIGNATURE, item["signature"]))
            elif kind == "reasoning.summary":
                had_text = True
                if isinstance(item.get("summary"), str):
                    out.append((REASONING, item["summary"]))
            elif kind == "reasoning.encrypted" and isinstance(item.get("data"), str):
                out.append((REDACTED, item["data"]))
        return had_text

    def _content_parts(self, parts: list, out: list) -> None:
        for part in parts:
            if isinstance(part, str):
                out.append((TEXT, part))
            elif isinstance(part, dict):
                kind = part.get("type")
                if kind == "text" and isinstance(part.get("text"), str):
                    out.append((TEXT, part["text"]))
                elif kind == "thinking":
                    thinking = part.get("thinking")
                    for piece in thinking if isinstance(thinking, list) else [thinking]:
                        text = piece.get("text") if isinstance(piece, dict) else piece
                        if isinstance(text, str):
                            out.append((REASONING, text))

    def _new_slot(self) -> _Slot:
        slot = _Slot(self.serial)
        self.serial += 1
        return slot

    def _tool_call(self, call: dict, out: list) -> None:
        fn = call.get("function")
        if type(fn) is not dict:
            fn = {}
        call_id = call.get("id") or fn.get("id")
        call_id = call_id if isinstance(call_id, str) and call_id else None
        name = fn.get("name")
        name = name if isinstance(name, str) and name else None
        args = fn.get("arguments")
        snapshot = None
        if isinstance(args, (dict, list)):  # TC-10: arguments as an object
            snapshot, args = args, None
        elif not isinstance(args, str):
            args = None
        index = call.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            slot = self.slots.get(index)
            if (
                slot is None
                or (call_id and slot.id and call_id != slot.id)  # TC-07: new id at a reused index
                or (name and slot.name and name != slot.name and slot.has_args)
            ):
                slot = self._new_slot()
                self.slots[index] = slot
        elif call_id or name:  # TC-06: no index; an id or name marks a call
            slot = self.by_id.get(call_id) if call_id else None
            if slot is None or (name and slot.name and name != slot.name):
                slot = self._new_slot()
        else:
            slot = self.last or self._new_slot()
        self.last = slot
        if call_id and not slot.id:
            slot.id = call_id
            self.by_id[call_id] = slot
        if name:
            if name == slot.name:
                name = None  # TC-04: repeated on every chunk
            else:
                slot.name += name  # first sight, or a fragment (TC-03)
        if args or snapshot is not None:
            slot.has_args = True
        if args and not slot.name:
            self.nameless.setdefault(slot.key, []).append(args)
            self.nameless_parts += 1
        elif slot.name:
            self.nameless.pop(slot.key, None)
        google = call.get("extra_content")
        google = google.get("google") or google.get("vertex") if isinstance(google, dict) else None
        if isinstance(google, dict) and isinstance(google.get("thought_signature"), str):  # GEM-15
            out.append((SIGNATURE, encode_signature("call", google["thought_signature"])))
        if call_id or name or args or snapshot is not None:
            out.append((TOOL, slot.key, call_id, name, args, snapshot))


def _name_from_arguments(key: int, text: str) -> list[tuple]:
    """TC-14: TGI 2.x never streams ``function.name``; its grammar puts the name in the
    arguments as ``{"function": {"_name": N, ...}}``. Recover it, and the real input."""
    try:
        obj = json.loads(text)
    except ValueError:
        return []
    inner = obj.get("function", obj) if isinstance(obj, dict) else None
    if not isinstance(inner, dict) or not isinstance(inner.get("_name"), str) or not inner["_name"]:
        return []
    rest = {k: v for k, v in inner.items() if k != "_name"}
    return [(TOOL, key, None, inner["_name"], None, rest)]


def _index_order(call: Any) -> int:
    """Sort key for the calls of one delta: by ``index`` where it is a number, else where they stand."""
    index = call.get("index") if type(call) is dict else None
    return index if type(index) is int else -1


_FIRST = (0, None, "0")
"""Choice indices that mean the first (only translated) choice."""


def _shape(field: str, value: Any) -> tuple:
    """A field whose type no known upstream sends: an error, so its content is not silently lost."""
    return (ERROR, "api_error", f"upstream sent {field} of an unexpected shape: {json.dumps(value, default=str)[:200]}")


def _stops(choice: dict) -> dict:
    return {k: choice[k] for k in ("stop_reason", "matched_stop") if k in choice}


# -- what a payload holds, field by field (coverage) ------------------------------------------------

_ACCOUNTING = meta("token, time and cost accounting that Anthropic usage has no field for")

USAGE_FIELDS = {
    "prompt_tokens": READ,
    "completion_tokens": READ,
    "prompt_cache_hit_tokens": READ,
    "cache_read_input_tokens": READ,
    "cache_creation_input_tokens": READ,
    "prompt_tokens_details": {"cached_tokens": READ, "cache_write_tokens": READ, ANY_KEY: _ACCOUNTING},
    ANY_KEY: _ACCOUNTING,
}

_TOOL_CALL = {
    "index": KEY,
    "id": KEY,
    "type": meta('always "function"'),
    "function": {"name": READ, "arguments": READ, "id": KEY},
    "extra_content": {"google": {"thought_signature": READ}, "vertex": {"thought_signature": READ}},
}

_CONTENT_PART = {
    "type": KEY,
    "text": READ,
    "thinking": [{"type": meta('"text"'), "text": READ}],
    "closed": meta("Mistral: whether the thinking part is complete"),
}

DELTA = {
    "role": meta('always "assistant"'),
    "content": Shapes({"string": READ, "array": [Shapes({"string": READ, "object": _CONTENT_PART})]}),
    "reasoning_content": Shapes({"string": READ, "object": {"text": READ, "signature": READ}}),
    "reasoning": Shapes({"string": READ, "object": {"text": READ, "signature": READ}}),
    "reasoning_details": [
        {
            "type": KEY,
            "text": READ,
            "summary": READ,
            "data": READ,
            "signature": READ,
            "id": meta("OpenRouter: reasoning item id"),
            "format": meta("OpenRouter: which provider's reasoning format"),
            "index": meta("OpenRouter: position of the reasoning item"),
        }
    ],
    "refusal": READ,
    "tool_calls": [_TOOL_CALL],
    "channel": meta('gpt-oss harmony channel ("analysis" for reasoning), implied by the field it arrives in'),
    "token_id": meta("the sampled token's id"),
    "index": meta("Mistral: the choice index, repeated inside the delta"),
    "annotations": [{"type": KEY, "url_citation": READ}],
    "executed_tools": gap("Groq compound: server-side tool runs and their search results"),
}

_CHOICE = {
    "index": KEY,
    "finish_reason": READ,
    "stop_reason": READ,
    "matched_stop": READ,
    "logprobs": meta("token log-probabilities"),
    "native_finish_reason": meta("OpenRouter: the provider's own finish reason, already mapped into finish_reason"),
    "content_filter_results": meta("Azure: content filter verdicts"),
    "content_filter_offsets": meta("Azure: where the content filter ran"),
    "obfuscation": meta("OpenAI: random padding against length side channels"),
    "seed": meta("sampling seed"),
    "token_ids": meta("vLLM: sampled token ids"),
    "text": dup("delta", "Together: a copy of delta.content"),
}

_ENVELOPE = {
    "id": KEY,
    "model": KEY,
    "object": meta('"chat.completion.chunk" / "chat.completion"'),
    "created": meta("creation time"),
    "system_fingerprint": meta("backend configuration fingerprint"),
    "service_tier": meta("the service tier that served the request"),
    "usage": USAGE_FIELDS,
    "x_groq": {"usage": USAGE_FIELDS, ANY_KEY: meta("Groq: request id, seed and per-model usage breakdown")},
    "error": READ,
    "message": READ,
    "type": READ,
    "code": READ,
    "param": meta("the request parameter an error is about"),
    "provider": meta("OpenRouter: which provider served the request"),
    "obfuscation": meta("OpenAI: random padding against length side channels"),
    "p": meta("Mistral: random padding against length side channels"),
    "prompt_filter_results": meta("Azure: content filter verdicts on the prompt"),
    "timings": meta("llama.cpp: prompt and generation timings"),
    "sla_metrics": meta("Snowflake: latency metrics"),
    "moderation": meta("moderation verdicts"),
    "system": meta("watsonx: warnings about the request"),
    "model_id": meta("watsonx: the model id again"),
    "model_version": meta("watsonx: the model's version"),
    "created_at": meta("watsonx: creation time"),
    "prompt_token_ids": meta("vLLM: the prompt's token ids"),
    "prompt_text": meta("vLLM: the prompt as text"),
    "tool_call_generating": meta("vmlx: a tool call is being generated (its deltas come later)"),
    "citations": READ,
    "search_results": READ,
}

FIELDS = {
    **_ENVELOPE,
    "choices": First({**_CHOICE, "delta": DELTA, "message": dup("delta", "cumulative snapshot of delta (MIX-08)")}),
}
"""A streamed ``chat.completion.chunk``."""

RESPONSE_FIELDS = {**_ENVELOPE, "choices": First({**_CHOICE, "message": DELTA})}
"""A complete ``chat.completion``."""

EVENTS = {
    "error": READ,
    "hermes.tool.progress": meta("Hermes agent: progress of its own server-side tools, for its UI (SSE-05)"),
}
"""SSE event names read besides unnamed data (``error`` carries an error object), or knowingly ignored."""
