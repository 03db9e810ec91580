"""The oracle must be able to fail: each invariant is shown catching a translator that breaks it."""

import json

import pytest
from broken_translators import drop_second_tool, text_as_json_deltas
from helpers import CASSETTES

from recorder.judge import check_cassette
from recorder.tape import load, parse_cassette
from translator import translate_stream

PARALLEL = CASSETTES / "mlx-lm" / "report-parallel-tool-calls-one-delta.yaml"
TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"


def results(cassette, translate=translate_stream):
    return {c.invariant: c for c in check_cassette(cassette, translate)}


def test_our_translator_passes_everything():
    assert all(c.ok is not False for c in results(load(PARALLEL)).values())


def test_a_dropped_tool_call_fails_conservation_and_expect():
    r = results(load(PARALLEL), drop_second_tool)
    assert r["conservation"].ok is False
    assert any("2 upstream tool call(s) but 1 tool_use" in d for d in r["conservation"].details)
    assert r["expect"].ok is False
    assert r["grammar"].ok is True


def test_bad_indices_fail_grammar():
    def off_by_one(pieces, dialect, **kw):
        events, ir = translate_stream(pieces, dialect, **kw)
        return [({**e, "index": e["index"] + 1} if "index" in e else e) for e in events], ir

    r = results(load(TEXT), off_by_one)
    assert r["grammar"].ok is False
    assert any("expected 0" in d for d in r["grammar"].details)


def test_chunk_dependent_content_fails_rechunk_as_data():
    def per_piece(pieces, dialect, **kw):
        pieces = list(pieces)
        events, ir = translate_stream(pieces, dialect, **kw)
        if len(pieces) % 2:  # some cuts lose the first text delta
            first = next(i for i, e in enumerate(events) if e.get("delta", {}).get("type") == "text_delta")
            events = events[:first] + events[first + 1 :]
        return events, ir

    check = results(load(TEXT), per_piece)["rechunk"]
    assert check.ok is False
    assert {(f.category, f.kind) for f in check.findings if not f.warn} == {("data", "text_lost")}


def test_chunk_dependent_events_are_policy_warned_for_a_foreign_translator_and_failed_when_strict():
    def per_piece(pieces, dialect, **kw):  # pings may come anywhere: the message is the same
        pieces = list(pieces)
        events, ir = translate_stream(pieces, dialect, **kw)
        return events[:1] + [{"type": "ping"}] * (len(pieces) % 2) + events[1:], ir

    lenient = results(load(TEXT), per_piece)["rechunk"]
    assert lenient.ok is True and lenient.status == "warn"
    assert {(f.category, f.kind, f.warn) for f in lenient.findings} == {("policy", "event_boundaries", True)}
    strict = {c.invariant: c for c in check_cassette(load(TEXT), per_piece, strict=True)}["rechunk"]
    assert strict.ok is False and strict.status == "FAIL"


def test_quirktapes_own_translator_fails_on_policy_too():
    def per_piece(pieces, dialect, **kw):
        pieces = list(pieces)
        events, ir = translate_stream(pieces, dialect, **kw)
        return events[:1] + [{"type": "ping"}] * (len(pieces) % 2) + events[1:], ir

    assert {c.invariant: c for c in check_cassette(load(TEXT), per_piece, foreign=False)}["rechunk"].ok is False


def test_a_foreign_translator_that_mints_new_ids_per_call_is_not_a_rechunk_failure():
    calls = iter(range(1000))

    def fresh_ids(pieces, dialect, **kw):
        events, ir = translate_stream(list(pieces), dialect, **kw)
        n = next(calls)
        return [
            {**e, "message": {**e["message"], "id": f"msg_{n}"}} if e.get("type") == "message_start" else e
            for e in events
        ], ir

    assert results(load(PARALLEL), fresh_ids)["rechunk"].status == "ok"
    assert {c.invariant: c for c in check_cassette(load(PARALLEL), fresh_ids, foreign=False)}["rechunk"].ok is False


def test_data_findings_name_their_kind():
    dropped = results(load(PARALLEL), drop_second_tool)["conservation"]
    assert ("data", "call_lost") in {(f.category, f.kind) for f in dropped.findings}
    as_json = results(load(TEXT), text_as_json_deltas)["conservation"]
    assert ("data", "text_lost") in {(f.category, f.kind) for f in as_json.findings}


