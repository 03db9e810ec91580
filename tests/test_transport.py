"""ReplayTransport: httpx and httpx2 clients, sync and async, and the official SDKs on top of them,
replay a cassette's bytes in its recorded pieces, with no server, no network and no sleeping."""

import asyncio
import gzip
import json
import socket

import httpx
import pytest
from helpers import CASSETTES

import recorder
from recorder.replay import ReplayTransport, rechunk, replay
from recorder.tape import load, parse_cassette
from translator import encode_sse

httpx2 = pytest.importorskip("httpx2")
try:
    import openai
except ImportError:  # the test extra installs it
    openai = None
try:
    import anthropic
except ImportError:
    anthropic = None
needs_openai = pytest.mark.skipif(openai is None, reason="the openai SDK is not installed")
needs_anthropic = pytest.mark.skipif(anthropic is None, reason="the anthropic SDK is not installed")

VLLM = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"
RESET = CASSETTES / "groq" / "err-06-connection-reset-mid-stream.yaml"
LIBS = [pytest.param(httpx, id="httpx"), pytest.param(httpx2, id="httpx2")]
BASE = "http://127.0.0.1:8000/v1"
COUNT = {
    "model": "deepseek-v4-pro",
    "messages": [{"role": "user", "content": "Count from 1 to 20."}],
    "max_tokens": 512,
}


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection attempt fails the test: replay needs no server, not even on loopback."""

    def refuse(*args, **kwargs):
        raise AssertionError("ReplayTransport tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def expected_text(path) -> str:
    return load(path).metadata.expect.content[0]["text"]


def recorded_pieces(path, index=0) -> list[bytes]:
    response = load(path).interactions[index].response
    return rechunk(response.raw, "recorded", response.quirktape.offsets)


def cassette(
    body: bytes,
    *,
    uri="http://127.0.0.1/v1/chat/completions",
    request_body="",
    offsets=None,
    t_ms=None,
    ending="done",
    status=(200, "OK"),
    headers=None,
    dialect="openai",
):
    tape = {"dialect": dialect, "stream": True, "ending": ending}
    if offsets is not None:
        tape["offsets"] = offsets
    if t_ms is not None:
        tape["t_ms"] = t_ms
    return parse_cassette(
        {
            "version": 1,
            "interactions": [
                {
                    "request": {"method": "POST", "uri": uri, "body": request_body, "headers": {}},
                    "response": {
                        "status": {"code": status[0], "message": status[1]},
                        "headers": headers or {"content-type": ["text/event-stream"]},
                        "body": {"string": body},
                        "quirktape": tape,
                    },
                }
            ],
        }
    )


def sync_raw(lib, transport, url=f"{BASE}/chat/completions", payload=None):
    """(status, reason, headers, pieces, error) as a sync client of ``lib`` sees them."""
    pieces = []
    with lib.Client(transport=transport) as client:
        with client.stream("POST", url, json=payload if payload is not None else {**COUNT, "stream": True}) as r:
            try:
                for piece in r.iter_raw():
                    pieces.append(piece)
            except lib.TransportError as exc:
                return r.status_code, r.reason_phrase, r.headers, pieces, exc
    return r.status_code, r.reason_phrase, r.headers, pieces, None


def async_raw(lib, transport, url=f"{BASE}/chat/completions", payload=None):
    async def run():
        pieces = []
        async with lib.AsyncClient(transport=transport) as client:
            body = payload if payload is not None else {**COUNT, "stream": True}
            async with client.stream("POST", url, json=body) as r:
                try:
                    async for piece in r.aiter_raw():
                        pieces.append(piece)
                except lib.TransportError as exc:
                    return r.status_code, r.reason_phrase, r.headers, pieces, exc
        return r.status_code, r.reason_phrase, r.headers, pieces, None

    return asyncio.run(run())


RAW = [pytest.param(sync_raw, id="sync"), pytest.param(async_raw, id="async")]


# The official openai SDK, over httpx and httpx2, sync and async.


@pytest.mark.parametrize("lib", LIBS)
@needs_openai
def test_openai_sdk_sync_streams_the_recorded_chunks(lib):
    http_client = lib.Client(transport=ReplayTransport(VLLM))
    client = openai.OpenAI(api_key="placeholder", base_url=BASE, http_client=http_client, max_retries=0)
    stream = client.chat.completions.create(**COUNT, stream=True)
    chunks = [c for c in stream]
    assert len(chunks) == 15  # one per recorded data: line before [DONE]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == expected_text(VLLM)
    assert chunks[-1].choices[0].finish_reason == "stop"
    # the same request without stream: the recorded non-streaming twin answers
    complete = client.chat.completions.create(**COUNT)
    assert complete.choices[0].message.content == expected_text(VLLM)
    assert complete.usage.completion_tokens == 52


@pytest.mark.parametrize("lib", LIBS)
@needs_openai
def test_openai_sdk_async_streams_the_recorded_chunks(lib):
    async def run():
        http_client = lib.AsyncClient(transport=ReplayTransport(VLLM))
        client = openai.AsyncOpenAI(api_key="placeholder", base_url=BASE, http_client=http_client, max_retries=0)
        stream = await client.chat.completions.create(**COUNT, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
        complete = await client.chat.completions.create(**COUNT)
        await client.close()
        return text, complete.choices[0].message.content

    assert asyncio.run(run()) == (expected_text(VLLM), expected_text(VLLM))


@pytest.mark.parametrize("lib", LIBS)
@needs_openai
def test_openai_sdk_sees_the_unmatched_request_as_not_found(lib):
    http_client = lib.Client(transport=ReplayTransport(VLLM))
    client = openai.OpenAI(api_key="placeholder", base_url=BASE, http_client=http_client, max_retries=0)
    with pytest.raises(openai.NotFoundError, match="no recorded interaction matches"):
        client.chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": "hi"}], stream=True)


@pytest.mark.parametrize("lib", LIBS)
@needs_openai
def test_openai_sdk_sees_the_reset_after_the_text(lib):
    http_client = lib.Client(transport=ReplayTransport(RESET, match=("method", "path")))
    client = openai.OpenAI(api_key="placeholder", base_url=BASE, http_client=http_client, max_retries=0)
    text = []
    with pytest.raises(openai.APIConnectionError) as caught:  # what the SDK raises for a live reset
        for c in client.chat.completions.create(model="openai/gpt-oss-120b", messages=[], stream=True):
            text.append(c.choices[0].delta.content or "")
    assert isinstance(caught.value.__cause__, lib.RemoteProtocolError)
    assert "".join(text) == expected_text(RESET)


# Raw clients: the bytes, the pieces, the status and the ending.


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("raw", RAW)
def test_iter_raw_yields_exactly_the_recorded_pieces(lib, raw):
    status, reason, headers, pieces, error = raw(lib, ReplayTransport(VLLM))
    assert (status, reason, error) == (200, "OK", None)
    assert headers["content-type"] == "text/event-stream"
    assert pieces == recorded_pieces(VLLM)
    assert len(pieces) == 16


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("strategy", ["bytes", "lines", "random:3"])
def test_rechunk_recuts_the_body(lib, strategy):
    response = load(VLLM).interactions[0].response
    _, _, _, pieces, _ = sync_raw(lib, ReplayTransport(VLLM, rechunk=strategy))
    assert pieces == rechunk(response.raw, strategy, response.quirktape.offsets)
    assert b"".join(pieces) == response.raw


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("raw", RAW)
def test_an_unmatched_request_gets_a_404_that_says_what_was_recorded(lib, raw):
    payload = {"model": "gpt-x", "messages": [], "stream": True}
    status, _, headers, pieces, _ = raw(lib, ReplayTransport(VLLM), f"{BASE}/completions", payload)
    assert status == 404
    assert headers["content-type"] == "application/json"
    error = json.loads(b"".join(pieces))
    assert error["type"] == "error"
    assert error["error"]["type"] == "not_found_error"
    message = error["error"]["message"]
    assert message.startswith(
        "quirktape: no recorded interaction matches POST /v1/completions (model=gpt-x, stream=true"
    )
    assert "recorded: POST /v1/chat/completions (model=deepseek-v4-pro, stream=true, 1 message)" in message
    assert "POST /v1/chat/completions (model=deepseek-v4-pro, stream=false, 1 message)" in message


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("raw", RAW)
def test_a_reset_cassette_raises_remote_protocol_error_after_the_bytes(lib, raw):
    status, _, _, pieces, error = raw(lib, ReplayTransport(RESET, match=("method", "path")))
    assert status == 200
    assert b"".join(pieces) == load(RESET).interactions[0].response.raw
    assert isinstance(error, lib.RemoteProtocolError)
    assert "reset" in str(error)


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("raw", RAW)
def test_a_timeout_cassette_raises_read_timeout_after_the_bytes(lib, raw):
    body = b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
    _, _, _, pieces, error = raw(lib, ReplayTransport(cassette(body, ending="timeout")))
    assert pieces == [body]
    assert isinstance(error, lib.ReadTimeout)


@pytest.mark.parametrize("lib", LIBS)
def test_status_reason_and_headers(lib):
    headers = {
        "Content-Type": ["application/json"],
        "Content-Length": ["999"],
        "transfer-encoding": ["chunked"],
        "content-encoding": ["gzip"],
        "x-request-id": ["a", "b"],
    }
    body = b'{"error": {"message": "slow down"}}'
    tape = cassette(gzip.compress(body), status=(429, "Too Many Requests (quota)"), headers=headers)
    with lib.Client(transport=ReplayTransport(tape)) as client:
        r = client.post(f"{BASE}/chat/completions", json={})
    assert (r.status_code, r.reason_phrase) == (429, "Too Many Requests (quota)")
    assert r.content == body  # decoded once, when read; not cut at the recorded (compressed) content-length
    assert "content-length" not in r.headers and "content-encoding" not in r.headers
    assert "transfer-encoding" not in r.headers
    assert r.headers.get_list("x-request-id") == ["a", "b"]


# Matching.


def test_equal_matches_answer_in_order_then_the_last_repeats():
    bodies = [b"data: one\n\n", b"data: two\n\n"]
    data = cassette(bodies[0]).model_dump()
    data["interactions"].append(cassette(bodies[1]).model_dump()["interactions"][0])
    transport = ReplayTransport(data)
    with httpx.Client(transport=transport) as client:
        got = [client.post("http://example.test/v1/chat/completions", json={}).content for _ in range(3)]
    assert got == [bodies[0], bodies[1], bodies[1]]
    assert [index for _, _, index in transport.calls] == [0, 1, 1]
    assert transport.unused == []

    strict = ReplayTransport(data, allow_repeats=False)
    with httpx.Client(transport=strict) as client:
        responses = [client.post("http://example.test/v1/chat/completions", json={}) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 404]
    assert "already used" in responses[2].json()["error"]["message"]


def test_an_empty_recorded_body_answers_any_body_and_a_placeholder_uri_any_path():
    body = b"data: [DONE]\n\n"
    placeholder = ReplayTransport(cassette(body))
    with httpx.Client(transport=placeholder) as client:
        assert client.post("https://api.example.com/anything", content=b"not json").content == body
    real = ReplayTransport(cassette(body, uri="http://127.0.0.1:8000/v1/chat/completions"))
    with httpx.Client(transport=real) as client:
        assert client.post(f"{BASE}/chat/completions", json={"model": "any"}).content == body
        assert client.post(f"{BASE}/completions", json={"model": "any"}).status_code == 404


def test_body_matching_ignores_what_does_not_matter():
    transport = ReplayTransport(VLLM)
    with httpx.Client(transport=transport) as client:
        extra = {**COUNT, "stream": True, "temperature": 0.2, "max_tokens": 7}
        assert client.post(f"{BASE}/chat/completions", json=extra).status_code == 200
        other = {**COUNT, "messages": [{"role": "user", "content": "Count to 3."}], "stream": True}
        assert client.post(f"{BASE}/chat/completions", json=other).status_code == 404
    loose = ReplayTransport(VLLM, match=("method", "path", "body:model"))
    with httpx.Client(transport=loose) as client:
        assert client.post(f"{BASE}/chat/completions", json=other).status_code == 200
    custom = ReplayTransport(VLLM, match=[lambda request, interaction: request.headers.get("x-pick") == "yes"])
    with httpx.Client(transport=custom) as client:
        assert client.get("http://x.test/", headers={"x-pick": "yes"}).status_code == 200
        assert client.get("http://x.test/").status_code == 404


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"match": ("method", "colour")}, "unknown match criterion"),
        ({"rechunk": "halves"}, "unknown rechunk"),
        ({"pace": "fast"}, "bad pace"),
        ({"pace": -1.0}, "bad pace"),
    ],
)
def test_bad_arguments_are_value_errors(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        ReplayTransport(VLLM, **kwargs)


def test_a_request_from_another_library_is_refused():
    with pytest.raises(TypeError, match="httpx and httpx2"):
        ReplayTransport(VLLM).handle_request(object())


# Pacing: an injected sleep, never a real one.

PACED_BODY = b"data: a\n\ndata: b\n\ndata: c\n\ndata: [DONE]\n\n"
PACED = cassette(PACED_BODY, offsets=[0, 9, 18, 27], t_ms=[100.0, 150.0, 400.0, 400.5])
GAPS = [0.05, 0.25, 0.0005]


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize(("pace", "scale"), [("recorded", 1.0), (2.0, 2.0), (0.5, 0.5)])
def test_pace_sleeps_the_recorded_gaps_sync(lib, pace, scale):
    slept = []
    _, _, _, pieces, _ = sync_raw(lib, ReplayTransport(PACED, pace=pace, sleep=slept.append))
    assert len(pieces) == 4
    assert slept == pytest.approx([g * scale for g in GAPS])


@pytest.mark.parametrize("lib", LIBS)
def test_pace_sleeps_the_recorded_gaps_async(lib):
    slept = []

    async def fake_sleep(seconds):
        slept.append(seconds)

    _, _, _, pieces, _ = async_raw(lib, ReplayTransport(PACED, pace="recorded", sleep=fake_sleep))
    assert len(pieces) == 4
    assert slept == pytest.approx(GAPS)


@pytest.mark.parametrize("pace", [None, "none"])
def test_no_pace_never_sleeps(pace):
    def fail(seconds):
        raise AssertionError("slept")

    _, _, _, pieces, _ = sync_raw(httpx, ReplayTransport(PACED, pace=pace, sleep=fail))
    _, _, _, pieces2, _ = async_raw(httpx2, ReplayTransport(PACED, pace=pace, sleep=fail))
    assert b"".join(pieces) == b"".join(pieces2) == PACED_BODY


def test_pace_with_rechunk_waits_only_where_a_recorded_read_began():
    slept = []
    _, _, _, pieces, _ = sync_raw(httpx, ReplayTransport(PACED, rechunk="bytes", pace="recorded", sleep=slept.append))
    assert len(pieces) == len(PACED_BODY)
    assert [s for s in slept if s] == pytest.approx(GAPS)


# The official anthropic SDK (httpx2 only) against an Anthropic-shaped body.


def anthropic_cassette():
    """The vLLM stream translated to Anthropic events, as an Anthropic /v1/messages answer."""
    events = replay(load(VLLM)).events
    request = {"model": "claude-test", "max_tokens": 64, "messages": [{"role": "user", "content": "Count."}]}
    return cassette(
        b"".join(encode_sse(e) for e in events),
        uri="http://127.0.0.1:8000/v1/messages",
        request_body=json.dumps({**request, "stream": True}),
        dialect="anthropic",
    ), request


@needs_anthropic
def test_anthropic_sdk_sync_over_httpx2():
    tape, request = anthropic_cassette()
    http_client = httpx2.Client(transport=ReplayTransport(tape))
    client = anthropic.Anthropic(
        api_key="placeholder", base_url="http://127.0.0.1:8000", http_client=http_client, max_retries=0
    )
    with client.messages.stream(**request) as stream:
        text = "".join(stream.text_stream)
        message = stream.get_final_message()
    assert text == expected_text(VLLM)
    assert message.content[0].text == expected_text(VLLM)
    assert message.stop_reason == "end_turn"
    with pytest.raises(anthropic.NotFoundError, match="recorded: POST /v1/messages"):
        client.messages.create(**{**request, "model": "claude-other"})


@needs_anthropic
def test_anthropic_sdk_async_over_httpx2():
    tape, request = anthropic_cassette()

    async def run():
        http_client = httpx2.AsyncClient(transport=ReplayTransport(tape))
        client = anthropic.AsyncAnthropic(
            api_key="placeholder", base_url="http://127.0.0.1:8000", http_client=http_client, max_retries=0
        )
        async with client.messages.stream(**request) as stream:
            text = "".join([t async for t in stream.text_stream])
            message = await stream.get_final_message()
        await client.close()
        return text, message

    text, message = asyncio.run(run())
    assert text == message.content[0].text == expected_text(VLLM)
    assert message.stop_reason == "end_turn"


def test_the_recorder_package_exports_the_public_api():
    assert recorder.ReplayTransport is ReplayTransport
    for name in ("Cassette", "load", "save", "CassetteError", "replay", "rechunk", "check_cassette"):
        assert name in recorder.__all__ and hasattr(recorder, name)
