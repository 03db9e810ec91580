"""Getting streams in: live capture, a recording proxy, and importers for what people already have.

- ``record``: one request to a live upstream, every network read kept with its time;
- ``proxy``: a recording reverse proxy between a gateway and its upstream, one cassette per exchange;
- ``gateway``: a live, recording Anthropic gateway (Anthropic client in, a live upstream out);
- ``importers``: the format registry, format detection and ``import_bytes`` / ``import_file`` /
  ``import_files``, over the two format families:
- ``bodies``: one response body (raw SSE, chunk lists, Gemini's JSON array, NDJSON, a complete
  response);
- ``recordings``: recorded HTTP traffic (vcrpy and go-vcr cassettes, llama-stack recordings, HAR).

Imports ``tape`` only: capturing never judges or replays.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .importers import FORMATS, detect_format, import_bytes, import_file, import_files
from .record import record  # eager: the submodule shares the name, and importing it later would rebind it

if TYPE_CHECKING:
    from .gateway import gateway_app
    from .proxy import proxy_app

_LAZY = {"gateway_app": ".gateway", "proxy_app": ".proxy"}
"""The servers load starlette (and uvicorn to run): imported on first use (PEP 562), not by ``import``."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMATS",
    "detect_format",
    "gateway_app",
    "import_bytes",
    "import_file",
    "import_files",
    "proxy_app",
    "record",
]
