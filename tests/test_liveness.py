"""Liveness: never silent while the upstream speaks, and the hold-back measured from recorded timing."""

from __future__ import annotations

import json
import threading

import anyio
import httpx
import pytest
from helpers import CASSETTES, chunk, sse
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from recorder.capture import gateway_app
from recorder.judge import check_cassette
from recorder.judge.latency import holds
from recorder.replay import ReplayTransport
from recorder.replay.anthropic_side import PING, with_pings
from recorder.replay.asgi import running
from recorder.tape import load, parse_cassette
from translator import Translator

STREAMED_ARGS = CASSETTES / "vertex" / "gem-08-vertex-streamed-function-arguments.yaml"


def test_message_start_goes_out_at_the_first_payload_not_the_first_content():
    translator = Translator("openai")
    first = translator.feed(sse(chunk({"role": "assistant", "content": ""}), done=False))
    assert [e["type"] for e in first] == ["message_start"] and first[0]["message"]["model"] == "test-model"
    assert [e["type"] for e in translator.feed(sse(chunk({"content": "Hi"}), done=False))] == [
        "content_block_start",
        "content_block_delta",
    ]


def test_message_start_waits_for_the_model_when_the_first_payload_has_none():
    """Azure's first chunk carries only prompt filter results and an empty model (ENV-01)."""
    translator = Translator("openai")
    azure_first = {"id": "", "model": "", "choices": [], "prompt_filter_results": [{"prompt_index": 0}]}
    assert translator.feed(sse(azure_first, done=False)) == []
    assert translator.feed(sse(chunk({"role": "assistant"}), done=False))[0]["message"]["model"] == "test-model"


def _timed(path, step_ms: float) -> dict:
    data = load(path).model_dump(mode="python")
    tape = data["interactions"][0]["response"]["quirktape"]
    tape["t_ms"] = [n * step_ms for n in range(len(tape["offsets"]))]
    return data


def test_a_call_held_until_it_closes_is_measured_in_reads_and_recorded_ms():
    """Vertex streams a call's arguments as partialArgs; the translator must hold the call until it closes."""
    cassette = parse_cassette(_timed(STREAMED_ARGS, 100.0))  # one read per event, 100 ms apart
    # read by read (the wire): the second call is named in read 4, and closed in read 8 by the empty
    # functionCall with the finish; the first is named in read 0 and closed in read 3
    (start,) = [h for h in holds(cassette, 0) if h.unit == "tool start"]
    assert (start.reads, start.ms) == (4, 400.0)
    latency = {c.invariant: c for c in check_cassette(cassette, max_holdback_ms=50)}["latency"]
    assert latency.ok is False and latency.findings[0].category == "policy"
    assert {c.invariant: c for c in check_cassette(cassette)}["latency"].status == "ok"  # no limit: reported only


def test_text_passes_straight_through():
    cassette = parse_cassette(_timed(CASSETTES / "vertex" / "report-25836-add-numbers.yaml", 50.0))
    assert all(h.reads == 0 and h.ms == 0 for h in holds(cassette, 0))


def test_a_foreign_translator_has_no_latency_verdict():
    def foreign(pieces, dialect, **kw):
        from translator import translate_stream

        return translate_stream(pieces, dialect, **kw)

    assert {c.invariant: c for c in check_cassette(load(STREAMED_ARGS), foreign)}["latency"].ok is None


def test_served_streams_ping_through_recorded_silences():
    pieces = [(0.0, b"a"), (25_000.0, b"b"), (26_000.0, b"c")]
    assert with_pings(pieces, 10_000) == [(0.0, b"a"), (10_000.0, PING), (20_000.0, PING), *pieces[1:]]
    assert with_pings(pieces, None) == pieces
    data = _timed(STREAMED_ARGS, 12_000.0)  # seven reads, twelve seconds apart
    slept: list[float] = []
    transport = ReplayTransport(parse_cassette(data), side="anthropic", pace="recorded", sleep=slept.append)
    anthropic = pytest.importorskip("anthropic")
    httpx2 = pytest.importorskip("httpx2")
    client = anthropic.Anthropic(
        api_key="x", base_url="http://127.0.0.1:9", http_client=httpx2.Client(transport=transport)
    )
    ask = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    with client.messages.stream(**ask) as stream:
        assert stream.get_final_message().content[-1].type == "tool_use"  # the SDK takes the pings in its stride
    raw = httpx2.Client(transport=transport).post("http://127.0.0.1:9/v1/messages", json={**ask, "stream": True})
    # events go out at the reads that produce them: 0 s, then 48 s (the first call closes in read 4), then 72 s;
    # a ping every 10 s of silence: 4 in the first gap, 2 in the second
    assert raw.content.count(PING) == 6
    assert slept and max(slept) <= 10.0


def test_the_gateway_pings_while_the_upstream_is_silent(tmp_path):
    """The upstream sends one chunk, then says nothing until the client has heard a ping: no sleeps, no races."""
    heard = threading.Event()

    async def answer(request):
        async def pieces():
            yield sse(chunk({"role": "assistant", "content": "Hel"}), done=False)
            await anyio.to_thread.run_sync(heard.wait, 30)
            yield sse(chunk({"content": "lo"}, "stop"))

        return StreamingResponse(pieces(), media_type="text/event-stream")

    upstream = Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])
    request = {"model": "m", "max_tokens": 8, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    events = []
    with running(upstream) as url, running(gateway_app(f"{url}/v1", "openai", tmp_path, ping_after=0.05)) as gw:
        with httpx.stream("POST", f"{gw}/v1/messages", json=request, timeout=30) as reply:
            for line in reply.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if events[-1]["type"] == "ping":
                        heard.set()
    kinds = [e["type"] for e in events]
    assert heard.is_set() and "ping" in kinds and kinds.index("ping") > kinds.index("message_start")
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    assert text == "Hello" and kinds[-1] == "message_stop"
