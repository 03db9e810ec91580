"""Sans-IO translation of upstream LLM streams into the Anthropic Messages API.

Bytes in, Anthropic events out; no network, files, clocks or randomness.

Names are imported from their modules on first use, so that a caller loads only what it uses:
``import translator`` loads nothing, and replaying a stream never loads the request translators or the
grammar.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

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

_LAZY = {
    **dict.fromkeys(
        ("ERROR_STATUS", "accumulate", "accumulate_event", "reply_for", "stream_error", "summary"), ".accumulate"
    ),
    **dict.fromkeys(("UNSIGNED", "Emitter"), ".emitter"),
    "to_gemini_request": ".gemini_request",
    "violations": ".grammar",
    **dict.fromkeys(("KIND_NAMES", "error_type"), ".ir"),
    **dict.fromkeys(("JsonPrefix", "loads_partial", "normalize_arguments"), ".jsontext"),
    "to_openai_request": ".openai_request",
    "to_responses_request": ".responses_request",
    **dict.fromkeys(("SSEDecoder", "encode_sse"), ".sse"),
    **dict.fromkeys(
        ("DIALECTS", "ENDINGS", "Dialect", "Translator", "get_dialect", "translate_response", "translate_stream"),
        ".stream",
    ),
}


class _Translator(ModuleType):
    """This package: each name above imported from its module on first use, and kept.

    ``accumulate`` is a function and a module: the import system binds the module on the package when
    it is first imported, which would hide the function; that binding is skipped.
    """

    def __getattr__(self, name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        module = __name__ + _LAZY[name]
        __import__(module)  # as an import statement does (python -X importtime times it)
        value = getattr(sys.modules[module], name)
        ModuleType.__setattr__(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, ModuleType) and value.__name__ == f"{__name__}.{name}":
            return
        ModuleType.__setattr__(self, name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_LAZY})


sys.modules[__name__].__class__ = _Translator

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
