"""Every performance figure of quirktape, each printed with the baseline it is measured against in the
same run and the ratio between the two. Nothing here is asserted: the figures are read, and the
README's "Benchmark" section quotes them with the machine they came from.

    .venv/bin/python bench/run.py                 # every section, full sizes (about 20 minutes)
    .venv/bin/python bench/run.py --quick         # smaller sizes (a few minutes)
    .venv/bin/python bench/run.py --only translator,quadratic
    .venv/bin/python bench/run.py --suite         # also time the test suite (pytest -q)

Sections (``--only``): machine, translator, startup, replay, scale, check-memory, transport, limits,
quadratic, yaml, hostile, proxy, cassettes, suite. Commands run as subprocesses of the installed
``quirktape`` (``PYTHONPATH`` decides which tree is measured), each one's peak RSS read from
``wait4``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import translate as translator_bench  # noqa: E402 - the translator figures live next to this file

_SCRIPT = Path(sys.executable).with_name("quirktape")
QT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from recorder.cli import main; main()"]
SECTIONS = (
    "machine",
    "translator",
    "startup",
    "replay",
    "scale",
    "check-memory",
    "transport",
    "limits",
    "quadratic",
    "yaml",
    "hostile",
    "proxy",
    "cassettes",
    "suite",
)


# --- running and printing ----------------------------------------------------------------------


class Ran:
    """One subprocess: wall seconds, peak RSS (MB), exit code, whether it was killed at the timeout."""

    def __init__(self, seconds: float, rss_mb: float, rc: int, killed: bool, stderr: str) -> None:
        self.seconds, self.rss_mb, self.rc, self.killed, self.stderr = seconds, rss_mb, rc, killed, stderr


_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_ENV["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "quirktape-bench-pycache")
"""Commands run with their modules' bytecode cached, as an installed package's are (pip compiles them);
a shell that sets ``PYTHONDONTWRITEBYTECODE`` would otherwise time compiling quirktape at every start.
The first run of a command fills the cache; the figures are each the best of several runs."""

_TIME = "/usr/bin/time"
"""GNU time, when there: the command's peak RSS as its own, not inflated by this process's (a fork of a
large process starts out as large, and ``wait4``'s maximum keeps that)."""


def run(args: list[str], *, timeout: float | None = None, stdout: int | None = subprocess.DEVNULL) -> Ran:
    timed = os.path.exists(_TIME)
    if timed:
        args = [_TIME, "-f", "quirktape-bench-rss %M", *args]
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=stdout, stderr=err, start_new_session=True, env=_ENV)
        killed = threading.Event()

        def kill() -> None:  # the command and what it started (GNU time's child)
            killed.set()
            os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
        rss = usage.ru_maxrss / 1024
        if timed:
            lines = text.rstrip("\n").split("\n")
            if lines and lines[-1].startswith("quirktape-bench-rss "):
                rss = int(lines[-1].split()[1]) / 1024
                text = "\n".join(lines[:-1])
            text = "\n".join(x for x in text.split("\n") if not x.startswith("Command exited with non-zero status"))
        return Ran(seconds, rss, proc.returncode, killed.is_set(), text[-400:])


def best_run(args: list[str], repeat: int, **kwargs) -> Ran:
    return min((run(args, **kwargs) for _ in range(repeat)), key=lambda r: r.seconds)


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    return translator_bench.best(fn, repeat)


def figure(name: str, value: float, unit: str, baseline: str | None = None, base: float | None = None) -> None:
    """One line: the figure, and when there is one, its baseline and the ratio to it."""
    line = f"  {name:62} {_num(value)} {unit}"
    if baseline is not None and base:
        line += f"   baseline {baseline}: {_num(base)} {unit}   ratio {value / base:.2f}x"
    print(line, flush=True)


def note(text: str) -> None:
    print(f"  {text}", flush=True)


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:9.0f}"
    if value >= 1:
        return f"{value:9.2f}"
    return f"{value:9.4f}"


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


# --- inputs ------------------------------------------------------------------------------------


