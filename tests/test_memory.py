"""The oracle's memory against body size: the parts that read a body payload by payload keep nothing of it.

Measured in process with tracemalloc (no timings): the peak above what the loaded cassette itself
holds, for a body eight times larger, stays within twice the smaller one's plus a constant.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable

import pytest

from recorder.judge.latency import holds
from recorder.judge.oracle import check_cassette, conservation, coverage, sdk_problems
from recorder.replay import replay
from recorder.tape import Body, Cassette, Interaction, Request, Response, Status, Tape

TEXT = "lorem ipsum dolor sit amet " * 8  # about 220 characters per chunk


def _cassette(chunks: int) -> Cassette:
    frames = ['data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n']
    frame = "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": TEXT}}]}) + "\n\n"
    frames += [frame] * chunks
    frames.append('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    offsets, at = [], 0
    for f in frames:
        offsets.append(at)
        at += len(f)
    response = Response(
        status=Status(code=200, message="OK"),
        headers={"content-type": ["text/event-stream"]},
        body=Body(string="".join(frames)),
        quirktape=Tape(dialect="openai", ending="done", offsets=offsets),
    )
    request = Request(method="POST", uri="http://127.0.0.1/v1/chat/completions")
    return Cassette(interactions=[Interaction(request=request, response=response)])


def _peak_above(fn: Callable[[], object]) -> int:
    """The bytes ``fn`` allocates at its peak, above what was allocated when it was called."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


SMALL, LARGE = 4_000, 32_000  # about 1 MB and 8 MB of body
CONSTANT = 1 << 20


def test_coverage_is_flat_in_body_size() -> None:
    small, large = _cassette(SMALL), _cassette(LARGE)
    assert coverage(small, 0) == [] and coverage(large, 0) == []
    a, b = _peak_above(lambda: coverage(small, 0)), _peak_above(lambda: coverage(large, 0))
    assert b <= 2 * a + CONSTANT, (a, b)


def test_latency_keeps_counts_not_reads() -> None:
    """Latency keeps two counts per upstream read for each kind of content the stream has (compact arrays;
    here text only), not the reads, the events or the IR."""
    large = _cassette(LARGE)
    reads = len(large.interactions[0].response.quirktape.offsets or [])
    body = len(large.interactions[0].response.body.string)
    peak = _peak_above(lambda: holds(large, 0))
    assert peak <= 2 * 8 * 2 * reads + CONSTANT // 8, (peak, reads)  # arrays grow by doubling at most
    assert peak < body / 2, (peak, body)


def test_conservation_keeps_no_tuple_per_event() -> None:
    """A conserved text is joined once on each side: the peak is the two texts, not a pair per delta."""
    run = replay(_cassette(LARGE))
    assert conservation(run) == []
    text = LARGE * len(TEXT)
    assert _peak_above(lambda: conservation(run)) <= 3 * text + CONSTANT


def _tiny_cassette(chunks: int) -> Cassette:
    """Many small chunks (a few characters of text each): what is kept per event, not per character, shows."""
    cassette = _cassette(0)
    response = cassette.interactions[0].response
    head, tail = response.body.string.split("\n\n", 1)
    frames = [head + "\n\n"]
    frames += [
        "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": f" t{i % 97}"}}]}) + "\n\n"
        for i in range(chunks)
    ]
    frames.append(tail)
    offsets, at = [], 0
    for f in frames:
        offsets.append(at)
        at += len(f)
    response.body = Body(string="".join(frames))
    response.quirktape = Tape(dialect="openai", ending="done", offsets=offsets)
    return cassette


def _check_peak(cassette: Cassette) -> tuple[int, dict[str, str]]:
    """The check's peak above the loaded cassette, and each invariant's status."""
    results: dict[str, str] = {}
    peak = _peak_above(lambda: results.update((c.invariant, c.status) for c in check_cassette(cassette)))
    return peak, results


def test_check_holds_no_translation() -> None:
    """quirktape's own translation is made again each time the check reads it, not held: five times the
    chunks add a few bytes per chunk (latency's counts), not a text delta's string (~50 bytes) or more."""
    check_cassette(_tiny_cassette(10))  # what is made once per process (compiled patterns, imports) is not counted
    (a, results), (b, _) = _check_peak(_tiny_cassette(1_000)), _check_peak(_tiny_cassette(5_000))
    assert results["grammar"] == results["conservation"] == results["rechunk"] == "ok", results
    assert b - a <= 24 * 4_000, (a, b, (b - a) / 4_000)


def test_check_is_flat_in_body_size() -> None:
    """Eight times the body (same characters per chunk): the check's peak above the loaded cassette
    stays within the smaller one's and a little, below the larger body (the text is never held)."""
    check_cassette(_cassette(10))
    small, large = _cassette(300), _cassette(2_400)
    (a, first), (b, second) = _check_peak(small), _check_peak(large)
    assert first == second and first["conservation"] == "ok", (first, second)
    body = len(large.interactions[0].response.body.string)
    assert b <= a + (1 << 18) and b < body / 2, (a, b, body)


def test_sdk_check_parses_a_long_tool_input_once() -> None:
    """The SDK re-parses a tool's input after every delta; the check gives its verdicts without doing so."""
    jiter = pytest.importorskip("jiter")
    parts = ['{"items": ['] + [f'{{"n": {i}, "s": "x{i}"}}, ' for i in range(5_000)] + ['{"n": -1}]}']
    events = [{"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "input": {}}}]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": p}}
        for p in parts
    ]
    events.append({"type": "content_block_stop", "index": 0})
    text = sum(len(p) for p in parts)
    parsed = []
    real = jiter.from_json

    def counting(data: bytes, **kwargs: object) -> object:
        parsed.append(len(data))
        return real(data, **kwargs)

    broken = [
        *events[:-2],
        {**events[-2], "delta": {"type": "input_json_delta", "partial_json": '{"n": ]}'}},
        events[-1],
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jiter, "from_json", counting)
        assert sdk_problems(events) == []
        assert sum(parsed) <= 2 * text, (sum(parsed), text)
        parsed.clear()
        found = sdk_problems(broken)
        assert len(found) == 1 and found[0].startswith(f"event {len(broken) - 2}:"), found
        assert sum(parsed) <= 20 * text, (sum(parsed), text)  # halving: a few whole parses, not one per delta


def test_import_holds_a_long_body_twice_at_most(tmp_path) -> None:
    """Importing a long stream holds its bytes and its text, nothing more per byte: the format is read off
    the bytes, the scrub reads the text in place, and the cassette is written to its file as it is made
    (libyaml is handed a stand-in for the body, not the body)."""
    from recorder.capture.importers import import_file
    from recorder.tape import load, save

    source = tmp_path / "long.sse"
    frame = "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": TEXT}}]}) + "\n\n"
    source.write_text(frame * 20_000 + "data: [DONE]\n\n")
    size = source.stat().st_size  # about 5 MB
    out = tmp_path / "long.yaml"
    peak = _peak_above(lambda: save(import_file(source), out))
    assert peak <= 2.3 * size + CONSTANT, (peak, peak / size)
    assert load(out).interactions[0].response.raw == source.read_bytes()
