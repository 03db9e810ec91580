"""Sans-IO translation of upstream LLM streams into the Anthropic Messages API.

Bytes in, Anthropic events out; no network, files, clocks or randomness.

Names are imported from their modules on first use, so that a caller loads only what it uses:
``import translator`` loads nothing, and replaying a stream never loads the request translators or the
grammar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_package

if TYPE_CHECKING:
    from .accumulate import ERROR_STATUS, accumulate, accumulate_event, reply_for, stream_error, summary
    from .emitter import UNSIGNED, Emitter
    from .gemini_request import to_gemini_request
    from .grammar import violations
    from .ir import KIND_NAMES, error_type
    from .jsontext import JsonPrefix, loads_partial, normalize_arguments
    from .openai_request import to_openai_request
    from .responses_request import to_responses_request
    from .sse import SSEDecoder, encode_sse
    from .stream import DIALECTS, ENDINGS, Dialect, Translator, get_dialect, translate_response, translate_stream

__all__ = [
    "DIALECTS",
    "ERROR_STATUS",
    "ENDINGS",
    "KIND_NAMES",
    "UNSIGNED",
    "Dialect",
    "Emitter",
    "JsonPrefix",
    "SSEDecoder",
    "Translator",
    "accumulate",
    "accumulate_event",
    "encode_sse",
    "error_type",
    "get_dialect",
    "loads_partial",
    "normalize_arguments",
    "reply_for",
    "stream_error",
    "summary",
    "to_gemini_request",
    "to_openai_request",
    "to_responses_request",
    "translate_response",
    "translate_stream",
    "violations",
]

lazy_package(__name__)