def test_success_over_an_error_fails_errors():
    data = load(TEXT).model_dump(mode="python")
    data["interactions"] = data["interactions"][:1]
    data["interactions"][0]["response"]["quirktape"]["ending"] = "reset"
    data["interactions"][0]["response"]["body"]["string"] = (
        "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": "1"}}]}) + "\n\n"
    )
    data["interactions"][0]["response"]["quirktape"]["offsets"] = None
    data["metadata"]["expect"] = None
    cassette = parse_cassette(data)

    def swallow(pieces, dialect, **kw):
        events, ir = translate_stream(pieces, dialect, **kw)
        if events[-1]["type"] == "error":
            events = events[:-1] + [
                {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 0}},
                {"type": "message_stop"},
            ]
        return events, ir

    assert results(cassette)["errors"].ok is True
    swallowed = results(cassette, swallow)["errors"]
    assert swallowed.ok is False
    assert [(f.category, f.kind) for f in swallowed.findings] == [("data", "cut_as_success")]


def test_stream_that_differs_from_non_stream_fails():
    def lose_stream_text(pieces, dialect, **kw):
        pieces = list(pieces)
        events, ir = translate_stream(pieces, dialect, **kw)
        if pieces[0].startswith(b"{"):  # the complete (non-streaming) twin
            return events, ir
        return [
            e for e in events if not (e.get("type") == "content_block_delta" and e["delta"].get("text") == "20")
        ], ir

    r = results(load(TEXT), lose_stream_text)
    assert r["stream-nonstream"].ok is False


def test_wrong_expectation_fails_expect():
    data = load(TEXT).model_dump(mode="python")
    data["metadata"]["expect"]["stop_reason"] = "tool_use"
    r = results(parse_cassette(data))
    assert r["expect"].ok is False
    assert any("stop_reason expected 'tool_use'" in d for d in r["expect"].details)


@pytest.mark.parametrize("invariant", ["stream-nonstream", "expect"])
def test_invariants_that_do_not_apply_are_skipped(invariant):
    data = load(TEXT).model_dump(mode="python")
    data["interactions"] = data["interactions"][:1]
    data["metadata"]["expect"] = None
    assert results(parse_cassette(data))[invariant].ok is None


def test_only_the_same_request_makes_a_twin():
    data = load(TEXT).model_dump(mode="python")
    other = json.loads(data["interactions"][1]["request"]["body"])
    other["messages"] = [{"role": "user", "content": "something else entirely"}]
    data["interactions"][1]["request"]["body"] = json.dumps(other)
    body = data["interactions"][1]["response"]["body"]
    body["string"] = body["string"].replace("20", "21")
    data["metadata"]["expect"] = None
    assert results(parse_cassette(data))["stream-nonstream"].ok is None


def test_tool_input_the_sdk_rejects_fails_grammar_as_spec():
    """Python's json takes a lone surrogate escape; the SDK's strict parser rejects the whole stream."""
    from recorder.judge import sdk_problems

    def events(partial: str) -> list[dict]:
        return [
            {"type": "message_start", "message": {"id": "m", "model": "m", "usage": {}}},
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
            },
            {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": partial}},
        ]

    assert json.loads('{"a": "\\ud800"}') == {"a": "\ud800"}
    assert sdk_problems(events('{"a": "\\ud800"}'))
    assert sdk_problems(events('{"a": "\\ud83d\\ude00"}')) == []
    assert sdk_problems(events('{"a": "\\ud8')) == []  # a prefix the SDK's partial parser accepts


def test_twins_pair_whatever_the_case_of_the_gemini_method():
    data = load(CASSETTES / "gemini" / "report-25390-gemma-echo-arg.yaml").model_dump(mode="python")
    uris = [i["request"]["uri"] for i in data["interactions"]]
    assert any(":streamGenerateContent" in u for u in uris) and any(":generateContent" in u for u in uris)
    for interaction in data["interactions"]:
        interaction["request"]["uri"] = interaction["request"]["uri"].replace(
            ":streamGenerateContent", ":STREAMgeneratecontent"
        )
    assert results(parse_cassette(data))["stream-nonstream"].ok is True


@pytest.mark.parametrize("breaks", ["drops", "raises"])
def test_our_own_translator_failing_a_rechunk_is_a_finding(monkeypatch, breaks):
    """quirktape's own translation is compared with every re-cut in one pass: a re-cut that gives other
    events, or makes the translator raise, is still a finding naming the re-cut."""
    from translator import Translator

    feed = Translator.feed

    def one_byte_reads_break(self, data):
        events = feed(self, data)
        if len(data) == 1 and any(e.get("type") == "content_block_delta" for e in events):
            if breaks == "raises":
                raise ValueError("a one-byte read")
            return [e for e in events if e.get("type") != "content_block_delta"]
        return events

    monkeypatch.setattr(Translator, "feed", one_byte_reads_break)
    rechunk = results(load(TEXT))["rechunk"]
    details = [f.detail for f in rechunk.findings]
    assert rechunk.ok is False and any("--rechunk bytes" in d for d in details), details
    if breaks == "raises":
        assert all(f.kind == "crash" and "raised ValueError: a one-byte read" in f.detail for f in rechunk.findings)
    else:
        assert all(f.kind != "crash" for f in rechunk.findings)
