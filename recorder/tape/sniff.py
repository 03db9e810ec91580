"""Which wire dialect a URL, a payload or a body speaks — decided, never assumed.

There is no default dialect: a body read as the wrong one translates into an empty
message that looks like success. ``import``, ``proxy``, ``record`` and the cassette
loader ask here, and where neither the URL nor the payloads tell, the caller must
ask the user (``--upstream``). Formats that are recognised but are not translator
inputs (the Anthropic target format, other APIs) get a name too, so the refusal can
say what the input was.

Gemini payloads as the google SDK serialises them (``function_call``,
``usage_metadata``…) are Gemini too, but no parser reads those keys: ``to_wire_keys``
gives them back the wire's camelCase.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from translator import DIALECTS
from translator.jsonarray import JsonArrayDecoder

from .cassette import CassetteError

FOREIGN = {
    "openai-completions": "an OpenAI legacy Completions response (text completion, not a supported upstream dialect)",
    "ollama-generate": "an Ollama /api/generate response (text completion, not a supported upstream dialect)",
    "cohere": "a Cohere v2 chat response (not a supported upstream dialect)",
}
"""Recognised formats that quirktape does not translate, with the reason a refusal gives."""

UPSTREAMS = tuple(sorted(name for name in DIALECTS if name not in FOREIGN))
"""The translator's dialects, every one an upstream may speak: Anthropic too (what a gateway sends its
client, and what Anthropic-compatible endpoints stream), read into the same facts so the oracle judges it."""

_URL_RULES = (
    (re.compile(r":(?:stream)?generatecontent$"), "gemini"),
    (re.compile(r"/chat/completions$"), "openai"),
    (re.compile(r"/completions$"), "openai-completions"),
    (re.compile(r"/api/chat$"), "ollama"),
    (re.compile(r"/api/generate$"), "ollama-generate"),
    (re.compile(r"/messages$"), "anthropic"),
    (re.compile(r"/responses$"), "responses"),
    (re.compile(r"/v2/chat$"), "cohere"),
)
"""Endpoint path suffixes, lower-cased; the first that matches wins."""

_ANTHROPIC_EVENTS = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    }
)
_COHERE_EVENTS = frozenset(
    {
        "message-start",
        "content-start",
        "content-delta",
        "content-end",
        "tool-plan-delta",
        "tool-call-start",
        "tool-call-delta",
        "tool-call-end",
        "citation-start",
        "citation-end",
        "message-end",
    }
)
_GEMINI_KEYS = frozenset({"candidates", "promptFeedback", "usageMetadata", "prompt_feedback", "usage_metadata"})


def url_dialect(url: str) -> str | None:
    """The dialect an endpoint path (or whole URL) names: case-insensitive, percent-decoded, query ignored."""
    path = unquote(url.split("?", 1)[0].split("#", 1)[0]).rstrip("/").lower()
    for rule, dialect in _URL_RULES:
        if rule.search(path):
            return dialect
    return None


def payload_dialect(obj: Any) -> str | None:
    """The dialect one parsed payload (or a complete response) is in, if it is an LLM payload at all."""
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    if isinstance(kind, str):
        if kind in _ANTHROPIC_EVENTS or (kind == "message" and isinstance(obj.get("content"), list)):
            return "anthropic"
        if kind.startswith("response."):
            return "responses"
        if kind in _COHERE_EVENTS:
            return "cohere"
    if obj.get("object") == "response" and "output" in obj:
        return "responses"
    if obj.get("object") == "text_completion":
        return "openai-completions"
    if _GEMINI_KEYS & obj.keys():
        return "gemini"
    if "choices" in obj or str(obj.get("object", "")).startswith("chat.completion"):
        return "openai"
    if "done" in obj and "response" in obj and "message" not in obj:
        return "ollama-generate"
    if "done" in obj and ("message" in obj or "created_at" in obj):
        return "ollama"
    return None


def payloads_dialect(payloads: Any) -> str | None:
    """The first dialect any of the first 50 payloads tells (an error or a metadata-only payload tells none)."""
    if isinstance(payloads, dict):
        payloads = [payloads]
    if not isinstance(payloads, list):
        return None
    for payload in payloads[:50]:
        found = payload_dialect(payload)
        if found:
            return found
    return None


_EVENT_NAME = re.compile(r"^event: ?([^\r\n]+)", re.M)
_DATA = re.compile(r"^data: ?([^\r\n]*)", re.M)
_DATA_BYTES = re.compile(_DATA.pattern.encode(), re.M)


def sse_payloads(text: str | bytes, limit: int = 50) -> list[Any]:
    """The first ``limit`` ``data:`` payloads of an SSE text that parse as JSON.

    Bytes are read as their UTF-8 text would be (bad bytes replaced), payload by payload: a long
    stream is not decoded whole to read its first payloads.
    """
    found = []
    for match in (_DATA if isinstance(text, str) else _DATA_BYTES).finditer(text):
        payload = match.group(1)
        try:
            found.append(json.loads(payload if isinstance(payload, str) else payload.decode("utf-8", "replace")))
        except (ValueError, RecursionError):
            continue
        if len(found) >= limit:
            break
    return found


def json_payloads(head: str, limit: int = 50) -> list[Any]:
    """The payloads of a JSON body: one document, a streamed JSON array (even cut), or one JSON per line."""
    try:
        whole = json.loads(head)
        return whole if isinstance(whole, list) else [whole]
    except (ValueError, RecursionError):
        pass
    if head.startswith("["):
        texts = [data for event, data in JsonArrayDecoder().feed(head.encode("utf-8", "replace")) if event is None]
    else:
        texts = [line.strip() for line in head.splitlines() if line.strip()]
    found = []
    for text in texts[:limit]:
        try:
            found.append(json.loads(text))
        except (ValueError, RecursionError):
            continue
    return found


def body_dialect(text: str) -> str | None:
    """The dialect a body speaks, read off the body: SSE (event names, then payloads), NDJSON, JSON."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head:
        return None
    if head[0] in "{[":
        return payloads_dialect(json_payloads(head))
    names = {m.group(1).strip() for m in _EVENT_NAME.finditer(head[:200_000])}
    if names & _ANTHROPIC_EVENTS:
        return "anthropic"
    if any(name.startswith("response.") for name in names):
        return "responses"
    if names & _COHERE_EVENTS:
        return "cohere"
    return payloads_dialect(sse_payloads(head))


