"""Google Gemini / Vertex ``GenerateContentResponse`` read into IR facts.

All knowledge about reading Gemini lives here (quirks.md part H): thought parts,
function calls that arrive whole (GEM-03/04) or, on Vertex, as ``partialArgs``
rebuilt by JSON path (GEM-08), finish reasons (D2), cumulative usage (GEM-13),
blocked prompts and in-band errors, and where each thought signature rode.

Thought signatures must go back to Gemini on the same part next turn, or it
answers 400. They travel through Anthropic clients in a thinking block's
``signature``, tagged with where they came from (``gemini:<where>:<raw>``), so
the request translator can put each one back exactly.
"""

from __future__ import annotations

import re
from typing import Any

from .coverage import ANY_KEY, KEY, READ, First, gap, meta
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
    error_fact,
    not_an_object,
    web_citation,
)

FINISH_REASONS = {
    "STOP": "end_turn",
    "MAX_TOKENS": "max_tokens",
    **dict.fromkeys(
        (
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
            "IMAGE_SAFETY",
            "IMAGE_PROHIBITED_CONTENT",
            "IMAGE_RECITATION",
        ),
        "refusal",
    ),
}
"""Gemini finishReason -> Anthropic stop_reason; anything not listed is ``end_turn``."""

FAILED_CALLS = frozenset({"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"})
"""Finish reasons meaning the model's tool call was lost: an error, never an empty success (GEM-12)."""

SIGNATURE_PREFIX = "gemini:"
SIGNATURE_PLACES = ("thought", "call", "text", "tail")


def encode_signature(place: str, raw: str) -> str:
    return f"{SIGNATURE_PREFIX}{place}:{raw}"


def decode_signature(signature: str) -> tuple[str, str] | None:
    """``(place, raw)`` for a signature this translator wrote, else None."""
    if not signature.startswith(SIGNATURE_PREFIX):
        return None
    place, _, raw = signature[len(SIGNATURE_PREFIX) :].partition(":")
    return (place, raw) if place in SIGNATURE_PLACES and raw else None


USAGE_FIELDS = (
    "promptTokenCount",
    "cachedContentTokenCount",
    "toolUsePromptTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
)


def usage_facts(meta: Any) -> dict | None:
    """Anthropic usage from Gemini's counts (each the last value it was given: GEM-13)."""
    if not isinstance(meta, dict):
        return None
    prompt = count(meta.get("promptTokenCount"))
    cached = count(meta.get("cachedContentTokenCount"))
    tool_prompt = count(meta.get("toolUsePromptTokenCount"))
    candidates = count(meta.get("candidatesTokenCount"))
    thoughts = count(meta.get("thoughtsTokenCount"))
    out = {}
    if prompt is not None:
        out["input_tokens"] = max(prompt - (cached or 0), 0) + (tool_prompt or 0)
    if cached is not None:
        out["cache_read_input_tokens"] = cached
    if candidates is not None or thoughts is not None:
        out["output_tokens"] = (candidates or 0) + (thoughts or 0)
    return out or None


_PATH_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]")


MAX_PATH_STEPS = 64
MAX_ARRAY_INDEX = 10_000
"""Bounds on a partialArgs path, so a hostile path cannot exhaust memory or the stack."""


def _path(json_path: str) -> list[str | int] | None:
    """``$.a.b[0]['c']`` -> ``["a", "b", 0, "c"]`` (RFC 9535 normalized paths); None if unreadable or out of bounds."""
    if not json_path.startswith("$"):
        return None
    steps: list[str | int] = []
    pos = 1
    while pos < len(json_path):
        m = _PATH_STEP.match(json_path, pos)
        if not m:
            return None
        name, index, quoted, dquoted = m.groups()
        if index is not None and int(index) > MAX_ARRAY_INDEX:
            return None
        key = quoted if quoted is not None else dquoted
        steps.append(
            int(index) if index is not None else name if name is not None else re.sub(r"\\(.)", r"\1", key or "")
        )
        pos = m.end()
    return steps if len(steps) <= MAX_PATH_STEPS else None


