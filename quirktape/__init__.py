"""quirktape as one import: the cassettes, replay and the oracle (``recorder``) and the sans-IO translator
(``translator``), so ``import quirktape`` names everything the two packages make public.

The code stays in ``recorder`` and ``translator`` (existing imports keep working); this package adds
``python -m quirktape``, the version, and carries the shipped cassette library in a wheel
(``quirktape/cassettes/``, see ``library_root``).
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any

from recorder import Cassette, CassetteError, ReplayTransport, load, rechunk, replay, save
from recorder.library import LibraryMissing, library_root
from translator import (
    DIALECTS,
    ENDINGS,
    ERROR_STATUS,
    KIND_NAMES,
    UNSIGNED,
    Dialect,
    Emitter,
    JsonPrefix,
    SSEDecoder,
    Translator,
    accumulate,
    accumulate_event,
    encode_sse,
    error_type,
    get_dialect,
    loads_partial,
    normalize_arguments,
    reply_for,
    stream_error,
    summary,
    to_gemini_request,
    to_openai_request,
    to_responses_request,
    translate_response,
    translate_stream,
    violations,
)

if TYPE_CHECKING:
    from recorder.judge import check_cassette

try:
    __version__ = metadata.version("quirktape")
except metadata.PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = [
    "DIALECTS",
    "ENDINGS",
    "ERROR_STATUS",
    "KIND_NAMES",
    "UNSIGNED",
    "Cassette",
    "CassetteError",
    "Dialect",
    "Emitter",
    "JsonPrefix",
    "LibraryMissing",
    "ReplayTransport",
    "SSEDecoder",
    "Translator",
    "__version__",
    "accumulate",
    "accumulate_event",
    "check_cassette",
    "encode_sse",
    "error_type",
    "get_dialect",
    "library_root",
    "load",
    "loads_partial",
    "normalize_arguments",
    "rechunk",
    "replay",
    "reply_for",
    "save",
    "stream_error",
    "summary",
    "to_gemini_request",
    "to_openai_request",
    "to_responses_request",
    "translate_response",
    "translate_stream",
    "violations",
]


def __getattr__(name: str) -> Any:
    """``check_cassette`` on first use, as in ``recorder``: importing quirktape does not load the judge."""
    if name == "check_cassette":
        from recorder.judge import check_cassette

        globals()[name] = check_cassette
        return check_cassette
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
