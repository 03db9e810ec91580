"""The emitter's promises, as properties over random IR: grammar by construction, no fragment
lost, whatever order text, reasoning and tool fragments arrive in, and tool input that the official
SDK's strict parser accepts, wherever the upstream's arguments were cut."""

import json

import pytest
from helpers import chunk, sdk_agrees, sse, tool
from hypothesis import given, settings
from hypothesis import strategies as st

from translator import Emitter, accumulate, stream_error, translate_stream, violations
from translator.ir import DONE, ERROR, FINISH, REASONING, SIGNATURE, TEXT, TOOL, USAGE

names = st.sampled_from(["read", "write", "grep"])
args_objects = st.dictionaries(st.sampled_from(["a", "b", "path"]), st.integers() | st.text(max_size=5), max_size=3)


@st.composite
def fact_streams(draw):
    """Random interleavings of text, reasoning and up to three tool calls split into fragments."""
    pieces = []
    for n in range(draw(st.integers(0, 3))):
        text = json.dumps(draw(args_objects))
        cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=3)))
        frags = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
        call = [(TOOL, n, f"call_{n:08d}", draw(names), frags[0], None)]
        call += [(TOOL, n, None, None, f, None) for f in frags[1:]]
        pieces.append(call)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from([TEXT, REASONING]))
        pieces.append([(kind, draw(st.text(min_size=1, max_size=6)))])
    # interleave while keeping each call's own fragments in order
    order = []
    queues = [list(p) for p in pieces]
    while any(queues):
        q = draw(st.sampled_from([q for q in queues if q]))
        order.append(q.pop(0))
    if draw(st.booleans()):
        order.append((SIGNATURE, "sig"))
    order.append((USAGE, {"input_tokens": 3, "output_tokens": 4}))
    order.append((FINISH, draw(st.sampled_from(["end_turn", "tool_use", "max_tokens"])), None))
    order.append((DONE,))
    return order


def run(facts, cut=None):
    emitter = Emitter("m")
    emitter.apply(facts)
    emitter.end(cut)
    return emitter.take()


@given(fact_streams())
def test_any_fact_order_gives_a_valid_stream_that_loses_nothing(facts):
    events = run(facts)
    assert violations(events) == []
    msg = accumulate(events)
    text = "".join(f[1] for f in facts if f[0] == TEXT)
    reasoning = "".join(f[1] for f in facts if f[0] == REASONING)
    assert "".join(b["text"] for b in msg["content"] if b["type"] == "text") == text
    assert "".join(b["thinking"] for b in msg["content"] if b["type"] == "thinking") == reasoning
    calls = {}
    for f in facts:
        if f[0] == TOOL:
            calls.setdefault(f[1], [f[3], ""])[1] += f[4]
    tools = [(b["name"], b["input"]) for b in msg["content"] if b["type"] == "tool_use"]
    assert tools == [(name, json.loads(args)) for name, args in calls.values()]


