"""Cassettes, deterministic replay, the oracle and the replay transport.

The package is grouped by role, each group importing only those below it
(``judge`` -> ``replay`` -> ``tape``; ``capture`` -> ``tape``), with ``cli`` and ``plugin`` on top:

- ``tape``: the cassette (model, load/save, redaction, dialect sniffing, Markdown embedding);
- ``capture``: getting streams in (record, proxy, importers);
- ``replay``: getting streams out (rechunk/replay, ``ReplayTransport``, the replay servers);
- ``judge``: the oracle, reports, shrink, diff, mutate, the quirk catalogue.

``recorder.replay`` here is the ``replay`` function, as it always was; the group's modules are
reached with ``from recorder.replay.<module> import ...`` (or ``from recorder.replay import ...``).

Every name below is imported on first use (``translator._lazy``): ``import recorder`` loads nothing, and a
command that judges nothing never loads the judge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from translator._lazy import lazy_package

if TYPE_CHECKING:
    from .judge import check_cassette
    from .replay import ReplayTransport, rechunk, replay
    from .tape import Cassette, CassetteError, load, save

__all__ = ["Cassette", "CassetteError", "ReplayTransport", "check_cassette", "load", "rechunk", "replay", "save"]

lazy_package(__name__)
