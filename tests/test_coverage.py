"""coverage: a judge that did not read its input must not say green.

Each example below passed every other invariant before coverage existed: the content sat
in a field or an event the dialect never reads, so the translation was an empty message
that nothing noticed.
"""

from __future__ import annotations

import json

import pytest
from helpers import cassette_paths, chunk, sse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recorder.judge import check_cassette, coverage
from recorder.tape import Cassette, load, parse_cassette
from translator import DIALECTS
from translator.coverage import ANY_KEY, First, Shapes, trace_findings


def one(body: bytes | str, dialect: str = "openai", stream: bool = True) -> Cassette:
    text = body.decode() if isinstance(body, bytes) else body
    return parse_cassette(
        {
            "interactions": [
                {
                    "request": {"method": "POST", "uri": "http://127.0.0.1/v1/chat/completions", "body": ""},
                    "response": {
                        "status": {"code": 200, "message": "OK"},
                        "headers": {"content-type": ["text/event-stream" if stream else "application/json"]},
                        "body": {"string": text},
                        "quirktape": {"dialect": dialect, "stream": stream, "ending": "done"},
                    },
                }
            ]
        }
    )


def coverage_check(cassette: Cassette):
    return {c.invariant: c for c in check_cassette(cassette)}["coverage"]


def failures(cassette: Cassette) -> list[str]:
    check = coverage_check(cassette)
    assert check.ok is False, check
    return [f.detail for f in check.findings if not f.warn]


COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "391"}, "finish_reason": "stop"}],
}


def test_example_1_a_complete_response_read_as_a_stream_chunk():
    found = failures(one(sse(COMPLETION)))
    assert any("choices[0].message" in f and "'delta' is not beside it" in f for f in found), found


def test_example_1_the_same_body_as_a_complete_response_is_read():
    assert coverage_check(one(json.dumps(COMPLETION, indent=2), stream=False)).status == "ok"


def _event(name: str, payload: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()


RESPONSES_DELTA = {"type": "response.output_text.delta", "sequence_number": 1, "output_index": 0, "delta": "Hi"}
RESPONSES_SSE = _event("response.created", {"type": "response.created", "response": {"id": "r"}}) + _event(
    "response.output_text.delta", RESPONSES_DELTA
)
ANTHROPIC_SSE = _event("message_start", {"type": "message_start", "message": {"id": "msg_1", "content": []}}) + _event(
    "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}
)
COHERE = sse(
    {"type": "message-start", "id": "c1", "delta": {"message": {"role": "assistant"}}},
    {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hi"}}}},
    done=False,
)


@pytest.mark.parametrize(
    "body, path",
    [
        (RESPONSES_SSE, "(event: response.output_text.delta)"),
        (sse(RESPONSES_DELTA, done=False), "payload 0 delta"),
        (ANTHROPIC_SSE, "(event: message_start)"),
        (COHERE, "payload 1 delta"),
    ],
    ids=["responses-sse", "responses-unnamed", "anthropic-sse", "cohere-v2"],
)
def test_example_2_other_apis_read_as_openai_chunks(body, path):
    found = failures(one(body))
    assert any(path in f for f in found), found


SNAKE_GEMINI = (
    b"data: "
    + json.dumps(
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [
                            {"function_call": {"name": "get_weather", "args": {"city": "Paris"}}},
                            {"function_call": {"name": "get_weather", "args": {"city": "Rome"}}},
                        ],
                    },
                    "finish_reason": "STOP",
                }
            ],
            "usage_metadata": {"prompt_token_count": 10, "candidates_token_count": 8},
        }
    ).encode()
    + b"\r\n\r\n"
)


def test_example_3_snake_case_gemini_names_every_unread_path():
    found = failures(one(SNAKE_GEMINI, "gemini"))
    for path in (
        "candidates[0].content.parts[0].function_call",
        "candidates[0].content.parts[1].function_call",
        "candidates[0].finish_reason",
        "usage_metadata",
    ):
        assert any(path in f for f in found), (path, found)