@given(fact_streams())
def test_an_error_anywhere_keeps_what_arrived_and_ends_in_error(facts):
    cut = len(facts) // 2
    events = run([*facts[:cut], (ERROR, "overloaded_error", "busy")])
    assert violations(events) == []
    assert events[-1] == {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    text = "".join(f[1] for f in facts[:cut] if f[0] == TEXT)
    assert "".join(b["text"] for b in (accumulate(events) or {"content": []})["content"] if b["type"] == "text") == text


def test_error_before_anything_is_a_lone_error_event():
    assert run([(ERROR, "rate_limit_error", "slow")]) == [
        {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}
    ]


def test_a_call_that_never_gets_a_name_is_an_error_not_a_silent_drop():
    events = run([(TOOL, 0, "call_12345678", None, '{"a": 1}', None), (FINISH, "tool_use", None), (DONE,)])
    assert stream_error(events)["type"] == "api_error"


def test_thinking_blocks_carry_one_signature_delta():
    events = run([(REASONING, "hm"), (SIGNATURE, "abc"), (TEXT, "ok"), (FINISH, "end_turn", None), (DONE,)])
    sigs = [
        e["delta"]["signature"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "signature_delta"
    ]
    assert sigs == ["abc"]


def test_usage_is_cumulative_in_message_delta():
    events = run(
        [
            (TEXT, "x"),
            (USAGE, {"input_tokens": 1, "output_tokens": 1}),
            (USAGE, {"input_tokens": 9, "output_tokens": 5}),
            (FINISH, "end_turn", None),
        ]
    )
    delta = next(e for e in events if e["type"] == "message_delta")
    assert delta["usage"]["input_tokens"] == 9 and delta["usage"]["output_tokens"] == 5


def test_upstream_tool_ids_kept_when_valid_and_derived_otherwise():
    events = run(
        [
            (TOOL, 0, "call_valid_id_1", "a", "{}", None),
            (TOOL, 1, "functions.get_weather:0", "b", "{}", None),
            (TOOL, 2, "0", "c", "{}", None),
            (FINISH, "tool_use", None),
        ]
    )
    ids = [e["content_block"]["id"] for e in events if e["type"] == "content_block_start"]
    assert ids[0] == "call_valid_id_1"
    assert all(i.startswith("toolu_") and len(i) == 30 for i in ids[1:])
    assert len(set(ids)) == 3


# Tool input the SDK's strict parser (jiter) must accept: a character is sent only whole.


def openai_tool_call(fragments: list[str], finish: str) -> list[dict]:
    """One OpenAI tool call whose arguments arrive in ``fragments``, then ``finish``, through the translator."""
    calls = [tool(0, "call_12345678" if n == 0 else None, "f" if n == 0 else None, f) for n, f in enumerate(fragments)]
    events, _ = translate_stream([sse(*[chunk({"tool_calls": [c]}) for c in calls], chunk({}, finish))], ending="eof")
    return events


def sdk_input(events: list[dict]) -> dict:
    """The tool input the official anthropic SDK's stream accumulator ends with (it re-parses after each delta)."""
    streaming = pytest.importorskip("anthropic.lib.streaming")
    snapshot, buffers = None, {}
    for event in events:
        snapshot = streaming._messages.accumulate_event(event=event, current_snapshot=snapshot, json_bufs=buffers)
    (block,) = [b for b in snapshot.content if b.type == "tool_use"]
    return block.input


def strict_input(events: list[dict]):
    """The tool input sent, read by jiter (the SDK's JSON parser) as complete JSON: no lone surrogate passes."""
    jiter = pytest.importorskip("jiter")
    sent = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    return jiter.from_json("".join(d["partial_json"] for d in sent if d["type"] == "input_json_delta").encode())


# Arguments cut by max_tokens ("length"): the character the cut split never arrived, so it is dropped;
# every character before it arrived whole and is kept, and the open string is closed.
CUT = [
    pytest.param(['{"a": "\\ud8'], {"a": ""}, id="inside-an-escape"),
    pytest.param(['{"a": "x\\u00'], {"a": "x"}, id="inside-a-bmp-escape"),
    pytest.param(['{"a": "x\\'], {"a": "x"}, id="after-the-backslash"),
    pytest.param(['{"a": "\\ud83d'], {"a": ""}, id="after-the-high-half"),
    pytest.param(['{"a": "\\ud83d\\'], {"a": ""}, id="between-the-halves"),
    pytest.param(['{"a": "\\ud83d\\ude'], {"a": ""}, id="inside-the-low-half"),
    pytest.param(['{"a": "ok \\ud83d\\ude00', "\\ud8"], {"a": "ok 😀"}, id="a-whole-pair-is-kept"),
    pytest.param(['{"a": "\\ud8', "3d\\u", "de"], {"a": ""}, id="across-fragments"),
    pytest.param(['{"k\\ud8'], {"k": None}, id="inside-a-key"),
]


@pytest.mark.parametrize(("fragments", "expected"), CUT)
def test_a_call_cut_inside_a_character_is_accepted_by_the_official_sdk(fragments, expected):
    events = openai_tool_call(fragments, "length")
    assert violations(events) == []
    assert strict_input(events) == expected
    assert sdk_input(events) == expected
    assert accumulate(events)["stop_reason"] == "max_tokens"
    sdk_agrees(events)


# A surrogate that arrived without its other half is not a character: U+FFFD takes its place.
LONE = [
    pytest.param(['{"a": "\\udc00"}'], {"a": "\ufffd"}, id="a-lone-low-half"),
    pytest.param(['{"a": "x\\ud800y"}'], {"a": "x\ufffdy"}, id="a-lone-high-half"),
    pytest.param(['{"a": "\\ud800', '\\ud800\\udc00"}'], {"a": "\ufffd\U00010000"}, id="a-high-half-then-a-pair"),
    pytest.param(['{"\\udfff": "\\ud83d"}'], {"\ufffd": "\ufffd"}, id="in-a-key-and-at-the-end"),
    pytest.param(['{"a": "\\\\ud800"}'], {"a": "\\ud800"}, id="an-escaped-backslash-is-text"),
    # the payload's own JSON escapes split one character into two arguments fragments
    pytest.param(['{"a": "\ud83d', '\ude00"}'], {"a": "😀"}, id="a-raw-pair-across-fragments"),
    pytest.param(['{"a": "\udc00"}'], {"a": "\ufffd"}, id="a-raw-lone-half"),
]


@pytest.mark.parametrize(("fragments", "expected"), LONE)
def test_a_lone_surrogate_becomes_the_replacement_character(fragments, expected):
    events = openai_tool_call(fragments, "tool_calls")
    assert violations(events) == []
    assert strict_input(events) == expected
    assert sdk_input(events) == expected
    sdk_agrees(events)


def test_a_snapshot_with_a_lone_surrogate_is_sent_mended():
    events = run([(TOOL, 0, "call_12345678", "f", None, {"a": "x\udc00", "b": ["\ud83d\ude00"]}), (DONE,)])
    assert strict_input(events) == {"a": "x\ufffd", "b": ["😀"]}


astral = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)
strings = st.text(st.one_of(astral, st.sampled_from('a"\\/é\n\u2028')), max_size=4)
objects = st.dictionaries(
    strings, st.recursive(strings | st.integers(), lambda inner: st.lists(inner, max_size=2), max_leaves=3), max_size=3
)


@settings(max_examples=40)
@given(objects)
def test_every_cut_of_escaped_arguments_is_accepted_by_jiter_and_the_sdk(obj):
    text = json.dumps(obj)  # ASCII: every non-BMP character is an escaped surrogate pair
    for cut in range(len(text) + 1):
        cut_events = run([(TOOL, 0, "call_12345678", "f", text[:cut], None), (FINISH, "max_tokens", None), (DONE,)])
        assert isinstance(strict_input(cut_events), dict)
        assert sdk_input(cut_events) == accumulate(cut_events)["content"][0]["input"]
        split = [(TOOL, 0, "call_12345678", "f", text[:cut], None), (TOOL, 0, None, None, text[cut:], None)]
        whole_events = run([*split, (FINISH, "tool_use", None), (DONE,)])
        assert strict_input(whole_events) == obj
        assert sdk_input(whole_events) == obj