def exchange_dialect(url: str, body: str) -> str | None:
    """One exchange's dialect: its payloads when they tell (they are what gets translated), else its URL path.

    Both usually agree; an error body or an empty one tells nothing, and the URL decides.
    """
    return body_dialect(body) or url_dialect(url)


class NotTranslatable(CassetteError):
    """The input is a recognised format quirktape does not translate, or nothing tells its dialect."""


def translatable(found: str | None, option: str) -> str:
    """``found`` when it is an upstream dialect; otherwise why not, in one line naming the ``option`` that decides."""
    if found in UPSTREAMS:
        return found
    if found in FOREIGN:
        raise NotTranslatable(f"refused: {FOREIGN[found]}")
    raise NotTranslatable(
        f"neither the URL path nor the payloads tell the upstream dialect, and there is no default; "
        f"pass {option} ({', '.join(UPSTREAMS)})"
    )


def body_framing(text: str, content_type: str = "") -> str:
    """How a response body is framed, read off the body (servers mislabel content types).

    ``whole``: one JSON document, a complete response; ``ndjson``: one JSON object per line;
    ``array``: Gemini's streamed JSON array; ``sse`` otherwise. The content type only breaks the
    one tie the body cannot: a single JSON line is an NDJSON stream when the server said so.
    """
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("{"):
        if "ndjson" in content_type.lower():
            return "ndjson"
        try:
            json.loads(head)
            return "whole"
        except (ValueError, RecursionError):
            lines = [line for line in head.splitlines() if line.strip()]
            return "ndjson" if len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines) else "whole"
    return "array" if head.startswith("[") else "sse"


# --- Gemini as the google SDK serialises it --------------------------------------------------------

_SNAKE_GEMINI = (
    frozenset({"usage_metadata", "prompt_feedback", "model_version", "response_id", "create_time"}),
    frozenset({"finish_reason", "finish_message", "safety_ratings", "citation_metadata", "grounding_metadata"}),
    frozenset({"function_call", "function_response", "thought_signature", "inline_data", "file_data"}),
)
"""snake_case keys only the SDK writes: on the response, on a candidate, on a part."""

_USER_DATA = frozenset({"args", "response", "partMetadata"})
"""Wire fields whose value is the user's data (call arguments, function responses): renamed, never entered."""

_SDK_ONLY = frozenset({"sdk_http_response", "automatic_function_calling_history", "parsed"})
"""Fields the SDK adds that the wire never has (HTTP headers, history, parsed output): kept exactly as they are."""

_SNAKE_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def is_snake_gemini(obj: Any) -> bool:
    """A Gemini payload as the google SDK serialises it (``usage_metadata``, ``function_call``…), not as the wire."""
    if not isinstance(obj, dict):
        return False
    top, candidate_keys, part_keys = _SNAKE_GEMINI
    if top & obj.keys():
        return True
    candidates = obj.get("candidates")
    for candidate in candidates if isinstance(candidates, list) else []:
        if not isinstance(candidate, dict):
            continue
        if candidate_keys & candidate.keys():
            return True
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        if any(isinstance(p, dict) and part_keys & p.keys() for p in (parts if isinstance(parts, list) else [])):
            return True
    return False


def _camel(key: str) -> str:
    if not _SNAKE_KEY.fullmatch(key):
        return key
    head, *rest = key.split("_")
    return head + "".join(word.capitalize() for word in rest)


def to_wire_keys(value: Any) -> Any:
    """A Gemini payload with the SDK's snake_case keys renamed to the wire's camelCase; user data untouched."""
    if isinstance(value, list):
        return [to_wire_keys(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key in _SDK_ONLY:
            out[key] = item
            continue
        name = _camel(key)
        out[name] = item if name in _USER_DATA else to_wire_keys(item)
    return out
