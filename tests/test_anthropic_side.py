"""The Anthropic side: a cassette's translation served to Anthropic clients, as a gateway would.

The official anthropic SDK (sync and async) reads it through ``ReplayTransport(side="anthropic")``
and through ``serve --as anthropic`` on loopback; Claude Code itself (the ``claude`` binary the
claude-agent-sdk wheel bundles) runs offline against the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import CASSETTES

from recorder.replay import FOLLOW_UP, ReplayTransport, timed_events
from recorder.replay.asgi import running
from recorder.replay.serve import anthropic_app, routes
from recorder.tape import load, parse_cassette

anthropic = pytest.importorskip("anthropic")
httpx2 = pytest.importorskip("httpx2")

TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"
PARALLEL = CASSETTES / "mlx-lm" / "report-parallel-tool-calls-one-delta.yaml"
TWENTY = "\n".join(str(n) for n in range(1, 21))
ASK = [{"role": "user", "content": "Count from 1 to 20, one number per line."}]


def _client(transport: ReplayTransport) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="placeholder", base_url="http://127.0.0.1:9", http_client=httpx2.Client(transport=transport)
    )


def test_the_sdk_streams_the_translation():
    transport = ReplayTransport(TEXT, side="anthropic")
    with _client(transport).messages.stream(model="m", max_tokens=64, messages=ASK) as stream:
        message = stream.get_final_message()
    assert [b.type for b in message.content] == ["text"] and message.content[0].text == TWENTY
    assert message.stop_reason == "end_turn"
    assert transport.calls[0][2] == 0  # the streamed exchange answered


def test_a_non_streaming_request_gets_the_non_streamed_twin():
    transport = ReplayTransport(TEXT, side="anthropic")
    message = _client(transport).messages.create(model="m", max_tokens=64, messages=ASK)
    assert message.content[0].text == TWENTY
    assert load(TEXT).interactions[transport.calls[0][2]].response.is_stream is False


def test_parallel_calls_reach_the_async_sdk_and_a_follow_up_ends_the_turn():
    async def run() -> tuple:
        transport = ReplayTransport(PARALLEL, side="anthropic")
        client = anthropic.AsyncAnthropic(
            api_key="placeholder", base_url="http://127.0.0.1:9", http_client=httpx2.AsyncClient(transport=transport)
        )
        async with client.messages.stream(model="m", max_tokens=64, messages=ASK) as stream:
            first = await stream.get_final_message()
        calls = [b for b in first.content if b.type == "tool_use"]
        results = [{"type": "tool_result", "tool_use_id": c.id, "content": "3"} for c in calls]
        follow = [*ASK, {"role": "assistant", "content": first.content}, {"role": "user", "content": results}]
        second = await client.messages.create(model="m", max_tokens=64, messages=follow)
        return calls, second

    calls, second = asyncio.run(run())
    assert [c.name for c in calls] == ["Agent", "Agent"]
    assert calls[0].input["prompt"].startswith("Count the .py files") and calls[1].input["prompt"].startswith(
        "Count the .md files"
    )
    assert second.stop_reason == "end_turn" and second.content[0].text == FOLLOW_UP


def test_the_recorded_pace_reaches_the_client_piece_by_piece():
    """Each upstream read's events go out at that read's recorded time: the gaps are the recorded ones."""
    timed = CASSETTES / "vertex" / "report-25836-add-numbers.yaml"
    tape = load(timed).interactions[0].response.quirktape
    slept: list[float] = []
    transport = ReplayTransport(timed, side="anthropic", pace="recorded", sleep=slept.append)
    with _client(transport).messages.stream(model="m", max_tokens=64, messages=ASK) as stream:
        stream.get_final_message()
    sent_at = [t for t, _ in timed_events(load(timed).interactions[0], None, None, "recorded")]
    assert set(sent_at) <= set(tape.t_ms) and len(sent_at) >= 2  # each piece at the time of a recorded read
    assert slept == pytest.approx(
        [(b - a) / 1000 for a, b in zip(sent_at, sent_at[1:]) if b > a]
    )  # none before the first
    assert sum(slept) == pytest.approx((tape.t_ms[-1] - sent_at[0]) / 1000)


def test_an_upstream_error_is_an_http_error_for_a_non_streaming_client():
    data = load(TEXT).model_dump(mode="python")
    data["interactions"] = [data["interactions"][0]]
    data["interactions"][0]["response"]["quirktape"]["ending"] = "reset"
    cut = data["interactions"][0]["response"]["body"]["string"].split("\n\n")[:4]
    data["interactions"][0]["response"]["body"]["string"] = "\n\n".join(cut) + "\n\n"
    data["interactions"][0]["response"]["quirktape"]["offsets"] = None
    data["interactions"][0]["response"]["quirktape"]["t_ms"] = None
    client = _client(ReplayTransport(parse_cassette(data), side="anthropic"))
    with pytest.raises(anthropic.InternalServerError):
        client.with_options(max_retries=0).messages.create(model="m", max_tokens=64, messages=ASK)


def test_serve_as_anthropic_routes_a_library_by_path_and_model(tmp_path):
    for path in (TEXT, PARALLEL):
        (tmp_path / path.parent.name).mkdir()
        shutil.copy(path, tmp_path / path.parent.name / path.name)
    library = routes([str(tmp_path)])
    assert set(library) == {"vllm/report-empty-tool-calls-text-lost", "mlx-lm/report-parallel-tool-calls-one-delta"}
    with running(anthropic_app(library)) as url:
        by_path = anthropic.Anthropic(api_key="x", base_url=f"{url}/vllm/report-empty-tool-calls-text-lost")
        assert by_path.messages.create(model="any", max_tokens=64, messages=ASK).content[0].text == TWENTY
        by_model = anthropic.Anthropic(api_key="x", base_url=url)
        model = "mlx-lm/report-parallel-tool-calls-one-delta"
        with by_model.messages.stream(model=model, max_tokens=64, messages=ASK) as stream:
            message = stream.get_final_message()
        assert [b.type for b in message.content] == ["text", "tool_use", "tool_use"]
        with pytest.raises(anthropic.NotFoundError, match="routes"):
            by_model.with_options(max_retries=0).messages.create(model="nope", max_tokens=8, messages=ASK)


# -- Claude Code itself ------------------------------------------------------------------------------------------


def _claude() -> str | None:
    try:
        import claude_agent_sdk
    except ImportError:
        return None
    bundled = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    return str(bundled) if bundled.is_file() else shutil.which("claude")


CLAUDE = _claude()
needs_claude = pytest.mark.skipif(CLAUDE is None, reason="the claude-agent-sdk wheel (bundled claude binary) is absent")


def _run_claude(url: str, home: Path, cwd: Path, prompt: str, *extra: str) -> dict:
    """``claude -p`` offline: loopback base URL, a throwaway home, no telemetry, bounded turns."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_API_KEY": "placeholder",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    done = subprocess.run(
        [CLAUDE, "-p", prompt, "--output-format", "json", "--max-turns", "3", *extra],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@needs_claude
def test_claude_code_prints_the_twenty_lines_of_the_vllm_report(tmp_path):
    library = routes([str(TEXT)])
    with running(anthropic_app(library)) as url:
        result = _run_claude(url, tmp_path, tmp_path, "Count from 1 to 20, one number per line.")
    assert result["is_error"] is False and result["result"] == TWENTY


def _harmless(cassette_path: Path) -> dict:
    """The mlx cassette with its two Agent calls aimed at Glob (read-only), packed in one delta as recorded."""
    data = load(cassette_path).model_dump(mode="python")
    stream = data["interactions"][0]["response"]
    body = stream["body"]["string"]
    for old, pattern in (("Count .py files in mlx_lm", "*.py"), ("Count .md files in mlx-lm", "*.md")):
        at = body.index(old)
        start, stop = body.rindex('"arguments":"', 0, at) + len('"arguments":"'), body.index('"}', at) + 2
        old = body[start:stop]
        assert old in body
        body = body.replace(old, json.dumps(json.dumps({"pattern": pattern}))[1:-1])
    assert body.count('"name":"Agent"') == 2
    stream["body"]["string"] = body.replace('"name":"Agent"', '"name":"Glob"')
    stream["quirktape"]["offsets"] = None  # the body changed length: one read
    stream["quirktape"]["t_ms"] = None
    data["interactions"] = [data["interactions"][0]]
    data["metadata"]["expect"] = None
    return data


@needs_claude
def test_claude_code_runs_both_tool_calls_of_the_mlx_cassette(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "a.py").write_text("")
    (work / "b.md").write_text("")
    library = {"mlx": parse_cassette(_harmless(PARALLEL))}
    app = anthropic_app(library)
    with running(app) as url:
        result = _run_claude(url, tmp_path, work, "Count the files.", "--allowedTools", "Glob")
    transport = app.state.transport["mlx"]
    assert result["is_error"] is False and result["result"] == FOLLOW_UP
    first, follow = transport.received[0], transport.received[-1]
    assert [c for _, _, c in transport.calls][:1] == [0]
    results = [b for b in follow["messages"][-1]["content"] if b.get("type") == "tool_result"]
    assert len(results) == 2 and not any(r.get("is_error") for r in results)
    ids = [
        b["id"] for m in follow["messages"] if m["role"] == "assistant" for b in m["content"] if b["type"] == "tool_use"
    ]
    assert sorted(r["tool_use_id"] for r in results) == sorted(ids) and len(ids) == 2
    outputs = " ".join(json.dumps(r.get("content")) for r in results)
    assert "a.py" in outputs and "b.md" in outputs
    assert first["stream"] is True


def test_a_body_that_is_not_a_messages_request_is_a_400_not_a_404():
    transport = ReplayTransport(TEXT, side="anthropic")
    client = httpx2.Client(transport=transport)
    for body in (b"not json", b"[1]", b'{"model": "m"}'):
        reply = client.post("http://127.0.0.1:9/v1/messages", content=body)
        assert reply.status_code == 400 and reply.json()["error"]["type"] == "invalid_request_error"
