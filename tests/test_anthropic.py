"""Anthropic Messages as a dialect: a gateway's output, read into the same facts as any upstream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from broken_translators import drop_second_tool, text_as_json_deltas
from helpers import CASSETTES, run_cli

from recorder.judge import captured, check_cassette, read_output
from recorder.tape import load
from translator import accumulate, encode_sse, translate_response, translate_stream, violations
from translator.coverage import trace_findings
from translator.stream import Translator

API = Path(__file__).resolve().parents[2] / "shared" / "peers" / "anthropic-sdk-python"
TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"
PARALLEL = CASSETTES / "mlx-lm" / "report-parallel-tool-calls-one-delta.yaml"
TWENTY = "\n".join(str(n) for n in range(1, 21))


def _api_recordings() -> list[Path]:
    return sorted(API.glob("*.sse")) if API.is_dir() else []


@pytest.mark.skipif(not API.is_dir(), reason="../shared/peers is absent")
@pytest.mark.parametrize("path", _api_recordings(), ids=lambda p: p.stem)
def test_the_apis_own_recordings_read_back_into_the_same_message(path):
    body = path.read_bytes()
    original = [json.loads(line[6:]) for line in body.decode().splitlines() if line.startswith("data: ")]
    translator = Translator("anthropic", trace=True)
    events = translator.feed(body) + translator.close("eof")
    assert violations(events) == []
    assert [f for f in trace_findings(translator.dialect, translator.trace, False) if not f.gap] == []
    want, got = accumulate(original), accumulate(events)
    assert got["stop_reason"] == want["stop_reason"]
    blocks = [(b["type"], b.get("text"), b.get("thinking"), b.get("input")) for b in want["content"]]
    ours = [(b["type"], b.get("text"), b.get("thinking"), b.get("input")) for b in got["content"]]
    blocks = [b for b in blocks if b[0] in ("text", "thinking", "tool_use") and b != ("text", "", None, None)]
    if want["stop_reason"] == "max_tokens":  # cut inside a string: we close it keeping its bytes, the SDK drops it
        cut, kept = blocks[-1][3]["lines_of_text"], ours[-1][3]["lines_of_text"]
        assert kept[: len(cut)] == cut and kept[len(cut) :] == ["Filing taxes"]
        blocks, ours = blocks[:-1], ours[:-1]
    assert ours == blocks
    assert got["usage"]["output_tokens"] == want["usage"]["output_tokens"]


def test_a_complete_message_and_an_error_event():
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "text", "text": "Paris"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 5},
    }
    got = accumulate(translate_response(json.dumps(message).encode(), "anthropic")[0])
    assert [(b["type"], b.get("thinking") or b.get("text") or b.get("input")) for b in got["content"]] == [
        ("thinking", "hmm"),
        ("text", "Paris"),
        ("tool_use", {"a": 1}),
    ]
    assert got["content"][0]["signature"] == "sig" and got["stop_reason"] == "tool_use"
    overloaded = b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    events, _ = translate_stream([overloaded], "anthropic")
    assert events[-1] == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def _capture(cassette_path: Path, translate=translate_stream) -> bytes:
    response = load(cassette_path).interactions[0].response
    events, _ = translate([response.raw], response.quirktape.dialect, ending=response.quirktape.ending)
    return b"".join(encode_sse(e) for e in events)


@pytest.mark.parametrize(
    "cassette_path, broken, kind",
    [(TEXT, text_as_json_deltas, "text_lost"), (PARALLEL, drop_second_tool, "call_lost")],
)
def test_captured_gateway_output_is_judged_against_the_cassette(cassette_path, broken, kind):
    cassette = load(cassette_path)
    cassette.interactions = cassette.interactions[:1]
    good = {c.invariant: c for c in check_cassette(cassette, captured(read_output(_capture(cassette_path))))}
    assert all(c.ok is not False for c in good.values()) and good["rechunk"].ok is None
    bad = {c.invariant: c for c in check_cassette(cassette, captured(read_output(_capture(cassette_path, broken))))}
    assert kind in {f.kind for f in bad["conservation"].findings}


def test_check_output_on_the_command_line(tmp_path, monkeypatch, capsysbinary):
    (tmp_path / "gw.sse").write_bytes(_capture(TEXT, text_as_json_deltas))
    code, out, _ = run_cli(monkeypatch, capsysbinary, "check", TEXT, "--output", tmp_path / "gw.sse", "--json")
    doc = json.loads(out)
    assert code == 1
    kinds = {f["kind"] for c in doc["cassettes"][0]["checks"] for f in c["findings"] if not f["warn"]}
    assert {"text_lost", "grammar"} <= kinds
    (tmp_path / "junk.sse").write_text("data: {not json\n\n")
    code, _, err = run_cli(monkeypatch, capsysbinary, "check", TEXT, "--output", tmp_path / "junk.sse")
    assert code == 2 and err.count("\n") == 1 and "not JSON" in err


def test_report_attaches_a_gateways_captured_answer(tmp_path, monkeypatch, capsysbinary):
    (tmp_path / "gw.sse").write_bytes(_capture(TEXT, text_as_json_deltas))
    args = ("report", TEXT, "--gateway-output", tmp_path / "gw.sse")
    code, text, err = run_cli(monkeypatch, capsysbinary, *args)
    assert code == 0, err
    assert "**Verdict:** FAILS grammar, conservation, expect" in text
    assert "the gateway's captured answer gw.sse" in text and "input_json_delta" in text


def test_a_malformed_complete_message_fails_the_grammar_it_is_given_as(tmp_path, monkeypatch, capsysbinary):
    """Read as sent, not through quirktape's translator: a wrong type, no id or model, a made-up block, words
    for usage."""
    bad = {
        "type": "error_not_message",
        "content": [{"type": "text", "text": TWENTY}, {"type": "bogus"}],
        "usage": "lots",
    }
    (tmp_path / "bad.json").write_text(json.dumps({**bad, "stop_reason": "end_turn"}))
    code, out, _ = run_cli(monkeypatch, capsysbinary, "check", TEXT, "--output", tmp_path / "bad.json", "--json")
    grammar = {c["invariant"]: c for c in json.loads(out)["cassettes"][0]["checks"]}["grammar"]
    details = " ".join(f["detail"] for f in grammar["findings"])
    assert code == 1 and grammar["status"] == "FAIL"
    for rule in ("message.type must be 'message'", "message.id and message.model", "'bogus' is not a content block"):
        assert rule in details, rule


def test_captured_output_in_another_dialect_or_for_a_missing_interaction_is_bad_usage(
    tmp_path, monkeypatch, capsysbinary
):
    (tmp_path / "openai.sse").write_bytes(load(TEXT).interactions[0].response.raw)
    code, _, err = run_cli(monkeypatch, capsysbinary, "check", TEXT, "--output", tmp_path / "openai.sse")
    assert code == 2 and "not an Anthropic stream: it reads as openai chunks" in err
    (tmp_path / "ok.sse").write_bytes(_capture(TEXT))
    code, _, err = run_cli(
        monkeypatch, capsysbinary, "check", TEXT, "--output", tmp_path / "ok.sse", "--interaction", "9"
    )
    assert code == 2 and err.count("\n") == 1 and "interaction 9 does not exist" in err
