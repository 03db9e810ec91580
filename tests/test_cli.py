"""The CLI contract (CLI.md): names, output shapes and exit codes."""

import json

import pytest
from helpers import CASSETTES, chunk, run_cli, sse, tool

from recorder.tape import load

run = run_cli


STREAM = sse(
    chunk({"content": "He"}),
    chunk({"content": "llo"}),
    chunk({"tool_calls": [tool(0, "call_12345678", "f", '{"a": 1}')]}, "tool_calls"),
)


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("openai-sse", STREAM.decode()),
        ("chunks-jsonl", "\n".join(line[6:] for line in STREAM.decode().split("\n\n") if line.startswith("data: {"))),
        (
            "chunks-json",
            json.dumps([json.loads(line[6:]) for line in STREAM.decode().split("\n\n") if line.startswith("data: {")]),
        ),
    ],
)
def test_import_then_replay_then_check(tmp_path, monkeypatch, capsysbinary, fmt, data):
    src = tmp_path / "input.txt"
    src.write_text(data)
    out = tmp_path / "c.yaml"
    for given in (fmt, "auto"):
        code, _, err = run(
            monkeypatch, capsysbinary, "import", src, "-o", out, "--format", given, "--tag", "TC-01", "--provider", "x"
        )
        assert code == 0, err
        cassette = load(out)
        assert cassette.metadata.tags == ["TC-01"] and cassette.metadata.source == str(src)
        assert cassette.interactions[0].response.quirktape.offsets[0] == 0
    code, text, _ = run(monkeypatch, capsysbinary, "replay", out, "--format", "message")
    assert code == 0
    msg = json.loads(text)
    assert [b["type"] for b in msg["content"]] == ["text", "tool_use"]
    assert msg["content"][0]["text"] == "Hello" and msg["content"][1]["input"] == {"a": 1}
    code, text, _ = run(monkeypatch, capsysbinary, "check", out)
    assert code == 0 and text.strip().endswith("0 failed")


def test_replay_formats(monkeypatch, capsysbinary):
    path = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"
    code, sse_text, _ = run(monkeypatch, capsysbinary, "replay", path)
    assert code == 0 and sse_text.startswith("event: message_start\ndata: {")
    code, jsonl, _ = run(monkeypatch, capsysbinary, "replay", path, "--format", "jsonl", "--rechunk", "bytes")
    events = [json.loads(line) for line in jsonl.splitlines()]
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    assert len(sse_text.split("\n\n")) - 1 == len(events)


def test_replay_message_with_an_upstream_error_exits_1(tmp_path, monkeypatch, capsysbinary):
    src = tmp_path / "cut.sse"
    src.write_bytes(sse(chunk({"content": "partial"}), done=False))
    run(monkeypatch, capsysbinary, "import", src, "-o", tmp_path / "c.yaml")
    code, out, err = run(monkeypatch, capsysbinary, "replay", tmp_path / "c.yaml", "--format", "message")
    assert code == 1
    assert json.loads(out)["content"][0]["text"] == "partial"
    assert err.startswith("quirktape: upstream error: api_error")


REPORTS = [
    CASSETTES / "mlx-lm" / "report-parallel-tool-calls-one-delta.yaml",
    CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml",
]


def test_check_reports_rows_summary_and_json(tmp_path, monkeypatch, capsysbinary):
    code, text, _ = run(monkeypatch, capsysbinary, "check", *REPORTS)
    lines = text.strip().splitlines()
    assert code == 0 and lines[-1].endswith(" passed, 0 failed")
    assert any(line.split()[:2] == ["ok", "conservation"] for line in lines)
    code, text, _ = run(monkeypatch, capsysbinary, "check", *REPORTS, "--json")
    doc = json.loads(text)
    assert code == 0 and doc["failed"] == 0 and doc["cassettes"][0]["checks"][0]["invariant"] == "grammar"


