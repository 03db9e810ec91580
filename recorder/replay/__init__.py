"""Getting streams out: a cassette's bytes, re-cut and replayed, to a translator or to a client.

- ``playback``: ``rechunk`` (where the body is cut into reads, made lazily), ``replay`` (one interaction
  through a translator), ``stream_events`` (quirktape's translation, event by event),
  ``load_translator`` (a translator under test from ``module:callable``) and
  ``TranslateFn``, the signature every translator has;
- ``transport``: ``ReplayTransport``, a cassette answering any httpx or httpx2 client, no server;
- ``anthropic_side``: answering an Anthropic client with a cassette's translation, in the recorded
  pieces and pace;
- ``serve``: the replay server over real HTTP, impersonating the upstream or a gateway;
- ``asgi``: running that server (and the proxy) with uvicorn on a socket bound first.

The names below are imported from their modules on first use (``translator._lazy``): ``quirktape replay``
loads ``playback`` alone. ``serve`` and ``asgi`` are imported from their modules
(``recorder.replay.serve``, ``recorder.replay.asgi``), not re-exported here: they load starlette and
uvicorn, which ``import recorder`` and the pytest plugin do not need.

Imports ``tape`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from translator._lazy import lazy_package

if TYPE_CHECKING:
    from .anthropic_side import FOLLOW_UP, timed_events
    from .playback import (
        Pieces,
        Replay,
        TranslateFn,
        TranslatorFailed,
        load_translator,
        pick,
        rechunk,
        replay,
        stream_events,
    )
    from .transport import DEFAULT_MATCH, ReplayTransport

__all__ = [
    "DEFAULT_MATCH",
    "FOLLOW_UP",
    "Pieces",
    "Replay",
    "ReplayTransport",
    "TranslateFn",
    "TranslatorFailed",
    "load_translator",
    "pick",
    "rechunk",
    "replay",
    "stream_events",
    "timed_events",
]

lazy_package(__name__)
