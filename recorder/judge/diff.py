"""Two translations side by side, event by event."""

from __future__ import annotations

import difflib
import json


def _lines(events: list[dict]) -> list[str]:
    return [json.dumps(event, ensure_ascii=False, sort_keys=True) for event in events]


def event_diff(a: list[dict], b: list[dict], labels: tuple[str, str] = ("reference", "under test")) -> list[str]:
    """A unified diff of two event lists, one event per line; empty when they are equal."""
    return [
        line.rstrip("\n") for line in difflib.unified_diff(_lines(a), _lines(b), labels[0], labels[1], n=2, lineterm="")
    ]
