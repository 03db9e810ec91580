"""The emitter's two promises, as properties over random IR: grammar by construction,
and no fragment lost, whatever order text, reasoning and tool fragments arrive in."""

import json

from hypothesis import given
from hypothesis import strategies as st

from translator import Emitter, accumulate, stream_error, violations
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
