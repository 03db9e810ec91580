"""What ``quirktape proxy`` costs a client, against a direct connection to the same upstream, on loopback.

A small HTTP/1.1 upstream (its own process, asyncio, chunked SSE of an OpenAI-compatible stream)
and ``quirktape proxy`` (its own process) run side by side; the client here reads through each.
Printed, each with its baseline from the same run and the ratio:

- first byte: time from sending a request to the first body byte (median of many requests);
- per chunk: time to read a stream of many small chunks, over the chunk count;
- concurrency: a small exchange's time while a 30 MB exchange is relayed and recorded, against the
  same small exchange alone (the recording's YAML and redaction run off the event loop).

Run: .venv/bin/python bench/proxy.py [--quick]   (bench/run.py runs it as its ``proxy`` section)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

_SCRIPT = Path(sys.executable).with_name("quirktape")
QT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from recorder.cli import main; main()"]


# --- the upstream (run as: proxy.py --upstream PORT) ----------------------------------------------


def _frame(text: str) -> bytes:
    payload = {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": text}}]}
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


_END = b'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'


async def _serve(port_file: str) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                query = dict(p.split("=", 1) for p in target.partition("?")[2].split("&") if "=" in p)
                chunks, size = int(query.get("n", "10")), int(query.get("size", "8"))
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                )
                frame = _frame("x" * size)
                for i in range(chunks):
                    writer.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                    if i % 64 == 63:
                        await writer.drain()
                writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(_END), _END))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


# --- measuring ------------------------------------------------------------------------------------


def _wait_port(path: Path, proc: subprocess.Popen, pattern: str | None = None) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args[0]} exited early")
        text = path.read_text() if path.exists() else ""
        found = re.search(pattern, text) if pattern else (re.fullmatch(r"\d+", text.strip()) and text)
        if found:
            return int(found.group(1) if pattern else text.strip())
        time.sleep(0.05)
    raise SystemExit("the server did not start")


def _first_byte(client: httpx.Client, url: str) -> float:
    start = time.perf_counter()
    with client.stream("POST", url, json={"model": "m", "stream": True, "messages": []}) as reply:
        pieces = reply.iter_raw()
        next(pieces)
        first = time.perf_counter() - start
        for _ in pieces:
            pass
    return first


def _exchange(client: httpx.Client, url: str) -> float:
    start = time.perf_counter()
    with client.stream("POST", url, json={"model": "m", "stream": True, "messages": []}) as reply:
        for _ in reply.iter_raw():
            pass
    return time.perf_counter() - start


def line(name: str, value: float, unit: str, baseline: str, base: float) -> None:
    print(f"  {name:62} {value:9.3f} {unit}   baseline {baseline}: {base:9.3f} {unit}   ratio {value / base:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        asyncio.run(_serve(args.upstream))
        return
    with tempfile.TemporaryDirectory(prefix="quirktape-proxy-bench-") as tmp:
        work = Path(tmp)
        up = subprocess.Popen([sys.executable, __file__, "--upstream", str(work / "port")])
        proxy = None
        try:
            port = _wait_port(work / "port", up)
            log = (work / "proxy.log").open("w")
            proxy = subprocess.Popen(
                [*QT, "proxy", "--upstream", f"http://127.0.0.1:{port}", "--port", "0", "-d", str(work / "out")],
                stderr=log,
            )
            proxy_port = _wait_port(work / "proxy.log", proxy, r"proxying http://127\.0\.0\.1:(\d+)")
            direct = f"http://127.0.0.1:{port}/v1/chat/completions"
            proxied = f"http://127.0.0.1:{proxy_port}/v1/chat/completions"
            _measure(direct, proxied, args.quick, work / "out")
        finally:
            for proc in (proxy, up):
                if proc is not None:
                    proc.terminate()
                    proc.wait()


def _measure(direct: str, proxied: str, quick: bool, out: Path) -> None:
    rounds = 40 if quick else 150
    with httpx.Client(timeout=120) as client:
        for url in (direct, proxied):  # warm both paths (imports, connections)
            _exchange(client, url + "?n=10")
        d = statistics.median(_first_byte(client, direct + "?n=10") for _ in range(rounds))
        p = statistics.median(_first_byte(client, proxied + "?n=10") for _ in range(rounds))
        line("first byte through the proxy (median)", p * 1e3, "ms", "direct", d * 1e3)
        print(f"  {'added to the first byte':62} {(p - d) * 1e3:9.3f} ms   (limit 2 ms)")

        n = 2_000 if quick else 10_000
        d = min(_exchange(client, direct + f"?n={n}&size=16") for _ in range(3))
        p = min(_exchange(client, proxied + f"?n={n}&size=16") for _ in range(3))
        line(f"{n:,}-chunk stream through the proxy, per chunk", p / n * 1e3, "ms", "direct", d / n * 1e3)
        print(f"  {'added per chunk':62} {(p - d) / n * 1e3:9.4f} ms   (limit 0.1 ms)")

        small = proxied + "?n=10"
        alone = [_exchange(client, small) for _ in range(rounds)]
        mb = 8 if quick else 30
        big_chunks = mb * 1024 * 1024 // 4200
        during: list[float] = []
        done = threading.Event()

        def big() -> None:
            with httpx.Client(timeout=600) as other:
                _exchange(other, proxied + f"?n={big_chunks}&size=4096")
            done.set()

        thread = threading.Thread(target=big)
        thread.start()
        time.sleep(0.05)
        while not done.is_set():  # the client has its last byte once the proxy has also written the cassette
            during.append(_exchange(client, small))
        thread.join()
        a, b = statistics.median(alone), statistics.median(during)
        line(f"small exchange while a {mb} MB one is relayed and recorded (median)", b * 1e3, "ms", "alone", a * 1e3)
        line("  the same, mean", statistics.mean(during) * 1e3, "ms", "alone", statistics.mean(alone) * 1e3)
        print(f"  {'':62} ({len(during)} small exchanges during, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
