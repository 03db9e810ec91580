"""Getting streams in: live capture, a recording proxy, and importers for what people already have.

- ``record``: one request to a live upstream, every network read kept with its time;
- ``proxy``: a recording reverse proxy between a gateway and its upstream, one cassette per exchange;
- ``gateway``: a live, recording Anthropic gateway (Anthropic client in, a live upstream out);
- ``importers``: the format registry, format detection and ``import_bytes`` / ``import_file`` /
  ``import_files``, over the two format families:
- ``bodies``: one response body (raw SSE, chunk lists, Gemini's JSON array, NDJSON, a complete
  response);
- ``recordings``: recorded HTTP traffic (vcrpy and go-vcr cassettes, llama-stack recordings, HAR).

The names below are imported from their modules on first use (``translator._lazy``): ``import`` loads
the importers alone, and only ``record``, ``proxy`` and ``gateway`` load httpx (the servers starlette).

Imports ``tape`` only: capturing never judges or replays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from translator._lazy import lazy_package

if TYPE_CHECKING:
    from .gateway import gateway_app
    from .importers import FORMATS, detect_format, import_bytes, import_file, import_files
    from .proxy import proxy_app
    from .record import record

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

lazy_package(__name__)
