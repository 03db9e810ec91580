"""The fast paths give what the code they replaced gave: the SSE decoder working on bytes, JSON read by
pydantic_core (``jsontext.loads``), ``loads_partial`` by pydantic_core's partial parser, ``JsonPrefix``
with its number automaton and undo journal, ``encode_sse`` by ``to_json``, and the framing choice that
no longer rescans leading whitespace. The reference implementations are the previous ones, verbatim
(``reference_impl``); nothing here is timed (``bench/run.py`` prints the figures)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_impl import OldJsonPrefix, OldSSEDecoder, old_loads_partial

from translator import JsonPrefix, SSEDecoder, Translator, encode_sse, loads_partial
from translator.jsontext import _scan_partial, loads

# --- the SSE decoder --------------------------------------------------------------------------

_SSE_PARTS = [
    b"data:",
    b"data: ",
    b"data",
    b"event: x",
    b"event:",
    b"error: e",
    b": c",
    b"id: 1",
    b"retry: 5",
    b"\r",
    b"\n",
    b"\r\n",
    b"a",
    b" ",
    b"{}",
    b"\xef\xbb\xbf",
    b"\xe4\xbd",
    b"\xa0",
    b"\xc3",
    b"\xa9",
    b"\xff",
    "é😀\u2028".encode(),
]


def _decode(cls: type, pieces: list[bytes]) -> list:
    decoder, out = cls(), []
    for piece in pieces:
        out += decoder.feed(piece)
    return out + decoder.close()


def _cut(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)])]


@settings(max_examples=3000)
@given(st.lists(st.sampled_from(_SSE_PARTS), max_size=16), st.lists(st.integers(0, 200), max_size=6))
def test_sse_decoder_gives_what_the_text_decoder_gave(parts, cuts):
    pieces = _cut(b"".join(parts), cuts)
    assert _decode(SSEDecoder, pieces) == _decode(OldSSEDecoder, pieces)


@given(st.binary(max_size=60), st.lists(st.integers(0, 80), max_size=5))
def test_sse_decoder_on_any_bytes(body, cuts):
    pieces = _cut(body, cuts)
    assert _decode(SSEDecoder, pieces) == _decode(OldSSEDecoder, pieces)


def test_sse_decoder_byte_order_mark_split_and_alone():
    for body in (b"\xef\xbb\xbfdata: a\n\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\ndata: b", b"\xef\xbbdata: c\n\n"):
        for cut in range(len(body) + 1):
            pieces = [body[:cut], body[cut:]]
            assert _decode(SSEDecoder, pieces) == _decode(OldSSEDecoder, pieces)


# --- JSON values -------------------------------------------------------------------------------

_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
)
_values = st.recursive(
    _leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=12
)


def _same(a, b) -> bool:
    """Equal values of equal types, NaN equal to NaN, dict keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def _outcome(fn, text):
    try:
        return "value", fn(text)
    except ValueError:
        return "error", None


@settings(max_examples=2000)
@given(_values, st.booleans(), st.sampled_from([None, 2]))
def test_loads_gives_what_json_loads_gives(value, ascii_only, indent):
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    kind, got = _outcome(loads, text)
    want_kind, want = _outcome(json.loads, text)
    assert kind == want_kind and _same(got, want)


@settings(max_examples=2000)
@given(_values, st.integers(0, 10**6), st.text(max_size=3))
def test_loads_on_broken_text_fails_or_agrees_as_json_loads_does(value, at, junk):
    text = json.dumps(value, ensure_ascii=at % 2 == 0)
    at %= len(text) + 1
    text = text[:at] + junk + text[at:]
    kind, got = _outcome(loads, text)
    want_kind, want = _outcome(json.loads, text)
    assert kind == want_kind and _same(got, want)


@pytest.mark.parametrize(
    "text",
    [
        '"\\ud800"',
        '"\\udc00\\ud800"',
        '"\ud800"',
        "1e99999",
        "-0",
        "[-0.0]",
        '{"a":1,"a":2}',
        "NaN",
        "[Infinity, -Infinity]",
        "9" * 5000,
        "[" * 3000 + "]" * 3000,
        "\ufeff{}",
        " \t\n{} \r",
        '"\\u0000\u2028"',
    ],
)
def test_loads_edge_cases(text):
    try:
        want = ("value", json.loads(text))
    except (ValueError, RecursionError) as exc:
        want = ("error", type(exc))
    try:
        got = ("value", loads(text))
    except (ValueError, RecursionError) as exc:
        got = ("error", type(exc))
    assert got[0] == want[0] and (got[0] == "error" and got[1] == want[1] or _same(got[1], want[1]))


