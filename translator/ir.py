"""The intermediate facts every upstream dialect is read into.

A fact is a plain tuple whose first item is its kind. Dialect parsers produce
them; the emitter consumes them; the oracle compares them with the emitted
events to prove nothing was lost. Tuples, not classes: this is the hot path.

    (TEXT, text)
    (REASONING, text)
    (SIGNATURE, signature)                 closes the current reasoning run's signature
    (REDACTED, data)                       opaque reasoning -> redacted_thinking
    (TOOL, key, id, name, args, snapshot)  one tool-call fragment; ``name`` and
                                           ``args`` are appended, ``snapshot``
                                           (a parsed object) replaces the arguments
    (FINISH, stop_reason, stop_sequence[, stop_details])
                                           stop_reason already mapped to Anthropic's enum; a refusal
                                           may say why (``stop_details`` as the API's)
    (USAGE, usage)                         cumulative Anthropic usage dict
    (ERROR, error_type, message)           upstream error: the stream ends in ``error``
    (META, id, model)                      upstream message id / model, when first seen
    (DONE,)                                the upstream's end-of-stream sentinel
    (CITATION, citation)                   a source the text cites, as an Anthropic citation object
"""

from __future__ import annotations

import math
from typing import Any

TEXT, REASONING, SIGNATURE, REDACTED, TOOL, FINISH, USAGE, ERROR, META, DONE, CITATION = range(11)

KIND_NAMES = (
    "text",
    "reasoning",
    "signature",
    "redacted",
    "tool",
    "finish",
    "usage",
    "error",
    "meta",
    "done",
    "citation",
)

STOP_REASONS = frozenset(
    {"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal", "model_context_window_exceeded"}
)

# HTTP status -> Anthropic error type (wire-formats D8 / A11).
_STATUS_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "overloaded_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}

# Upstream status words (Google RPC codes, OpenAI/vLLM error types) -> Anthropic.
_WORD_ERRORS = {
    "invalid_argument": "invalid_request_error",
    "invalid_request_error": "invalid_request_error",
    "badrequesterror": "invalid_request_error",
    "exceed_context_size_error": "invalid_request_error",
    "failed_precondition": "invalid_request_error",
    "unauthenticated": "authentication_error",
    "authentication_error": "authentication_error",
    "permission_denied": "permission_error",
    "not_found": "not_found_error",
    "not_found_error": "not_found_error",
    "resource_exhausted": "rate_limit_error",
    "rate_limit_error": "rate_limit_error",
    "rate_limit_exceeded": "rate_limit_error",
    "unavailable": "overloaded_error",
    "overloaded_error": "overloaded_error",
    "service_unavailable": "overloaded_error",
    "deadline_exceeded": "timeout_error",
    "gatewaytimeout": "timeout_error",
    "timeout_error": "timeout_error",
    "internal": "api_error",
    "api_error": "api_error",
    "internal_server_error": "api_error",
}


def error_type(status: object = None, word: object = None) -> str:
    """Anthropic ``error.type`` for an upstream status code, else its status word.

    The numeric status decides when there is one (an HTTP 401 whose body says
    ``invalid_request_error`` is still an authentication error); the word
    (Google RPC status, OpenAI/vLLM error type) decides when there is not.
    """
    code = status if isinstance(status, int) and not isinstance(status, bool) and status >= 400 else None
    if code is not None:
        if code in _STATUS_ERRORS:
            return _STATUS_ERRORS[code]
        return "invalid_request_error" if code < 500 else "api_error"
    if isinstance(word, str):
        return _WORD_ERRORS.get(word.lower(), "api_error")
    return "api_error"


def count(value: Any) -> int | None:
    """A token count, or None for anything that is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return int(value)


def error_fact(body: Any, status: int | None = None) -> tuple:
    """Any upstream error shape (OpenAI, vLLM, OpenRouter, Gemini, bare text) as an ERROR fact."""
    err = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(err, dict):
        message = err.get("message")
        if not isinstance(message, str) or not message:
            message = str(err)
        word = err.get("status") if isinstance(err.get("status"), str) else err.get("type")
        if word in (None, "error") and isinstance(err.get("code"), str):  # the Responses API's error event
            word = err["code"]
        code = status if status and status >= 400 else err.get("code")
        return (ERROR, error_type(code, word), message)
    return (ERROR, error_type(status), str(err) or f"upstream error (HTTP {status})")


def web_citation(url: Any, title: Any = None, cited_text: Any = "") -> tuple | None:
    """A web source as Anthropic's ``web_search_result_location`` (None without a URL).

    Upstreams give no ``encrypted_index`` (it only lets Anthropic's own API re-read its search
    results), so it is empty; ``cited_text`` is the text the source supports, when the upstream says.
    """
    if not isinstance(url, str) or not url:
        return None
    return (
        CITATION,
        {
            "type": "web_search_result_location",
            "url": url,
            "title": title if isinstance(title, str) and title else None,
            "encrypted_index": "",
            "cited_text": cited_text if isinstance(cited_text, str) else "",
        },
    )


def not_an_object(payload: Any) -> tuple:
    """The fact for a payload that is not a JSON object (arrays are read element by element)."""
    return (ERROR, "api_error", f"upstream payload is not a JSON object: {str(payload)[:200]}")
