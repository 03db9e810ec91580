"""Shared builders for tests: upstream SSE bodies and translation shortcuts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from translator import accumulate, encode_sse, stream_error, translate_stream

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
CORPUS = ROOT.parent / "shared" / "corpus"


def cassette_paths() -> list[Path]:
    return sorted(p for p in CASSETTES.rglob("*.yaml"))


_PINS_INSTALLED = """
import sys
from importlib.metadata import PackageNotFoundError, version
for pin in sys.argv[1:]:
    name, _, wanted = pin.partition("==")
    try:
        found = version(name.split("[")[0])
    except PackageNotFoundError:
        sys.exit(1)
    if wanted and found != wanted:
        sys.exit(1)
"""


SIDE_VENV_FAILURES: dict[str, str] = {}
"""Why ``side_venv(name, …)`` returned None, by name: pip's last words, for the skip message."""


def side_venv(name: str, requirements: list[str], timeout: float = 1200) -> Path | None:
    """A virtual environment of its own with ``requirements`` from the package index; its directory.

    For releases that must not be in the test venv, or cannot be installed next to each other (LiteLLM's
    pins; pytest-recording refuses to run where pytest-vcr is installed). Made once and kept in the user's
    cache (``~/.cache/quirktape-tests/<name>``): it is ready when every requirement is installed there at its
    pinned version, whoever made it. A failed install leaves nothing behind, so the next run tries again;
    None then (most often: no package index from here), and the caller skips, saying which release it lacked.
    """
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "quirktape-tests" / name
    python = home / "bin" / "python"
    if python.exists():
        check = subprocess.run([str(python), "-c", _PINS_INSTALLED, *requirements], capture_output=True, check=False)
        if check.returncode == 0:
            return home
    venv.create(home, with_pip=True, clear=True)
    done = subprocess.run(
        [str(home / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *requirements],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        last = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()][-1:]
        SIDE_VENV_FAILURES[name] = " ".join(last)[:300] or f"pip exited with {done.returncode}"
        return None
    return home


def chunk(delta: dict | None = None, finish: str | None = None, **extra) -> dict:
    choice = {"index": 0, "delta": delta if delta is not None else {}, "finish_reason": finish}
    choice.update(extra.pop("choice", {}))
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "model": "test-model",
        "choices": [choice],
        **extra,
    }


def tool(index: int | None = None, id: str | None = None, name: str | None = None, args=None, **extra) -> dict:
    call: dict = {"type": "function", "function": {}}
    if index is not None:
        call["index"] = index
    if id is not None:
        call["id"] = id
    if name is not None:
        call["function"]["name"] = name
    if args is not None:
        call["function"]["arguments"] = args
    call.update(extra)
    return call


def sse(*payloads: dict | str, done: bool = True) -> bytes:
    out = [f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n" for p in payloads]
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def translate(body: bytes, ending: str = "eof", **kwargs) -> list[dict]:
    events, _ = translate_stream([body], ending=ending, **kwargs)
    return events


def message(body: bytes, **kwargs) -> dict:
    return accumulate(translate(body, **kwargs))


def error_of(body: bytes, **kwargs) -> dict | None:
    return stream_error(translate(body, **kwargs))


def blocks(msg: dict) -> list[tuple]:
    """Content as comparable tuples: (type, text | thinking | (name, input) | data)."""
    out = []
    for b in msg["content"]:
        kind = b["type"]
        value = {"text": b.get("text"), "thinking": b.get("thinking"), "redacted_thinking": b.get("data")}.get(kind)
        out.append((kind, (b["name"], b["input"]) if kind == "tool_use" else value))
    return out


def run_cli(monkeypatch, capsysbinary, *args) -> tuple[int, str, str]:
    """Run ``quirktape ARGS`` in process: (exit code, stdout, stderr)."""
    from recorder.cli import main

    monkeypatch.setattr(sys, "argv", ["quirktape", *map(str, args)])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsysbinary.readouterr()
    return info.value.code, out.decode(), err.decode()


def sdk_final_message(events: list[dict]):
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


def _without_none(value):
    """Our message as the SDK dumps it with exclude_none; tool input is data and keeps its nulls."""
    if isinstance(value, dict):
        return {k: v if k == "input" else _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def sdk_agrees(events: list[dict]) -> None:
    """The official SDK accepts the replay: an error stream raises it, anything else accumulates like ours."""
    anthropic = pytest.importorskip("anthropic")
    error = stream_error(events)
    if error:
        with pytest.raises(anthropic.APIStatusError) as info:
            sdk_final_message(events)
        assert error["message"] in str(info.value)
        return
    final = sdk_final_message(events)
    theirs = final.model_dump(mode="json", exclude_none=True)
    for block, sdk_block in zip(theirs["content"], final.content):
        if block["type"] == "tool_use":
            block["input"] = sdk_block.input  # exclude_none must not touch tool input data
    assert theirs == _without_none(accumulate(events))