def test_example_4_a_gemini_stream_labelled_openai():
    body = b"data: " + json.dumps({"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]}).encode() + b"\r\n\r\n"
    found = failures(one(body, "openai"))
    assert any(f.startswith("payload 0 candidates") for f in found), found


def test_choices_after_the_first_are_unread():
    two = {"id": "x", "model": "m", "choices": [{"index": 0, "delta": {"content": "a"}}, {"index": 1, "delta": {}}]}
    two["choices"][1]["delta"]["content"] = "b"
    assert any(f.startswith("payload 0 choices[1]") for f in failures(one(sse(two))))
    only_second = {"id": "x", "model": "m", "choices": [{"index": 1, "delta": {"content": "b"}}]}
    assert any("produced nothing" in f for f in failures(one(sse(chunk({"content": "a"}), only_second))))


def test_declared_gaps_warn_and_never_fail():
    groq_search = [{"index": 0, "type": "search", "arguments": '{"query": "weather"}', "output": "sunny"}]
    body = sse(chunk({"content": "Paris", "executed_tools": groq_search}))
    check = coverage_check(one(body))
    assert check.ok is True and check.status == "warn"
    assert "choices[0].delta.executed_tools" in check.details[0]


def test_data_after_the_end_marker_is_ignored_by_policy_not_reported():
    after = b"data: " + json.dumps(chunk({"content": " more"})).encode() + b"\n\n"
    assert coverage_check(one(sse(chunk({"content": "Hi"}, "stop")) + after)).status == "ok"


def test_content_held_back_by_the_parser_is_read():
    """A think tag split across payloads yields no fact where it arrives: absorbed, not lost."""
    body = sse(*(chunk({"content": part}) for part in ("<th", "ink>why", "</think>", "Paris")), chunk({}, "stop"))
    cassette = one(body)
    cassette.metadata.options = {"think_tags": "tags"}
    assert coverage_check(cassette).status == "ok"


@pytest.mark.parametrize("path", cassette_paths(), ids=lambda p: p.parent.name + "/" + p.stem)
def test_the_library_has_no_unread_content(path):
    cassette = load(path)
    unread = [str(f) for i in range(len(cassette.interactions)) for f in coverage(cassette, i) if not f.warn]
    assert unread == []


# -- property: any unknown content-bearing field is caught ----------------------------------------------


def _described_objects(value, node, path=()):
    """Paths of the objects in ``value`` that their declaration lists field by field (no catch-all)."""
    if isinstance(node, Shapes):
        node = node.by_type.get({dict: "object", list: "array", str: "string"}.get(type(value)))
    if isinstance(node, First):
        if isinstance(value, list) and value:
            yield from _described_objects(value[0], node.node, (*path, 0))
        return
    if isinstance(node, list) and isinstance(value, list):
        for n, item in enumerate(value):
            yield from _described_objects(item, node[0], (*path, n))
        return
    if isinstance(node, dict) and isinstance(value, dict):
        if ANY_KEY not in node:
            yield path
        for key, item in value.items():
            if key in node:
                yield from _described_objects(item, node[key], (*path, key))


def _payload_sites() -> list[tuple[dict, tuple]]:
    """(payload, path of a described object in it) for the OpenAI payloads of a sample of the library."""
    sites = []
    for path in cassette_paths()[::4]:
        response = load(path).interactions[0].response
        if response.status.code >= 400 or not response.is_stream or response.quirktape.dialect != "openai":
            continue
        for line in response.raw.decode("utf-8", "replace").splitlines():
            if line.startswith("data: {"):
                payload = json.loads(line[6:])
                sites += [(payload, where) for where in _described_objects(payload, DIALECTS["openai"].fields)]
    return sites


SITES = _payload_sites()
VALUES = st.one_of(
    st.text(min_size=1, max_size=20),
    st.integers(min_value=1),
    st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=5), st.text(min_size=1, max_size=5), min_size=1, max_size=2),
)


def _at(payload: dict, where: tuple) -> tuple[dict, dict]:
    """The object at ``where`` and the declaration that describes it."""
    target, node = payload, DIALECTS["openai"].fields
    for step in where:
        node = node.node if isinstance(node, First) else node[0] if isinstance(node, list) else node[step]
        target = target[step]
        if isinstance(node, Shapes):
            node = node.by_type[{dict: "object", list: "array"}[type(target)]]
    return target, node


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site=st.sampled_from(SITES), key=st.text(min_size=1, max_size=12), value=VALUES)
def test_any_unknown_content_field_fails_coverage(site, key, value):
    payload, where = json.loads(json.dumps(site[0])), site[1]
    target, node = _at(payload, where)
    if key in node:
        return  # a declared field, not an unknown one
    target[key] = value
    trace = [("message", json.dumps(payload), [(0, "x")], 0)]
    found = [f.path for f in trace_findings(DIALECTS["openai"], trace, whole=False) if not f.gap]
    label = ""
    for step in (*where, key):
        label = f"{label}[{step}]" if isinstance(step, int) else f"{label}.{step}" if label else step
    assert f"payload 0 {label}" in found, (label, found)


def test_the_property_reaches_every_depth():
    depths = {len(where) for _, where in SITES}
    assert {0, 2, 3, 5} <= depths  # the envelope, choices[0], choices[0].delta, a tool call's function
