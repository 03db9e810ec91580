"""The bundled cassette library, checked three ways: our oracle, the official Anthropic SDK,
and random re-splitting of every cassette's bytes."""

import pytest
from helpers import cassette_paths
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.cassette import load
from recorder.oracle import check_cassette
from recorder.replay import replay
from translator import accumulate, encode_sse, stream_error, translate_stream

PATHS = cassette_paths()
IDS = [str(p.relative_to(p.parents[1])) for p in PATHS]


def test_the_library_is_not_empty():
    assert len(PATHS) >= 3


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_oracle(path):
    failures = [f"{c.invariant}: {'; '.join(c.details)}" for c in check_cassette(load(path)) if c.ok is False]
    assert not failures, "\n".join(failures)


def _sdk_final_message(events: list[dict]):
    anthropic = pytest.importorskip("anthropic")
    httpx2 = pytest.importorskip("httpx2")
    frames = [encode_sse(e) for e in events]

    def handler(request):
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=iter(frames))

    client = anthropic.Anthropic(
        api_key="placeholder",
        base_url="http://127.0.0.1:9",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )
    with client.messages.stream(model="m", max_tokens=16, messages=[{"role": "user", "content": "hi"}]) as stream:
        return stream.get_final_message()


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_official_sdk_accumulates_every_replay_like_we_do(path):
    anthropic = pytest.importorskip("anthropic")
    cassette = load(path)
    for index in range(len(cassette.interactions)):
        events = replay(cassette, index).events
        error = stream_error(events)
        if error:
            with pytest.raises(anthropic.APIStatusError) as info:
                _sdk_final_message(events)
            assert error["message"] in str(info.value)
            continue
        ours = accumulate(events)
        final = _sdk_final_message(events)
        theirs = final.model_dump(mode="json", exclude_none=True)
        for block, sdk_block in zip(theirs["content"], final.content):
            if block["type"] == "tool_use":
                block["input"] = sdk_block.input  # exclude_none must not touch tool input data
        assert theirs == _without_none(ours)


def _without_none(value):
    """Our message as the SDK dumps it with exclude_none; tool input is data and keeps its nulls."""
    if isinstance(value, dict):
        return {k: v if k == "input" else _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


@settings(max_examples=300)
@given(data=st.data())
def test_random_splits_of_every_cassette_give_identical_output(data):
    path = data.draw(st.sampled_from(PATHS), label="cassette")
    cassette = load(path)
    index = data.draw(st.integers(0, len(cassette.interactions) - 1), label="interaction")
    expected = replay(cassette, index).events
    response = cassette.interactions[index].response
    body = response.raw
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(body)), max_size=40), label="cuts")))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)])]
    events, _ = translate_stream(
        pieces,
        response.quirktape.dialect,
        ending=response.quirktape.ending,
        status=response.status.code,
        options=cassette.metadata.options or None,
    )
    assert events == expected
