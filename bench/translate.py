"""Translator speed against a floor measured in the same run.

For a 20,000-chunk text stream and a 2,000-chunk tool-argument stream, prints µs per
upstream chunk for:
  floor       json.loads of each payload + json.dumps of one small dict (the least any
              translator that parses JSON and writes JSON must do)
  translator  bytes in (one read per SSE event) -> Anthropic event dicts
  +encode     the same, plus encoding every event as the SSE bytes a client receives
and each one's ratio to the floor. Also checks that decoding is linear: one 8x larger
event fed one byte at a time should take about 8x as long (64x if it rescanned).

Run: .venv/bin/python bench/translate.py (``bench/run.py`` prints these with every other figure)
"""

from __future__ import annotations

import json
import time

from translator import Translator, encode_sse

REPEAT = 5


def text_stream(n: int) -> list[str]:
    return [
        json.dumps(
            {
                "id": "chatcmpl-9x8y7z",
                "object": "chat.completion.chunk",
                "created": 1780055979,
                "model": "deepseek-v4-pro",
                "system_fingerprint": "fp_0123",
                "choices": [
                    {"index": 0, "delta": {"content": f" tok{i % 97}"}, "logprobs": None, "finish_reason": None}
                ],
            },
            separators=(",", ":"),
        )
        for i in range(n)
    ]


def tool_stream(n: int) -> list[str]:
    args = json.dumps({"path": "src/app.py", "content": "x = 1\n" * (n * 2)})
    size = max(1, len(args) // (n - 1))
    frags = [args[i : i + size] for i in range(0, len(args), size)]
    first = {
        "index": 0,
        "id": "call_bench_0001",
        "type": "function",
        "function": {"name": "write_file", "arguments": ""},
    }
    payloads = [first] + [{"index": 0, "function": {"arguments": f}} for f in frags]
    return [
        json.dumps(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "model": "m",
                "choices": [{"index": 0, "delta": {"tool_calls": [p]}, "finish_reason": None}],
            },
            separators=(",", ":"),
        )
        for p in payloads[:n]
    ]


def best(fn, repeat: int = REPEAT) -> float:
    """The fastest of ``repeat`` runs of ``fn``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def floor(payloads: list[str]):
    """The floor every figure is a ratio to: ``json.loads`` of each payload plus one small ``json.dumps``."""
    small = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}}

    def run() -> None:
        loads, dumps = json.loads, json.dumps
        for p in payloads:
            loads(p)
            dumps(small)

    return run


def measure(name: str, payloads: list[str]) -> dict[str, float]:
    """Seconds for the floor, the translator and translator + encoding, over ``payloads``."""
    pieces = [f"data: {p}\n\n".encode() for p in payloads] + [b"data: [DONE]\n\n"]

    def translate() -> list:
        t = Translator("openai")
        out = []
        for piece in pieces:
            out += t.feed(piece)
        out += t.close("eof")
        return out

    def translate_encode() -> None:
        t = Translator("openai")
        for piece in pieces:
            for event in t.feed(piece):
                encode_sse(event)
        for event in t.close("eof"):
            encode_sse(event)

    events = translate()
    assert events[-1]["type"] == "message_stop", events[-1]
    return {
        "chunks": len(payloads),
        "floor": best(floor(payloads)),
        "translator": best(translate),
        "encode": best(translate_encode),
    }


def show(name: str, figures: dict[str, float]) -> None:
    n, f, t, e = figures["chunks"], figures["floor"], figures["translator"], figures["encode"]
    print(f"{name}: {n} chunks")
    print(f"  floor       {f / n * 1e6:7.2f} µs/chunk")
    print(f"  translator  {t / n * 1e6:7.2f} µs/chunk  {t / f:5.2f}x floor")
    print(f"  +encode     {e / n * 1e6:7.2f} µs/chunk  {e / f:5.2f}x floor")


def linearity() -> float:
    def feed_bytewise(size: int) -> float:
        body = ("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": "y" * size}}]}) + "\n\n").encode()

        def run() -> None:
            t = Translator("openai")
            for i in range(len(body)):
                t.feed(body[i : i + 1])

        return best(run)

    small, large = feed_bytewise(20_000), feed_bytewise(160_000)
    return large / small


if __name__ == "__main__":
    show("text stream", measure("text stream", text_stream(20_000)))
    show("tool-argument stream", measure("tool-argument stream", tool_stream(2_000)))
    print(f"linearity: one event fed byte by byte, 8x the bytes took {linearity():.2f}x the time (quadratic: 64x)")
