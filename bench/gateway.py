"""How soon a client hears from ``quirktape gateway``: its first event against the upstream's first byte.

The upstream of ``bench/proxy.py`` (its own process, chunked SSE of an OpenAI-compatible stream)
and ``quirktape gateway`` (its own process) run on loopback. The baseline is a client reading the
upstream directly: the time from its request to the first body byte. Through the gateway, the same
client sends an Anthropic request and times its first byte, which is ``message_start``, sent at the
upstream's first payload: the difference is what translating live costs before anything is heard.

Run: .venv/bin/python bench/gateway.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from proxy import QT, _first_byte, _wait_port, line

REQUEST = {"model": "m", "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "hi"}]}


def _first_event(client: httpx.Client, url: str) -> float:
    start = time.perf_counter()
    with client.stream("POST", url, json=REQUEST) as reply:
        pieces = reply.iter_raw()
        next(pieces)
        first = time.perf_counter() - start
        for _ in pieces:
            pass
    return first


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 40 if args.quick else 150
    with tempfile.TemporaryDirectory(prefix="quirktape-gateway-bench-") as tmp:
        work = Path(tmp)
        up = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("proxy.py")), "--upstream", str(work / "port")]
        )
        gateway = None
        try:
            port = _wait_port(work / "port", up)
            log = (work / "gateway.log").open("w")
            gateway = subprocess.Popen(
                [*QT, "gateway", "--upstream", f"http://127.0.0.1:{port}/v1", "--port", "0", "-d", str(work / "out")],
                stderr=log,
            )
            gw_port = _wait_port(work / "gateway.log", gateway, r"gateway http://127\.0\.0\.1:(\d+)")
            direct = f"http://127.0.0.1:{port}/v1/chat/completions?n=10"
            through = f"http://127.0.0.1:{gw_port}/v1/messages"
            with httpx.Client(timeout=120) as client:
                _first_byte(client, direct)  # warm both paths (imports, connections)
                _first_event(client, through)
                d = statistics.median(_first_byte(client, direct) for _ in range(rounds))
                g = statistics.median(_first_event(client, through) for _ in range(rounds))
            line("first event through the gateway (median)", g * 1e3, "ms", "upstream's first byte", d * 1e3)
            print(f"  {'added before the client hears anything':62} {(g - d) * 1e3:9.3f} ms")
        finally:
            for proc in (gateway, up):
                if proc is not None:
                    proc.terminate()
                    proc.wait()


if __name__ == "__main__":
    main()