def test_check_exits_1_when_an_expectation_fails(tmp_path, monkeypatch, capsysbinary):
    text = (
        (CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml")
        .read_text()
        .replace("stop_reason: end_turn", "stop_reason: max_tokens")
    )
    (tmp_path / "bad.yaml").write_text(text)
    code, out, _ = run(monkeypatch, capsysbinary, "check", tmp_path)
    assert code == 1 and "FAIL  expect" in out and out.strip().endswith("1 failed")


@pytest.mark.parametrize(
    "args",
    [
        ["replay", "no-such-file.yaml"],
        ["replay", "README.md"],
        ["replay", CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml", "--rechunk", "halves"],
        ["replay", CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml", "--interaction", "7"],
        ["replay", CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml", "--format", "xml"],
        ["import", "README.md", "-o", "/tmp/never.yaml", "--format", "nope"],
        ["import", "pyproject.toml", "-o", "/tmp/never.yaml"],
        ["check", "no-such-dir"],
        ["frobnicate"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(monkeypatch, capsysbinary, args):
    code, _, err = run(monkeypatch, capsysbinary, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("quirktape: error: ")
    assert "Traceback" not in err


def test_bad_json_line_in_jsonl_import(tmp_path, monkeypatch, capsysbinary):
    src = tmp_path / "x.jsonl"
    src.write_text('{"choices": []}\n{broken\n')
    code, _, err = run(monkeypatch, capsysbinary, "import", src, "-o", tmp_path / "c.yaml", "--format", "chunks-jsonl")
    assert code == 2 and "line 2 is not JSON" in err
    assert not (tmp_path / "c.yaml").exists()


def test_every_command_has_help_with_an_example(monkeypatch, capsysbinary):
    for command in ("import", "replay", "check"):
        code, out, _ = run(monkeypatch, capsysbinary, command, "--help")
        assert code == 0 and "Example: quirktape " + command in out


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        (b"\xff\xfe\x00garbage", "chunks-jsonl"),
        (b"", "auto"),
        (b"", "openai-sse"),
        (b"\x00\x01binary", "openai-sse"),
        (b"[" * 5000, "chunks-json"),
    ],
)
def test_odd_input_files_are_exit_2(tmp_path, monkeypatch, capsysbinary, content, fmt):
    src = tmp_path / "odd.bin"
    src.write_bytes(content)
    code, _, err = run(monkeypatch, capsysbinary, "import", src, "-o", tmp_path / "c.yaml", "--format", fmt)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_check_on_a_directory_without_cassettes_is_exit_2(tmp_path, monkeypatch, capsysbinary):
    code, _, err = run(monkeypatch, capsysbinary, "check", tmp_path)
    assert code == 2 and "no cassettes" in err


GEMINI = [
    {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}}], "modelVersion": "gemini-2.5-flash"},
    {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "lo"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 3},
    },
]


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("gemini-sse", "".join(f"data: {json.dumps(p)}\r\n\r\n" for p in GEMINI)),
        ("gemini-json", "[" + "\r\n,\r\n".join(json.dumps(p, indent=2) for p in GEMINI) + "\r\n]"),
        ("chunks-jsonl", "\n".join(json.dumps(p) for p in GEMINI)),
    ],
)
def test_gemini_imports(tmp_path, monkeypatch, capsysbinary, fmt, data):
    src = tmp_path / "g.txt"
    src.write_text(data)
    for given in (fmt, "auto"):
        code, _, err = run(monkeypatch, capsysbinary, "import", src, "-o", tmp_path / "c.yaml", "--format", given)
        assert code == 0, err
        tape = load(tmp_path / "c.yaml").interactions[0].response.quirktape
        assert tape.dialect == "gemini" and len(tape.offsets) == 2
    code, text, _ = run(monkeypatch, capsysbinary, "replay", tmp_path / "c.yaml", "--format", "message")
    assert code == 0 and json.loads(text)["content"] == [{"type": "text", "text": "Hello"}]
    assert json.loads(text)["model"] == "gemini-2.5-flash"


def test_gemini_json_offsets_with_identical_elements(tmp_path, monkeypatch, capsysbinary):
    same = json.dumps({"candidates": [{"content": {"parts": [{"text": "x"}]}}]})
    last = json.dumps({"candidates": [{"content": {"parts": [{"text": "y"}]}, "finishReason": "STOP"}]})
    src = tmp_path / "g.json"
    src.write_bytes(("\ufeff[" + ",\r\n".join([same, same, last]) + "]").encode())
    code, _, err = run(monkeypatch, capsysbinary, "import", src, "-o", tmp_path / "c.yaml")
    assert code == 0, err
    response = load(tmp_path / "c.yaml").interactions[0].response
    raw, offsets = response.raw, response.quirktape.offsets
    assert [raw[o:].lstrip(b",\r\n")[:1] for o in offsets[1:]] == [b"{", b"{"]
    assert list(offsets) == sorted(set(offsets)) and len(offsets) == 3