def compact_stream(path: Path, chunks: int, text: str = " t{i}") -> int:
    """An OpenAI-compatible SSE body of ``chunks`` small chunks (about 62 bytes each); its size."""
    with path.open("wb") as out:
        out.write(
            b'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
        )
        line = 'data: {{"choices":[{{"index":0,"delta":{{"content":"{}"}}}}]}}\n\n'
        for i in range(max(chunks - 3, 0)):
            out.write(line.format(text.format(i=i % 97)).encode())
        out.write(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    return path.stat().st_size


def big_text_stream(path: Path, megabytes: float, text_per_event: int = 4096) -> int:
    """An SSE body of about ``megabytes`` MB whose events each carry ``text_per_event`` characters of text."""
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    target = int(megabytes * 1024 * 1024)
    with path.open("wb") as out:
        size = out.write(b'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":""}}]}\n\n')
        while size < target:
            text = " ".join(rng.choice(words) for _ in range(text_per_event // 6))
            payload = json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}, separators=(",", ":"))
            size += out.write(f"data: {payload}\n\n".encode())
        out.write(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    return path.stat().st_size


def import_cassette(sse: Path, cassette: Path) -> Ran:
    ran = run([*QT, "import", str(sse), "-o", str(cassette), "--dialect", "openai"])
    if ran.rc != 0:
        raise SystemExit(f"import failed: {ran.stderr}")
    return ran


def floor_seconds(payloads: list[str]) -> float:
    """The translator floor over ``payloads`` (``translate.floor``), best of five."""
    return best(translator_bench.floor(payloads), 5)


def sse_payloads(path: Path) -> list[str]:
    return [line[6:] for line in path.read_text().split("\n") if line.startswith("data: {")]


# --- sections ----------------------------------------------------------------------------------


def machine(args: argparse.Namespace, work: Path) -> None:
    section("machine")
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    note(f"nproc {os.cpu_count()}, CPU {model}, Python {platform.python_version()} ({platform.machine()})")
    import yaml

    note(f"PyYAML {yaml.__version__}, libyaml {'yes' if getattr(yaml, '__with_libyaml__', False) else 'no'}")
    note(f"commands run with bytecode cached in {_ENV['PYTHONPYCACHEPREFIX']}")


def translator(args: argparse.Namespace, work: Path) -> None:
    section("translator (bytes in, Anthropic events out; floor = json.loads per payload + one small json.dumps)")
    for name, payloads in (
        ("text stream", translator_bench.text_stream(20_000)),
        ("tool-argument stream", translator_bench.tool_stream(2_000)),
    ):
        got = translator_bench.measure(name, payloads)
        n, f = got["chunks"], got["floor"]
        figure(f"{name} ({n} chunks): translator", got["translator"] / n * 1e6, "µs/chunk", "floor", f / n * 1e6)
        figure(f"{name}: translator + SSE encoding", got["encode"] / n * 1e6, "µs/chunk", "floor", f / n * 1e6)
    ratio = translator_bench.linearity()
    figure("one event fed byte by byte: time for 8x the bytes", ratio, "x", "linear", 8.0)


def startup(args: argparse.Namespace, work: Path) -> None:
    section("start-up (best of 7; baseline python -c pass)")
    tiny = work / "tiny.sse"
    compact_stream(tiny, 3)
    cassette = work / "tiny.yaml"
    import_cassette(tiny, cassette)
    base = best_run([sys.executable, "-c", "pass"], 7).seconds
    figure("python -c pass", base * 1000, "ms")
    for label, cmd in (
        ("quirktape --help", [*QT, "--help"]),
        ("quirktape replay (3-chunk cassette)", [*QT, "replay", str(cassette)]),
        ("quirktape check (3-chunk cassette)", [*QT, "check", str(cassette)]),
        ("quirktape import (3-chunk stream)", [*QT, "import", str(tiny), "-o", str(work / "t2.yaml")]),
    ):
        figure(label, best_run(cmd, 7).seconds * 1000, "ms", "python -c pass", base * 1000)


def replay_e2e(args: argparse.Namespace, work: Path) -> None:
    n = 20_000
    section(f"quirktape replay end to end ({n} chunks; baseline: the translator floor per chunk)")
    sse = work / "replay.sse"
    payloads = translator_bench.text_stream(n)
    sse.write_text("".join(f"data: {p}\n\n" for p in payloads) + "data: [DONE]\n\n")
    cassette = work / "replay.yaml"
    import_cassette(sse, cassette)
    floor = floor_seconds(payloads) / n * 1e6
    startup_ms = best_run([sys.executable, "-c", "pass"], 5).seconds * 1000
    note(f"cassette {cassette.stat().st_size / 1e6:.1f} MB; python -c pass {startup_ms:.0f} ms")
    for fmt in ("sse", "jsonl"):
        ran = best_run([*QT, "replay", str(cassette), "--format", fmt], 3)
        figure(f"replay --format {fmt} (process start to exit)", ran.seconds / n * 1e6, "µs/chunk", "floor", floor)
    ran = best_run([*QT, "replay", str(cassette), "--format", "message"], 3)
    figure("replay --format message (process start to exit)", ran.seconds / n * 1e6, "µs/chunk", "floor", floor)
    tiny = work / "replay-tiny.yaml"
    compact_stream(work / "replay-tiny.sse", 3)
    import_cassette(work / "replay-tiny.sse", tiny)
    fixed = best_run([*QT, "replay", str(tiny)], 5).seconds
    sse_run = best_run([*QT, "replay", str(cassette)], 3).seconds
    figure(
        "replay --format sse, start-up taken out (marginal)", (sse_run - fixed) / n * 1e6, "µs/chunk", "floor", floor
    )

    try:
        from recorder.replay import stream_events
    except ImportError:  # an older tree
        return
    from recorder.tape import load
    from translator import encode_sse

    def own_work() -> None:  # what replay does between start-up and printing: load, translate, encode
        b"".join(encode_sse(e) for e in stream_events(load(cassette)))

    figure(
        "in process: load + translate + encode (no start-up, no stdout)",
        best(own_work) / n * 1e6,
        "µs/chunk",
        "floor",
        floor,
    )


def scale(args: argparse.Namespace, work: Path) -> None:
    sizes = [1_000, 10_000, 50_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
    sizes = [s for s in sizes if s <= args.max_chunks]
    section(f"scale: import, check and replay of {', '.join(f'{s:,}' for s in sizes)}-chunk streams (~62 B/chunk)")
    results: dict[str, list[tuple[int, Ran]]] = {"import": [], "check": [], "replay": []}
    for n in sizes:
        sse, cassette = work / f"s{n}.sse", work / f"s{n}.yaml"
        size = compact_stream(sse, n)
        timeout = args.timeout
        repeat = 3  # best of three (this machine's speed varies by a tenth from run to run); check at 1M once
        ran = best_run([*QT, "import", str(sse), "-o", str(cassette), "--dialect", "openai"], repeat, timeout=timeout)
        results["import"].append((n, ran))
        if ran.rc != 0:
            note(f"{n:>9,} chunks: import failed or killed ({ran.stderr.strip()[-200:]})")
            break
        note(f"{n:>9,} chunks: body {size / 1e6:.1f} MB, cassette {cassette.stat().st_size / 1e6:.1f} MB")
        for command in ("check", "replay"):
            times = 1 if command == "check" and n > 100_000 else repeat
            results[command].append((n, best_run([*QT, command, str(cassette)], times, timeout=timeout)))
        for command in results:
            if results[command] and results[command][-1][0] == n:
                r = results[command][-1][1]
                state = " KILLED at the timeout" if r.killed else (f" exit {r.rc}" if r.rc not in (0,) else "")
                figure(f"{n:>9,} chunks: {command}", r.seconds, "s", None)
                figure(f"{n:>9,} chunks: {command} peak RSS{state}", r.rss_mb, "MB", "200 MB limit", 200)
    for command, rows in results.items():
        done = [(n, r) for n, r in rows if r.rc == 0 and not r.killed]
        if len(done) < 3:
            continue
        slopes = [
            (b[1].seconds - a[1].seconds) / (b[0] - a[0]) * 1e6 for a, b in zip(done, done[1:])
        ]  # marginal µs per chunk, decade by decade
        note(f"{command}: marginal µs/chunk per step {', '.join(f'{s:.1f}' for s in slopes)}")
        (n0, first), (n1, before_last) = done[0], done[-2]  # the steps before the last, as one: a span long
        earlier = (before_last.seconds - first.seconds) / (n1 - n0) * 1e6  # enough that noise does not rule it
        figure(f"{command}: last step's marginal cost per chunk", slopes[-1], "µs/chunk", "the steps before", earlier)


def check_memory(args: argparse.Namespace, work: Path) -> None:
    sizes = [1, 4, 16] if args.quick else [1, 16, args.largest_mb]
    section(f"check memory against body size ({', '.join(f'{s} MB' for s in sizes)}; 4 KiB of text per event)")
    base = None
    for mb in sizes:
        sse, cassette = work / f"m{mb}.sse", work / f"m{mb}.yaml"
        size = big_text_stream(sse, mb)
        import_cassette(sse, cassette)
        sse.unlink()
        ran = run([*QT, "check", str(cassette)], timeout=args.timeout)
        cassette.unlink()
        state = " KILLED at the timeout" if ran.killed else ""
        if base is None:
            base = ran.rss_mb
            figure(f"{size / 1e6:6.1f} MB body: check peak RSS{state}", ran.rss_mb, "MB")
        else:
            figure(f"{size / 1e6:6.1f} MB body: check peak RSS{state}", ran.rss_mb, "MB", f"{sizes[0]} MB body", base)
        figure(f"{size / 1e6:6.1f} MB body: check time", ran.seconds, "s")
        figure(f"{size / 1e6:6.1f} MB body: peak RSS per MB of body", ran.rss_mb / (size / 1e6), "MB/MB")
    _check_phases(work, 16 if args.quick else 64)


def _check_phases(work: Path, mb: int) -> None:
    """In process: what each part of the oracle allocates at its peak (tracemalloc), against the body's size."""
    import tracemalloc

    try:
        from recorder.judge.latency import holds
        from recorder.judge.oracle import conservation, coverage
        from recorder.replay import replay
        from recorder.tape import load
    except ImportError:  # an older tree
        return
    sse, cassette = work / "phases.sse", work / "phases.yaml"
    size = big_text_stream(sse, mb, 256)  # small events: what a phase keeps per payload shows
    import_cassette(sse, cassette)
    sse.unlink()
    loaded = load(cassette)
    cassette.unlink()
    note(f"{size / 1e6:.1f} MB body in {len(loaded.interactions[0].response.quirktape.offsets or [])} reads:")
    try:  # what check keeps of quirktape's own translation (held whole before; made again when read since)
        from recorder.judge.oracle import _own_replay as kept
    except ImportError:
        kept = replay
    run = None

    def reference() -> None:
        nonlocal run
        run = kept(loaded, 0)

    for label, fn in (
        ("the reference translation (what check keeps of it)", reference),
        ("coverage", lambda: coverage(loaded, 0)),
        ("conservation", lambda: conservation(run)),
        ("latency", lambda: holds(loaded, 0)),
    ):
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
        figure(f"  {label}: tracemalloc peak", peak / 1e6, "MB", "the body", size / 1e6)


def transport(args: argparse.Namespace, work: Path) -> None:
    import httpx

    from recorder.replay.transport import ReplayTransport
    from recorder.tape import Cassette

    counts = [10, 1_000, 100_000] if not args.quick else [10, 1_000, 20_000]
    section(f"ReplayTransport request matching ({', '.join(f'{c:,}' for c in counts)} interactions)")
    base = None
    for count in counts:
        data = {
            "version": 1,
            "interactions": [
                {
                    "request": {
                        "method": "POST",
                        "uri": "http://127.0.0.1:8000/v1/chat/completions",
                        "body": json.dumps(
                            {"model": "m", "stream": True, "messages": [{"role": "user", "content": str(i)}]}
                        ),
                        "headers": {},
                    },
                    "response": {
                        "status": {"code": 200, "message": "OK"},
                        "headers": {"content-type": ["text/event-stream"]},
                        "body": {
                            "string": 'data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n'
                        },
                        "quirktape": {"dialect": "openai"},
                    },
                }
                for i in range(count)
            ],
        }
        start = time.perf_counter()
        cassette = Cassette.model_validate(data)
        transport = ReplayTransport(cassette)
        built = time.perf_counter() - start
        client = httpx.Client(transport=transport, base_url="http://127.0.0.1:8000")
        rng = random.Random(1)
        wanted = [rng.randrange(count) for _ in range(200)]
        start = time.perf_counter()
        for i in wanted:
            body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": str(i)}]}
            client.post("/v1/chat/completions", json=body).read()
        per = (time.perf_counter() - start) / len(wanted) * 1e3
        if base is None:
            base = per
            figure(f"{count:>7,} interactions: per request", per, "ms")
        else:
            figure(f"{count:>7,} interactions: per request", per, "ms", f"{counts[0]} interactions", base)
        figure(f"{count:>7,} interactions: loading them into a transport", built, "s")


def limits(args: argparse.Namespace, work: Path) -> None:
    section("limits: a 10-million-entry offsets list (bounded: refused with one line, or read)")
    entries = 10_000_000 if not args.quick else 2_500_000
    path = work / "offsets.yaml"
    with path.open("w") as out:
        out.write("version: 1\ninteractions:\n- request: {method: POST, uri: 'http://127.0.0.1/v1/chat/completions', ")
        out.write("body: '', headers: {}}\n  response:\n    status: {code: 200, message: OK}\n")
        out.write("    headers: {content-type: [text/event-stream]}\n    body:\n      string: '")
        out.write("x" * entries)
        out.write("'\n    quirktape:\n      dialect: openai\n      offsets: [")
        step = 1_000_000
        for start in range(0, entries, step):
            out.write(", ".join(map(str, range(start, min(entries, start + step)))))
            if start + step < entries:
                out.write(", ")
        out.write("]\n")
    note(f"{entries:,} offsets, file {path.stat().st_size / 1e6:.0f} MB")
    ran = run([*QT, "replay", str(path)], timeout=args.timeout)
    state = "KILLED at the timeout" if ran.killed else f"exit {ran.rc}"
    figure(f"replay: {state}", ran.seconds, "s")
    figure("replay: peak RSS", ran.rss_mb, "MB", "200 MB limit", 200)
    note(f"stderr: {ran.stderr.strip().splitlines()[-1][:160] if ran.stderr.strip() else '(none)'}")
    path.unlink()


def _doubling(name: str, make: Callable[[int], Callable[[], object]], sizes: list[int]) -> None:
    try:
        small, large = (best(make(n), 3) for n in sizes)
    except Exception as exc:  # noqa: BLE001 - a probe that crashes is a figure too
        note(f"{name}: raises {type(exc).__name__}")
        return
    figure(f"{name}: {sizes[0]:,} -> {sizes[1]:,} (2x)", large / small, "x time", "linear", 2.0)


def quadratic(args: argparse.Namespace, work: Path) -> None:
    from translator import JsonPrefix, Translator, loads_partial
    from translator.jsonarray import JsonArrayDecoder
    from translator.ndjson import NDJSONDecoder
    from translator.sse import SSEDecoder

    k = 1 if args.quick else 2
    section("size-doubling probes (time for twice the input; linear 2x, quadratic 4x)")

    def bytewise(feed: Callable[[bytes], object], body: bytes) -> None:
        for i in range(len(body)):
            feed(body[i : i + 1])

    def leading(n: int):
        body = b" " * n + b'data: {"choices":[]}\n\n'
        return lambda: bytewise(Translator("openai").feed, body)

    def sse_line(n: int):
        body = b"data: " + b"y" * n + b"\n\n"
        return lambda: bytewise(SSEDecoder().feed, body)

    def array_elem(n: int):
        body = b'[{"text":"' + b"y" * n + b'"}]'
        return lambda: bytewise(JsonArrayDecoder().feed, body)

    def ndjson_line(n: int):
        body = b'{"text":"' + b"y" * n + b'"}\n'
        return lambda: bytewise(NDJSONDecoder().feed, body)

    def sse_cr(n: int):
        body = b"data: x\r" * (n // 8)
        return lambda: bytewise(SSEDecoder().feed, body)

    def array_deep(n: int):
        body = b'[{"a":' + b"[" * n + b"]" * n + b"}]"
        return lambda: bytewise(JsonArrayDecoder().feed, body)

    def prefix(text: str):
        def go() -> None:
            scanner = JsonPrefix()
            for ch in text:
                scanner.feed(ch)

        return go

    sizes = [10_000 * k, 20_000 * k]
    _doubling("Translator: leading whitespace, 1 byte per read", leading, sizes)
    _doubling("SSEDecoder: one data line, 1 byte per read", sse_line, [50_000 * k, 100_000 * k])
    _doubling("JsonArrayDecoder: one element, 1 byte per read", array_elem, [50_000 * k, 100_000 * k])
    _doubling("NDJSONDecoder: one line, 1 byte per read", ndjson_line, [50_000 * k, 100_000 * k])
    _doubling("JsonPrefix: nesting [[[[..., 1 char per feed", lambda n: prefix('{"a":' + "[" * n), sizes)
    _doubling("JsonPrefix: a long number, 1 char per feed", lambda n: prefix('{"a":1' + "2" * n), sizes)
    _doubling("JsonPrefix: a long string, 1 char per feed", lambda n: prefix('{"a":"' + "y" * n), sizes)
    _doubling("loads_partial: nesting [[[[...", lambda n: lambda: loads_partial('{"a":' + "[1," * n), sizes)
    _doubling("loads_partial: a cut string", lambda n: lambda: loads_partial('{"a":"' + "y" * n), sizes)
    _doubling("loads_partial: many members, cut", lambda n: lambda: loads_partial("{" + '"k":1,' * n + '"x'), sizes)
    _doubling(
        "loads_partial: broken past a deep prefix (the fallback reader)",
        lambda n: lambda: loads_partial('{"a":' + "[" * n + "x"),
        sizes,
    )
    _doubling("SSEDecoder: CR line ends, 1 byte per read", sse_cr, [50_000 * k, 100_000 * k])
    _doubling("JsonArrayDecoder: nesting [[[[..., 1 byte per read", array_deep, sizes)


def yaml_section(args: argparse.Namespace, work: Path) -> None:
    from recorder.tape import dumps, load

    n = 20_000 if args.quick else 100_000
    section(f"cassette YAML ({n:,}-chunk cassette; baseline json.loads / json.dumps of the same data)")
    sse, cassette = work / "y.sse", work / "y.yaml"
    compact_stream(sse, n)
    import_cassette(sse, cassette)
    loaded = load(cassette)
    data = loaded.model_dump(mode="json")
    text = json.dumps(data)
    base_load = best(lambda: json.loads(text))
    base_dump = best(lambda: json.dumps(data))
    figure("load (YAML text -> Cassette)", best(lambda: load(cassette)), "s", "json.loads", base_load)
    figure("dumps (Cassette -> YAML text)", best(lambda: dumps(loaded)), "s", "json.dumps", base_dump)
    note(f"cassette {cassette.stat().st_size / 1e6:.1f} MB")
    mb = 16 if args.quick else 100
    for label, text in (("ASCII text, a literal block", "tok"), ("non-ASCII text, escaped", "t\u00f6k \u4f60")):
        sse = work / "body.sse"
        size = big_text_stream(sse, mb, 4096) if text == "tok" else _accented(sse, mb)
        import_cassette(sse, cassette)
        loaded = load(cassette)
        raw = loaded.interactions[0].response.raw
        copy = best(lambda raw=raw: bytes(bytearray(raw)), 3)
        dumped = best(lambda loaded=loaded: dumps(loaded), 2)
        figure(f"{size / 1e6:.0f} MB body, {label}: dumps", dumped, "s", "memory copy", copy)
        figure(f"{size / 1e6:.0f} MB body, {label}: load", best(lambda: load(cassette), 2), "s", "memory copy", copy)
        note(f"{size / 1e6:.0f} MB body, {label}: cassette {cassette.stat().st_size / 1e6:.0f} MB on disk")
        sse.unlink()


def _accented(path: Path, megabytes: float) -> int:
    """An SSE body of about ``megabytes`` MB whose text is not ASCII (written escaped in YAML)."""
    target = int(megabytes * 1024 * 1024)
    text = "gr\u00fc\u00dfe \u4f60\u597d " * 100
    payload = json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}, ensure_ascii=False)
    frame = f"data: {payload}\n\n".encode()
    with path.open("wb") as out:
        size = out.write(b'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":""}}]}\n\n')
        while size < target:
            size += out.write(frame)
        out.write(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    return path.stat().st_size


BOMB = """version: 1
interactions:
- request: {method: POST, uri: 'http://127.0.0.1/v1/chat/completions', body: '', headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {content-type: [text/event-stream]}
    body: {string: "data: [DONE]\\n\\n"}
    quirktape: {dialect: openai}
metadata:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
  expect: {content: [{type: text, text: *i}]}
"""


def hostile(args: argparse.Namespace, work: Path) -> None:
    section("hostile YAML: a 1 KB alias bomb (nine nested anchors under metadata)")
    bomb = work / "bomb.yaml"
    bomb.write_text(BOMB)
    tiny = work / "tiny-ok.yaml"
    compact_stream(work / "tiny-ok.sse", 3)
    import_cassette(work / "tiny-ok.sse", tiny)
    base = best_run([*QT, "check", str(tiny)], 3).seconds
    for label, cmd in (
        ("check", [*QT, "check", str(bomb)]),
        ("import", [*QT, "import", str(bomb), "-o", str(work / "bomb-out.yaml")]),
        ("report", [*QT, "report", str(bomb)]),
        ("pytest plugin", [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(bomb)]),
    ):
        ran = run(cmd, timeout=min(args.timeout, 30))
        state = "KILLED at 30 s" if ran.killed else f"exit {ran.rc}"
        figure(f"{label}: {state}", ran.seconds, "s", "check of a valid cassette", base)
        figure(f"{label}: peak RSS", ran.rss_mb, "MB")


def proxy(args: argparse.Namespace, work: Path) -> None:
    section("proxy overhead on loopback (bench/proxy.py)")
    ran = run([sys.executable, str(HERE / "proxy.py"), *(["--quick"] if args.quick else [])], stdout=None)
    if ran.rc:
        note(f"proxy bench failed: {ran.stderr}")


def cassettes(args: argparse.Namespace, work: Path) -> None:
    section("quirktape check cassettes/ (the bundled library)")
    files = sum(1 for _ in (ROOT / "cassettes").rglob("*.yaml"))
    ran = best_run([*QT, "check", str(ROOT / "cassettes")], 3)
    base = best_run([sys.executable, "-c", "pass"], 5).seconds
    figure(f"check of {files} cassettes", ran.seconds, "s", "python -c pass", base)
    figure("per cassette", ran.seconds / files * 1000, "ms")


def suite(args: argparse.Namespace, work: Path) -> None:
    section("test suite (pytest -q)")
    if not args.suite:
        note("skipped: pass --suite to time the whole test suite (it takes minutes on 2 cores)")
        return
    ran = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], stdout=subprocess.DEVNULL)
    figure(f"pytest -q (exit {ran.rc})", ran.seconds, "s")
    figure("pytest -q peak RSS", ran.rss_mb, "MB")


RUNNERS = {
    "machine": machine,
    "translator": translator,
    "startup": startup,
    "replay": replay_e2e,
    "scale": scale,
    "check-memory": check_memory,
    "transport": transport,
    "limits": limits,
    "quadratic": quadratic,
    "yaml": yaml_section,
    "hostile": hostile,
    "proxy": proxy,
    "cassettes": cassettes,
    "suite": suite,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--only", help=f"comma-separated sections ({', '.join(SECTIONS)})")
    parser.add_argument("--suite", action="store_true", help="also time the whole test suite")
    parser.add_argument("--max-chunks", type=int, default=1_000_000, help="largest stream in the scale section")
    parser.add_argument("--largest-mb", type=int, default=200, help="largest body in the check-memory section")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a command is killed")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(SECTIONS)
    unknown = [s for s in chosen if s not in RUNNERS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)} (known: {', '.join(SECTIONS)})")
    if "machine" not in chosen:
        chosen.insert(0, "machine")
    with tempfile.TemporaryDirectory(prefix="quirktape-bench-") as tmp:
        for name in chosen:
            RUNNERS[name](args, Path(tmp))


if __name__ == "__main__":
    main()