def _put(root: dict, steps: list[str | int], value: Any, append: bool) -> None:
    node: Any = root
    for step, following in zip(steps, steps[1:]):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            while len(node) <= step:
                node.append(None)
            if node[step] is None:
                node[step] = empty
            node = node[step]
        else:
            node = node.setdefault(step, empty)
    last = steps[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = node[last] + value if append and isinstance(node[last], str) else value
    else:
        node[last] = node[last] + value if append and isinstance(node.get(last), str) else value


def _refusal(explanation: Any) -> dict:
    """``stop_details`` for a Gemini refusal: no category Anthropic names, the upstream's own words if it gave any."""
    return {"type": "refusal", "category": None, "explanation": explanation if isinstance(explanation, str) else None}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class _StreamedCall:
    """A Vertex call whose arguments arrive as ``partialArgs`` (GEM-08)."""

    __slots__ = ("key", "id", "name", "args", "open_string")

    def __init__(self, key: int, call_id: str | None, name: str) -> None:
        self.key, self.id, self.name = key, call_id, name
        self.args: dict = {}
        self.open_string: list | None = None


class GeminiStream:
    """One Gemini response's parser state."""

    done_sentinel = None  # Gemini streams end when the connection closes (FIN-08)

    def __init__(self, options: dict | None = None) -> None:
        self.serial = 0
        self.streamed: _StreamedCall | None = None
        self.streamed_parts = 0
        self.cited: set[tuple] = set()
        self.meta_done = False
        self.counts: dict[str, Any] = {}

    def payload(self, obj: dict) -> list[tuple]:
        """One payload (a JSON object; the Translator unwraps lists and rejects the rest)."""
        out: list[tuple] = []
        if not self.meta_done:
            upstream_id, model = obj.get("responseId"), obj.get("modelVersion")
            self.meta_done = bool(upstream_id and model)
            if upstream_id or model:
                out.append(
                    (
                        META,
                        upstream_id if isinstance(upstream_id, str) else None,
                        model if isinstance(model, str) else None,
                    )
                )
        candidates = obj.get("candidates")
        if isinstance(candidates, list) and candidates:
            candidate = candidates[0]
            if isinstance(candidate, dict):
                self._candidate(candidate, out)
        else:
            feedback = obj.get("promptFeedback")
            if isinstance(feedback, dict) and feedback.get("blockReason"):  # GEM-09
                out.append((FINISH, "refusal", None, _refusal(feedback.get("blockReasonMessage"))))
        meta = obj.get("usageMetadata")
        if isinstance(meta, dict) and any(k in meta for k in USAGE_FIELDS):
            self.counts.update({k: meta[k] for k in USAGE_FIELDS if k in meta})
            usage = usage_facts(self.counts)
            if usage:
                out.append((USAGE, usage))
        if obj.get("error"):
            out.extend(self.end())
            out.append(error_fact(obj))
        return out

    def response(self, obj: Any) -> list[tuple]:
        """A complete ``generateContent`` response as facts."""
        if not isinstance(obj, dict):
            return [not_an_object(obj)]
        if obj.get("error"):
            return [error_fact(obj)]
        return [*self.payload(obj), *self.end(), (DONE,)]

    def calls_held(self) -> int:
        """Calls named but not yet given as facts: a Vertex call still streaming (its start is held back)."""
        return 1 if self.streamed is not None else 0

    def absorbed(self) -> int:
        """Pieces of a Vertex call still streaming its arguments (GEM-08): they become facts when it closes."""
        return self.streamed_parts

    def _sources(self, candidate: dict, out: list) -> None:
        """Google Search grounding (each supported text segment with its web sources) and recitation sources."""
        grounding = candidate.get("groundingMetadata")
        grounding = grounding if isinstance(grounding, dict) else {}
        chunks = [c.get("web") if isinstance(c, dict) else None for c in grounding.get("groundingChunks") or []]
        for support in grounding.get("groundingSupports") or []:
            segment = support.get("segment") if isinstance(support, dict) else None
            text = segment.get("text") if isinstance(segment, dict) else ""
            for n in support.get("groundingChunkIndices") or [] if isinstance(support, dict) else []:
                web = chunks[n] if isinstance(n, int) and 0 <= n < len(chunks) else None
                if isinstance(web, dict):
                    self._cite(web_citation(web.get("uri"), web.get("title"), text), out)
        recited = candidate.get("citationMetadata")
        for source in (recited.get("citations") or []) if isinstance(recited, dict) else []:
            if isinstance(source, dict):
                self._cite(web_citation(source.get("uri"), source.get("title")), out)

    def _cite(self, fact: tuple | None, out: list) -> None:
        if fact is not None and (fact[1]["url"], fact[1]["cited_text"]) not in self.cited:
            self.cited.add((fact[1]["url"], fact[1]["cited_text"]))
            out.append(fact)

    def end(self) -> list[tuple]:
        out: list[tuple] = []
        self._close_streamed(out)
        return out

    def _candidate(self, candidate: dict, out: list) -> None:
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        if isinstance(parts, list):
            for part in parts:
                if isinstance(part, dict):
                    self._part(part, out)
        if candidate.get("groundingMetadata") or candidate.get("citationMetadata"):
            self._sources(candidate, out)
        reason = candidate.get("finishReason")
        if isinstance(reason, str) and reason:
            self._close_streamed(out)
            if reason in FAILED_CALLS:
                detail = candidate.get("finishMessage")
                message = f"Gemini finished with {reason}" + (f": {detail}" if isinstance(detail, str) else "")
                out.append((ERROR, "api_error", message))
            else:
                mapped = FINISH_REASONS.get(reason, "end_turn")
                out.append(
                    (FINISH, mapped, None, _refusal(candidate.get("finishMessage")) if mapped == "refusal" else None)
                )

    def _part(self, part: dict, out: list) -> None:
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        call = part.get("functionCall")
        if isinstance(call, dict):
            self._function_call(call, signature, out)
            return
        self._close_streamed(out)
        text = part.get("text")
        if not isinstance(text, str):
            if signature:  # a signature on a part we do not translate still has to go back
                out.append((SIGNATURE, encode_signature("tail", signature)))
            return
        if part.get("thought"):
            out.append((REASONING, text))
            if signature:
                out.append((SIGNATURE, encode_signature("thought", signature)))
            return
        if signature:
            out.append((SIGNATURE, encode_signature("text" if text else "tail", signature)))
        if text:
            out.append((TEXT, text))

    def _function_call(self, call: dict, signature: str | None, out: list) -> None:
        name = call.get("name")
        call_id = call.get("id") if isinstance(call.get("id"), str) else None
        if isinstance(name, str) and name:
            self._close_streamed(out)
            if signature:
                out.append((SIGNATURE, encode_signature("call", signature)))
            key, self.serial = self.serial, self.serial + 1
            if "args" not in call and (call.get("willContinue") or "partialArgs" in call):  # GEM-08
                self.streamed = _StreamedCall(key, call_id, name)
                self.streamed_parts += 1
                self._partial_args(call.get("partialArgs"), out)
                if not call.get("willContinue"):
                    self._close_streamed(out)
                return
            args = call.get("args")
            out.append((TOOL, key, call_id, name, None, args if args is not None else {}))
            return
        if signature:  # on a continuation it belongs to the open call, else it stays as a tail
            out.append((SIGNATURE, encode_signature("call" if self.streamed else "tail", signature)))
        if self.streamed is None:
            if call.get("args") is not None or name is not None:
                out.append((ERROR, "api_error", f"Gemini sent a functionCall without a name: {str(call)[:200]}"))
            return  # an empty continuation with no call open carries nothing
        self._partial_args(call.get("partialArgs"), out)
        if not call.get("willContinue"):
            self._close_streamed(out)

    def _partial_args(self, partial_args: Any, out: list) -> None:
        streamed = self.streamed
        if streamed is None or not isinstance(partial_args, list):
            return
        for arg in partial_args:
            if not isinstance(arg, dict):
                continue
            self.streamed_parts += 1
            steps = _path(arg.get("jsonPath", "")) if isinstance(arg.get("jsonPath"), str) else None
            if not steps:
                out.append((ERROR, "api_error", f"unreadable partialArgs jsonPath {arg.get('jsonPath')!r}"))
                continue
            if "stringValue" in arg:
                value: Any = arg["stringValue"]
            elif "numberValue" in arg:
                value = arg["numberValue"]
            elif "boolValue" in arg:
                value = arg["boolValue"]
            else:
                value = None  # nullValue
            append = isinstance(value, str) and streamed.open_string == steps
            _put(streamed.args, steps, value, append)
            streamed.open_string = steps if isinstance(value, str) and arg.get("willContinue") else None

    def _close_streamed(self, out: list) -> None:
        streamed = self.streamed
        if streamed is not None:
            self.streamed = None
            out.append((TOOL, streamed.key, streamed.id, streamed.name, None, streamed.args))


# -- what a payload holds, field by field (coverage) ------------------------------------------------

_RATINGS = meta("safety ratings per harm category")

_PART = {
    "text": READ,
    "thought": READ,
    "thoughtSignature": READ,
    "functionCall": {"name": READ, "args": READ, "id": KEY, "partialArgs": READ, "willContinue": KEY},
    "executableCode": gap("code the model ran with the code-execution tool"),
    "codeExecutionResult": gap("the output of the code-execution tool"),
    "inlineData": gap("inline media (images, audio) the model produced"),
    "fileData": gap("a file the model referred to"),
}

FIELDS = {
    "responseId": KEY,
    "modelVersion": KEY,
    "createTime": meta("creation time"),
    "usageMetadata": {
        "promptTokenCount": READ,
        "cachedContentTokenCount": READ,
        "toolUsePromptTokenCount": READ,
        "candidatesTokenCount": READ,
        "thoughtsTokenCount": READ,
        ANY_KEY: meta("token breakdowns by modality, totals, traffic type and service tier"),
    },
    "promptFeedback": {
        "blockReason": READ,
        "blockReasonMessage": READ,
        "safetyRatings": _RATINGS,
    },
    "candidates": First(
        {
            "content": {"role": meta('always "model"'), "parts": [_PART]},
            "finishReason": READ,
            "finishMessage": READ,
            "index": KEY,
            "safetyRatings": _RATINGS,
            "avgLogprobs": meta("mean token log-probability"),
            "logprobsResult": meta("token log-probabilities"),
            "tokenCount": meta("the candidate's token count"),
            "citationMetadata": READ,
            "groundingMetadata": gap("Google Search grounding: sources and the text spans they support"),
            "urlContextMetadata": gap("the URLs the url-context tool retrieved"),
        }
    ),
    "error": READ,
}
"""A ``GenerateContentResponse``: each streamed chunk and the complete response have the same shape."""
