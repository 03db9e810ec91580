"""Hostile outputs and live faults: an output never destroys an input, a device or a symlink; a killed
write leaves no temporary file behind for long; a corrupt upstream, a cut, a client that goes away,
a silent upstream, a bad port or an exhausted memory are each one line, never a traceback."""

from __future__ import annotations

import gzip
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import httpx
import pytest
from helpers import CASSETTES, ROOT, run_cli
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

import recorder.cli as cli_module
from recorder.capture import proxy_app
from recorder.replay.asgi import bind, running
from recorder.replay.serve import serve_app
from recorder.tape import CassetteError, load, parse_cassette, write_atomic
from recorder.tape.cassette import STALE_AFTER, TEMP_SUFFIX, loads

TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"
CUT = CASSETTES / "groq" / "err-06-connection-reset-mid-stream.yaml"
PARALLEL = CASSETTES / "mlx-lm" / "report-parallel-tool-calls-one-delta.yaml"
SSE = (
    b'data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"hi"},'
    b'"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
)


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


def request_file(tmp_path):
    path = tmp_path / "req.json"
    path.write_text(json.dumps({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
    return path


# --- output files ----------------------------------------------------------------------------------


def test_an_output_that_is_an_input_is_refused(tmp_path, monkeypatch, capsysbinary):
    bug = tmp_path / "bug.yaml"
    bug.write_bytes(PARALLEL.read_bytes())
    alias = tmp_path / "alias.yaml"
    alias.symlink_to(bug)
    req = request_file(tmp_path)
    same = f"{tmp_path}/../{tmp_path.name}/bug.yaml"
    record = ["record", "--upstream", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    cases = [
        ["import", bug, "-o", bug],
        ["import", TEXT, bug, "-o", alias],
        ["report", bug, "-o", bug],
        ["shrink", bug, "--translator", "broken_translators:drop_second_tool", "-o", same],
        [*record, "--raw-request", req, "-o", req],
    ]
    for args in cases:
        before = bug.read_bytes(), req.read_bytes()
        code, _, err = run_cli(monkeypatch, capsysbinary, *args)
        assert code == 2 and one_line(err) and "is also an input" in err, (args, err)
        assert (bug.read_bytes(), req.read_bytes()) == before and alias.is_symlink()


def test_writing_through_a_symlink_writes_its_target(tmp_path, monkeypatch, capsysbinary):
    target = tmp_path / "real" / "c.yaml"
    target.parent.mkdir()
    target.write_text("old")
    os.chmod(target, 0o600)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    code, _, err = run_cli(monkeypatch, capsysbinary, "import", TEXT, "-o", link)
    assert code == 0, err
    assert link.is_symlink() and load(target).interactions and stat.S_IMODE(target.stat().st_mode) == 0o600
    write_atomic(link, "text")
    assert link.is_symlink() and target.read_text() == "text"


def test_a_device_or_fifo_is_never_an_output(tmp_path, monkeypatch, capsysbinary):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for output in ("/dev/null", fifo):
        before = os.stat(output)
        code, _, err = run_cli(monkeypatch, capsysbinary, "import", TEXT, "-o", output)
        assert code == 2 and one_line(err) and "not a regular file" in err, err
        after = os.stat(output)
        assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    with pytest.raises(CassetteError, match="not a regular file"):
        write_atomic("/dev/null", "x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_dash_writes_the_output_to_stdout(tmp_path, monkeypatch, capsysbinary):
    monkeypatch.chdir(tmp_path)
    for args in (
        ["import", TEXT, "-o", "-"],
        ["shrink", PARALLEL, "--translator", "broken_translators:drop_second_tool", "-o", "-"],
    ):
        code, out, err = run_cli(monkeypatch, capsysbinary, *args)
        assert code == 0, err
        assert loads(out).interactions and "wrote" not in err
    code, out, _ = run_cli(monkeypatch, capsysbinary, "report", TEXT, "-o", "-")
    assert code == 0 and out.startswith("<!-- quirktape-report v1 -->")
    assert not (tmp_path / "-").exists()


def test_record_writes_to_stdout_with_dash(tmp_path, monkeypatch, capsysbinary):
    with running(fixed(SSE)) as url:
        code, out, err = run_cli(
            monkeypatch, capsysbinary, "record", "--upstream", "openai", "--base-url", url + "/v1", "--model", "m",
            "--request", request_file(tmp_path), "--stream", "-o", "-",
        )  # fmt: skip
    assert code == 0 and loads(out).interactions[0].response.raw == SSE and "wrote" not in err


KILLED_WRITER = """
import os, sys
import recorder.tape.cassette as cassette
def stuck(src, dst):
    print(src, flush=True)
    sys.stdin.read()  # never returns: the parent kills us here, the temporary file written
cassette.os.replace = stuck
cassette.write_atomic(sys.argv[1], "x" * 100000)
"""


def test_a_killed_write_leaves_no_temporary_file_for_long(tmp_path):
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path / "c.yaml")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    stranded = writer.stdout.readline().strip()  # the writer says where, once the file is written
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert stranded.endswith(TEMP_SUFFIX) and os.path.exists(stranded)
    live = tmp_path / f".other.yaml.abcdefgh.{os.getppid()}{TEMP_SUFFIX}"  # a live writer's: never touched
    live.write_text("in progress")
    old = time.time() - STALE_AFTER - 1
    for path in (stranded, live):
        os.utime(path, (old, old))
    write_atomic(tmp_path / "d.yaml", "next write")
    assert not os.path.exists(stranded) and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["d.yaml", live.name])


# --- live faults ------------------------------------------------------------------------------------


def fixed(body: bytes, headers: dict | None = None, status: int = 200) -> Starlette:
    async def answer(request):
        async def pieces():
            yield body

        return StreamingResponse(pieces(), status_code=status, headers=headers, media_type="text/event-stream")

    return Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])


CORRUPT = gzip.compress(SSE)[:10] + b"\x00garbage that is not deflate data" * 3


def test_record_keeps_a_corrupt_gzip_body_as_received_and_says_what_failed(tmp_path, monkeypatch, capsysbinary):
    out = tmp_path / "c.yaml"
    with running(fixed(CORRUPT, {"content-encoding": "gzip"})) as url:
        code, _, err = run_cli(
            monkeypatch, capsysbinary, "record", "--upstream", "openai", "--base-url", url + "/v1", "--model", "m",
            "--request", request_file(tmp_path), "--stream", "-o", out,
        )  # fmt: skip
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "content-encoding gzip does not decode" in notes[0], err
    cassette = load(out)
    assert (
        cassette.interactions[0].response.raw == CORRUPT
        and "content-encoding" not in cassette.interactions[0].response.headers
    )


def test_record_and_proxy_still_decode_a_good_gzip_body(tmp_path, monkeypatch, capsysbinary):
    with running(fixed(gzip.compress(SSE), {"content-encoding": "gzip"})) as url:
        code, _, err = run_cli(
            monkeypatch, capsysbinary, "record", "--upstream", "openai", "--base-url", url + "/v1", "--model", "m",
            "--request", request_file(tmp_path), "--stream", "-o", tmp_path / "c.yaml",
        )  # fmt: skip
        assert code == 0 and "note:" not in err
        assert load(tmp_path / "c.yaml").interactions[0].response.raw == SSE
        lines: list[str] = []
        with running(proxy_app(url, tmp_path / "p", log=lines.append)) as proxy:
            reply = httpx.post(proxy + "/v1/chat/completions", json={"stream": True})
    assert reply.content == SSE and lines == []  # the client decodes what the upstream encoded
    (written,) = (tmp_path / "p").glob("*.yaml")
    assert load(written).interactions[0].response.raw == SSE


def test_the_proxy_records_a_corrupt_gzip_body_as_received_and_passes_it_on(tmp_path):
    lines: list[str] = []
    with (
        running(fixed(CORRUPT, {"content-encoding": "gzip"})) as upstream,
        running(proxy_app(upstream, tmp_path, log=lines.append)) as proxy,
    ):
        with httpx.stream("POST", proxy + "/v1/chat/completions", json={"stream": True}) as reply:
            received = b"".join(reply.iter_raw())
    assert received == CORRUPT and reply.headers["content-encoding"] == "gzip"
    assert len(lines) == 1 and "content-encoding gzip does not decode" in lines[0]
    (written,) = tmp_path.glob("*.yaml")
    assert load(written).interactions[0].response.raw == CORRUPT


class Lines(logging.Handler):
    """What the server logs, and an event per line so a test waits for it instead of sleeping.

    ``attach`` once the servers run: starting one sets uvicorn's logging up afresh.
    """

    LOGGERS = ("uvicorn.error", "asyncio")

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.event = threading.Event()

    def attach(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.event.set()

    def text(self) -> str:
        return "\n".join(logging.Formatter().format(r) for r in self.records)


@pytest.fixture
def server_log():
    handler = Lines()
    yield handler
    for name in Lines.LOGGERS:
        logging.getLogger(name).removeHandler(handler)


def test_a_recorded_cut_served_is_one_log_line(server_log):
    original = load(CUT)
    with running(serve_app(original), log_level="warning") as url:
        server_log.attach()
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(url + "/v1/chat/completions", content=original.interactions[0].request.body)
        assert server_log.event.wait(10)
    assert len(server_log.records) == 1 and server_log.records[0].exc_info is None
    assert "cut as recorded" in server_log.text() and server_log.text().count("\n") == 0


def test_an_upstream_cut_through_the_proxy_is_one_log_line(tmp_path, server_log):
    original = load(CUT)
    with (
        running(serve_app(original), log_level="critical") as upstream,
        running(proxy_app(upstream, tmp_path), log_level="warning") as proxy,
    ):
        server_log.attach()
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(proxy + "/v1/chat/completions", content=original.interactions[0].request.body)
        assert server_log.event.wait(10)
    said = [r.getMessage() for r in server_log.records if r.getMessage().startswith("quirktape proxy")]
    assert len(said) == 1 and "the upstream broke the connection" in said[0] and "\n" not in said[0]
    assert all(r.exc_info is None for r in server_log.records)


def paced_cassette(pieces: int = 40, gap_ms: float = 50.0):
    body = "".join(f'data: {{"choices":[{{"index":0,"delta":{{"content":"{n} "}}}}]}}\n\n' for n in range(pieces))
    offsets = [body.index(f'"{n} "') - len('data: {"choices":[{"index":0,"delta":{"content":') for n in range(pieces)]
    data = json.loads(json.dumps(load(TEXT).model_dump(mode="json", exclude_none=True)))
    response = data["interactions"][0]["response"]
    response["body"]["string"] = body + "data: [DONE]\n\n"
    response["quirktape"] = {
        "dialect": "openai",
        "stream": True,
        "offsets": offsets,
        "t_ms": [n * gap_ms for n in range(pieces)],
    }
    data["interactions"] = data["interactions"][:1]
    return parse_cassette(data)


@pytest.mark.parametrize("through", ["serve", "proxy"])
def test_a_client_that_goes_away_is_one_log_line(tmp_path, server_log, through):
    cassette = paced_cassette()
    lines: list[str] = []
    proxy_said = threading.Event()
    with running(serve_app(cassette, pace="recorded"), log_level="warning") as upstream:
        app = proxy_app(upstream, tmp_path, log=lambda line: (lines.append(line), proxy_said.set()))
        with running(app, log_level="warning") as proxy:
            server_log.attach()
            url = upstream if through == "serve" else proxy
            with httpx.stream("POST", url + "/v1/chat/completions", content=cassette.interactions[0].request.body) as r:
                next(r.iter_raw())  # one piece, then the client hangs up
            assert (server_log.event if through == "serve" else proxy_said).wait(10)
            served = [r.getMessage() for r in server_log.records if r.getMessage().startswith("quirktape serve")]
            said = served if through == "serve" else lines
            assert len(said) == 1 and "the client went away" in said[0], said
    assert all(r.exc_info is None for r in server_log.records) and not list(tmp_path.glob("*.yaml"))
    assert "socket.send() raised exception" not in server_log.text()


@pytest.mark.parametrize("command", ["serve", "proxy", "gateway"])
@pytest.mark.parametrize("port", ["70000", "-1"])
def test_a_port_out_of_range_is_a_clean_error(tmp_path, monkeypatch, capsysbinary, command, port):
    args = [TEXT] if command == "serve" else ["--upstream", "http://127.0.0.1:9/v1", "-o", tmp_path]
    code, _, err = run_cli(monkeypatch, capsysbinary, command, *args, "--port", port)
    assert code == 2 and one_line(err) and "--port" in err, err
    with pytest.raises(OSError, match="out of range"):
        bind("127.0.0.1", 70000)


def test_record_against_a_silent_upstream_shows_progress_and_gives_up(tmp_path, monkeypatch, capsysbinary):
    monkeypatch.setattr(cli_module._Waiting, "NOTICE_AFTER", 0.05)
    silent = bind()  # listens, never accepts: the request is queued and nothing ever answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
    try:
        code, _, err = run_cli(
            monkeypatch, capsysbinary, "record", "--upstream", "openai", "--base-url", url, "--model", "m",
            "--request", request_file(tmp_path), "--stream", "--timeout", "1", "-o", tmp_path / "c.yaml",
        )  # fmt: skip
    finally:
        silent.close()
    lines = err.splitlines()
    assert code == 2 and "Traceback" not in err, err
    assert "silent for" in lines[0] and "not a byte yet" in lines[0]
    assert lines[-1].startswith("quirktape: error:") and "no response within the timeout" in lines[-1]


def test_record_has_a_sensible_default_timeout(monkeypatch, capsysbinary):
    code, out, _ = run_cli(monkeypatch, capsysbinary, "record", "--help")
    default = float(out.split("--timeout")[1].split("[default: ")[1].split("]")[0])
    assert code == 0 and 30 <= default <= 300


def test_stream_and_no_stream_together_is_an_error(tmp_path, monkeypatch, capsysbinary):
    for flags in (["--stream", "--no-stream"], ["--both", "--stream"]):
        code, _, err = run_cli(
            monkeypatch, capsysbinary, "record", "--upstream", "openai", "--base-url", "http://127.0.0.1:9/v1",
            "--model", "m", "--request", request_file(tmp_path), *flags, "-o", tmp_path / "c.yaml",
        )  # fmt: skip
        assert code == 2 and one_line(err) and "exclude one another" in err, err


def test_memory_error_is_exit_2_with_one_line(monkeypatch, capsysbinary):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cli_module, "load", exhausted)
    code, _, err = run_cli(monkeypatch, capsysbinary, "replay", TEXT)
    assert code == 2 and one_line(err) and "out of memory" in err


def test_a_recording_failure_never_reaches_the_proxied_client(tmp_path, monkeypatch):
    import recorder.capture.proxy as proxy_module

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(proxy_module, "save", broken)
    lines: list[str] = []
    with running(fixed(SSE)) as upstream, running(proxy_app(upstream, tmp_path, log=lines.append)) as proxy:
        reply = httpx.post(proxy + "/v1/chat/completions", json={"stream": True})
    assert reply.content == SSE and len(lines) == 1 and "RuntimeError: disk on fire" in lines[0]
