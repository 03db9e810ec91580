"""The bundled cassette library, checked three ways: our oracle, the official Anthropic SDK,
and random re-splitting of every cassette's bytes."""

import pytest
from helpers import cassette_paths, sdk_agrees
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.judge import check_cassette
from recorder.replay import replay
from recorder.tape import load
from translator import translate_stream

PATHS = cassette_paths()
IDS = [str(p.relative_to(p.parents[1])) for p in PATHS]


def test_the_library_is_not_empty():
    assert len(PATHS) >= 3


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_oracle(path):
    failures = [f"{c.invariant}: {'; '.join(c.details)}" for c in check_cassette(load(path)) if c.ok is False]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_official_sdk_accumulates_every_replay_like_we_do(path):
    cassette = load(path)
    for index in range(len(cassette.interactions)):
        sdk_agrees(replay(cassette, index).events)


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
