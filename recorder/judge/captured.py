"""Judging Anthropic output someone already captured from a gateway, against the cassette it came from.

The gateway's stream is the translation under test: its events are compared with what the
cassette's upstream said (conservation, errors, expect) and checked against the API's grammar.
It cannot be re-cut, so rechunk does not apply; ``gauntlet`` re-serves other cuts instead.
"""

from __future__ import annotations

import json
from typing import Any

from translator import SSEDecoder, translate_response

from ..replay import TranslateFn
from ..tape import CassetteError


def read_output(body: bytes) -> list[dict]:
    """An SSE capture's events as they were sent; a complete message as the events of the same stream."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return translate_response(body, "anthropic")[0]
    decoder = SSEDecoder()
    events = []
    for n, (_, data) in enumerate([*decoder.feed(body), *decoder.close()]):
        if not data.strip():
            continue
        try:
            event = json.loads(data)
        except (ValueError, RecursionError):
            raise CassetteError(f"event {n} of the captured output is not JSON: {data[:80]!r}") from None
        if not isinstance(event, dict):
            raise CassetteError(f"event {n} of the captured output is not a JSON object")
        events.append(event)
    if not events:
        raise CassetteError("the captured output holds no Anthropic events")
    return events


def captured(events: list[dict] | dict[bytes, list[dict]]) -> TranslateFn:
    """A translator under test that answers with the captured events.

    Given a mapping, each upstream body (the exact bytes of one recorded response) gets the
    events the gateway answered it with, so one judgement covers a stream and its twin.
    """

    def translate(pieces: Any, dialect: str, **kwargs: Any) -> tuple[list[dict], None]:
        if isinstance(events, dict):
            return list(events.get(b"".join(pieces), [])), None
        return list(events), None

    translate.rechunkable = False  # type: ignore[attr-defined]
    return translate