# --- loads_partial -----------------------------------------------------------------------------

_objects = st.dictionaries(st.text(max_size=4), _values, max_size=4)


@settings(max_examples=600)
@given(_objects, st.booleans(), st.sampled_from([None, 1]))
def test_loads_partial_gives_what_it_gave_at_every_cut(obj, ascii_only, indent):
    text = json.dumps(obj, ensure_ascii=ascii_only, indent=indent)
    for cut in sorted({*range(0, len(text) + 1, max(1, len(text) // 40)), *range(max(0, len(text) - 8), len(text))}):
        prefix = text[:cut]
        assert _same(loads_partial(prefix), old_loads_partial(prefix)), prefix


@settings(max_examples=1000)
@given(_objects, st.integers(0, 10**6), st.sampled_from(["x", "]", "}", ",", '"', "\\", "\\u", "\n", "NaN", "-", "1e"]))
def test_loads_partial_on_broken_prefixes(obj, at, junk):
    text = json.dumps(obj)
    at %= len(text) + 1
    text = text[:at] + junk + text[at:]
    for cut in range(at, len(text) + 1, max(1, (len(text) - at) // 8)):
        prefix = text[:cut]
        assert _same(loads_partial(prefix), old_loads_partial(prefix)), prefix
        if _outcome(json.loads, prefix)[0] == "error":  # the fallback reader alone, where it is the one that reads
            assert _same(_scan_partial(prefix), old_loads_partial(prefix)), prefix


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "\\ud83d',
        '{"a": "\\ud800", "b',
        '{"a": "\ud800", "b": 1',
        '{"a": NaN, "b',
        '{"a": 1e400, "b',
        '{"a": -',
        '{"a": 1.',
        '{"a": 1e+',
        '{"a": {"b": {"c',
        '{"a": 1} {"b": 2}',
        "  {",
        "[1, 2",
        '"str',
        "\ufeff{",
    ],
)
def test_loads_partial_edge_cases(text):
    assert _same(loads_partial(text), old_loads_partial(text))


def test_loads_partial_survives_deep_nesting():
    assert loads_partial('{"a":' + "[1," * 50_000) == {}  # the old reader raised RecursionError here


# --- JsonPrefix --------------------------------------------------------------------------------


def _state(scanner) -> tuple:
    return (scanner.ok, scanner.complete, scanner.unsettled, scanner.stack, scanner.state, scanner.overflow)


@settings(max_examples=1500)
@given(_objects, st.lists(st.integers(0, 10**6), max_size=6), st.sampled_from(["", "x", "]", "}", "1.", "e", "-"]))
def test_json_prefix_agrees_with_the_previous_scanner_fragment_by_fragment(obj, cuts, junk):
    text = json.dumps(obj)
    if cuts:
        at = cuts[0] % (len(text) + 1)
        text = text[:at] + junk + text[at:]
    new, old = JsonPrefix(), OldJsonPrefix()
    for piece in _pieces(text, cuts):
        assert new.feed(piece) == old.feed(piece)
        assert _state(new) == _state(old)
        if not new.complete:
            assert new.repair_suffix("rest") == old.repair_suffix("rest")


def _pieces(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)])]


@pytest.mark.parametrize("fragments", [['{"a": [[[', "1]]", "x"], ['{"a": {"b": [', "]}}}"], ['{"a": 12', "3.", "e"]])
def test_a_failed_feed_restores_the_stack_it_popped(fragments):
    new, old = JsonPrefix(), OldJsonPrefix()
    for piece in fragments:
        assert new.feed(piece) == old.feed(piece)
        assert _state(new) == _state(old)


# --- encode_sse and the framing choice ---------------------------------------------------------


@settings(max_examples=2000)
@given(st.text(), st.integers(0, 2**70), st.sampled_from(["text_delta", "thinking_delta", "input_json_delta"]))
def test_encode_sse_gives_the_bytes_json_dumps_gives(text, index, kind):
    event = {"type": "content_block_delta", "index": index, "delta": {"type": kind, "text": text}}
    try:
        data = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        data = json.dumps(event, separators=(",", ":")).encode()
    assert encode_sse(event) == b"event: content_block_delta\ndata: " + data + b"\n\n"


@pytest.mark.parametrize("dialect", ["openai", "ollama", "gemini"])
@pytest.mark.parametrize("lead", [b"", b" \r\n\t", b"\xef\xbb\xbf\n", b"\n" * 3000])
def test_leading_whitespace_fed_a_byte_at_a_time_reads_as_when_whole(dialect, lead):
    bodies = {
        "openai": b'data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n',
        "ollama": b'{"model":"m","message":{"role":"assistant","content":"hi"},"done":false}\n'
        b'{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}\n',
        "gemini": b'[{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}]}]',
    }
    body = lead + bodies[dialect]
    whole = Translator(dialect)
    want = whole.feed(body) + whole.close("done")
    bytewise = Translator(dialect)
    got = [e for i in range(len(body)) for e in bytewise.feed(body[i : i + 1])] + bytewise.close("done")
    assert got == want


# --- accumulate --------------------------------------------------------------------------------

_blocks = st.sampled_from(
    [
        {"type": "text", "text": ""},
        {"type": "thinking", "thinking": "", "signature": ""},
        {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        {"type": "text", "text": None},
        {"type": "server_tool_use", "id": "s"},
    ]
)
_parts = st.one_of(st.text(max_size=3), st.none(), st.integers(0, 2))
_events = st.one_of(
    st.builds(lambda b: {"type": "content_block_start", "content_block": b}, _blocks),
    st.builds(
        lambda i, kind, part: {"type": "content_block_delta", "index": i, "delta": {"type": kind, kind[:-6]: part}},
        st.integers(-2, 3),
        st.sampled_from(["text_delta", "thinking_delta"]),
        _parts,
    ),
    st.builds(
        lambda i, part: {
            "type": "content_block_delta",
            "index": i,
            "delta": {"type": "input_json_delta", "partial_json": part},
        },
        st.integers(0, 3),
        st.sampled_from(['{"a"', ": 1", "}", ""]),
    ),
    st.builds(
        lambda i: {"type": "content_block_delta", "index": i, "delta": {"type": "signature_delta", "signature": "s"}},
        st.integers(0, 3),
    ),
    st.builds(lambda i: {"type": "content_block_stop", "index": i}, st.integers(0, 3)),
    st.just({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}),
    st.just({"type": "ping"}),
)
_START = {"type": "message_start", "message": {"id": "m", "content": [], "usage": {"input_tokens": 1}}}


def _fold(events):
    from translator import accumulate_event

    message, buffers = None, {}
    for event in events:
        message = accumulate_event(message, event, buffers)
    if message is not None:
        from translator.accumulate import _settle

        for index in list(buffers):
            _settle(message["content"], index, buffers)
    return message


def _result(fn, events):
    try:
        return "value", fn(events)
    except (IndexError, KeyError, TypeError, AttributeError) as exc:
        return "error", type(exc)


@settings(max_examples=2000)
@given(st.lists(_events, max_size=30), st.booleans())
def test_accumulate_joins_text_once_and_gives_what_the_event_fold_gives(events, second_start):
    from translator import accumulate

    stream = [_START, *events] + ([_START, *events[:3]] if second_start else [])
    assert _result(accumulate, stream) == _result(_fold, stream)


def _without_text(result):
    kind, message = result
    if kind != "value" or message is None:
        return result
    blocks = [
        {k: v for k, v in b.items() if k not in ("text", "thinking")} if isinstance(b, dict) else b
        for b in message.get("content", [])
    ]
    return kind, {**message, "content": blocks}


@settings(max_examples=2000)
@given(st.lists(_events, max_size=30), st.booleans())
def test_accumulate_without_text_gives_the_rest_of_the_message_and_the_same_errors(events, second_start):
    from translator import accumulate

    stream = [_START, *events] + ([_START, *events[:3]] if second_start else [])
    whole = _result(accumulate, stream)
    assert _without_text(_result(lambda e: accumulate(e, text=False), stream)) == _without_text(whole)
