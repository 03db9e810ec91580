"""What keeps quirktape fast and bounded on large and hostile input, tested for what it gives, never for
how long it takes (``bench/run.py`` prints the figures): the event-by-event YAML reader and writer
(same values and bytes as PyYAML's, stock vcrpy still replays the files, aliases and over-long lists
refused in one line), lazily made rechunk pieces, streamed replay, request matching through an index
(same choices as comparing every interaction), the proxy's recording off the event loop, and the
command line importing no server library for commands that serve nothing."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from array import array

import httpx
import pytest
import yaml
from helpers import cassette_paths
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.replay import ReplayTransport, rechunk, replay, stream_events
from recorder.replay.asgi import bind, running
from recorder.replay.serve import serve_app
from recorder.tape import CassetteError, Tape, cassette_from_report, dumps, load, parse_cassette, yamlio
from recorder.tape.cassette import _Dumper, loads, to_data

BOMB_HEAD = """version: 1
interactions:
- request: {method: POST, uri: 'http://127.0.0.1/v1/chat/completions', body: '', headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {content-type: [text/event-stream]}
    body: {string: "data: [DONE]\\n\\n"}
    quirktape: {dialect: openai}
metadata:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
"""
BOMB = (
    BOMB_HEAD
    + "".join(f"  {b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))
    + "  expect: {content: [{type: text, text: *i}]}\n"
)


def cassette_with(body: str | bytes, offsets: list[int] | None = None, **tape) -> dict:
    return {
        "version": 1,
        "interactions": [
            {
                "request": {"method": "POST", "uri": "http://127.0.0.1:9/v1/chat/completions", "body": ""},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"content-type": ["text/event-stream"]},
                    "body": {"string": body},
                    "quirktape": {"dialect": "openai", "offsets": offsets, **tape},
                },
            }
        ],
    }


def sse_body(chunks: int, text: str = "tok") -> str:
    line = 'data: {{"choices":[{{"index":0,"delta":{{"content":"{} {}"}}}}]}}\n\n'
    return "".join(line.format(text, i) for i in range(chunks)) + "data: [DONE]\n\n"


# --- the YAML reader and writer ----------------------------------------------------------------


@pytest.mark.parametrize("path", cassette_paths()[::7], ids=lambda p: p.name)
def test_the_writer_gives_pyyaml_s_bytes_and_the_reader_its_values(path):
    data = to_data(load(path))
    want = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=False, width=100000)
    assert yamlio.write(data) == want
    text = path.read_text()
    assert yamlio.read(text) == yaml.safe_load(text)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.sampled_from(["yes", "~", "null", "0x1F", "010", "1_000", "2024-01-01", "1e5", ".inf", "<<", "- a", "a: b"]),
)
_data = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
)


@settings(max_examples=400)
@given(st.dictionaries(st.text(max_size=8), _data, max_size=5))
def test_written_text_reads_back_as_pyyaml_reads_it(data):
    """Same values; the same bytes too, but for a few layouts libyaml chooses differently (an empty key
    as ``'': x`` where PyYAML writes ``? ''``): the bundled library is byte-identical (test above)."""
    text = yamlio.write(data)
    theirs = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=False, width=100000)
    assert yamlio.read(text) == yaml.safe_load(text) == yaml.safe_load(theirs)
    assert text.isascii()


_line = st.from_regex(r"[ab:#|'\"-]([ab :#|'\"-]{0,10}[ab:#|'\"-])?", fullmatch=True)  # kept as it is
_odd_line = st.text(alphabet="ab \t\u00e9\r", max_size=6)  # a text with one is left to libyaml


@settings(max_examples=600)
@given(
    _line,
    st.lists(_line | st.just(""), max_size=5),
    st.sampled_from([None, None, None, _odd_line]).flatmap(lambda odd: st.just([]) if odd is None else odd.map(list)),
    st.sampled_from([0, 1, 1, 2, 2, 3]),
    st.sampled_from(["top", "listed", "nested", "last"]),
)
def test_long_texts_written_in_slices_are_libyaml_s_bytes(first, lines, odd, breaks, where):
    """A long literal block is written by quirktape in slices (``yamlio.DIRECT``), with the bytes libyaml
    writes: the same for every text, whatever it holds, however it ends and wherever it sits."""
    text = "\n".join([first, *lines, *odd]) + "\n" * breaks
    placed = {
        "top": {"a": text, "b": 1},
        "listed": {"k": [text, {"x": text}]},
        "nested": {"interactions": [{"response": {"body": {"string": text}, "z": [1, 2]}}]},
        "last": {"k": {"j": text}},
    }[where]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yamlio, "DIRECT", 1)
        patch.setattr(yamlio._Tail, "_SLICE", 5)  # several slices per text
        sliced = yamlio.write(placed)
    assert sliced == yamlio.write(placed)
    assert yaml.safe_load(sliced) == placed


def test_the_library_written_in_slices_is_the_same_bytes(monkeypatch):
    paths = cassette_paths()
    wanted = [yamlio.write(to_data(load(path))) for path in paths]
    monkeypatch.setattr(yamlio, "DIRECT", 1)
    sliced = [yamlio.write(to_data(load(path))) for path in paths]
    assert sliced == wanted


def test_a_long_body_is_written_without_libyaml_holding_it(monkeypatch):
    """libyaml is handed a stand-in, never the long text (it would hold two more copies of it)."""
    body = sse_body(30_000)
    assert len(body) >= yamlio.DIRECT
    handed: list[int] = []
    real = yamlio.ScalarEvent

    def noting(*args, **kwargs):
        event = real(*args, **kwargs)
        handed.append(len(event.value))
        return event

    monkeypatch.setattr(yamlio, "ScalarEvent", noting)
    text = yamlio.write(cassette_with(body))
    assert max(handed) < 100 and yaml.safe_load(text)["interactions"][0]["response"]["body"]["string"] == body
    monkeypatch.setattr(yamlio, "DIRECT", 1 << 40)  # libyaml writes it whole: the same bytes
    assert yamlio.write(cassette_with(body)) == text and max(handed) >= len(body)


def test_a_large_cassette_stays_loadable_by_stock_vcrpy(tmp_path):
    vcr = pytest.importorskip("vcr")
    bodies = {
        "block": sse_body(20_000),  # a literal block, long enough to be written in slices
        "escaped": sse_body(2_000, "h\u00e9llo \u4f60\u597d\r").replace("\n\n", "\r\n\r\n"),  # double-quoted
        "binary": sse_body(2_000).encode() + b"\xff\xfe",  # !!binary
    }
    for name, body in bodies.items():
        raw = body.encode() if isinstance(body, str) else body
        assert name != "block" or len(body) >= yamlio.DIRECT
        offsets = list(range(0, len(raw), 97))
        path = tmp_path / f"{name}.yaml"
        path.write_text(dumps(parse_cassette(cassette_with(body, offsets))), encoding="utf-8")
        assert path.read_bytes().isascii()
        with vcr.VCR(record_mode="none").use_cassette(str(path)):
            with httpx.Client() as client:
                reply = client.post("http://127.0.0.1:9/v1/chat/completions", content=b"")
        assert reply.content == raw, name
        back = load(path).interactions[0].response
        assert back.raw == raw and list(back.quirktape.offsets) == offsets


def test_an_alias_bomb_is_refused_in_one_line_at_once(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert len(BOMB) < 1500
    for read in (lambda: load(path), lambda: loads(BOMB, "bomb.yaml")):
        start = time.monotonic()
        with pytest.raises(CassetteError) as caught:
            read()
        assert time.monotonic() - start < 5
        message = str(caught.value)
        assert "\n" not in message and "alias" in message and "metadata.b" in message


def test_a_report_holding_an_alias_bomb_is_refused():
    report = f"<!-- quirktape-report v1 -->\n\n```yaml\n{BOMB}```\n"
    with pytest.raises(CassetteError, match="alias"):
        cassette_from_report(report)


def test_imported_recordings_follow_aliases_within_a_bound(tmp_path):
    from recorder.capture import import_file

    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    with pytest.raises(CassetteError, match="expands the document past"):
        import_file(path)
    shared = yamlio.read("a: &x [1, 2]\nb: *x\nc: {k: *x}", aliases=100)
    assert shared == {"a": [1, 2], "b": [1, 2], "c": {"k": [1, 2]}}
    with pytest.raises(yaml.YAMLError):
        yamlio.read("a: &x [1, *x]", aliases=100)  # an alias inside its own anchor: undefined, not a cycle


def test_the_plugin_reports_an_alias_bomb_as_one_line(tmp_path):
    from recorder.plugin import _read

    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    found = _read(path, "bomb.yaml")
    assert isinstance(found, CassetteError) and "alias" in str(found) and "\n" not in str(found)


def test_a_list_past_the_limit_is_refused_naming_where(monkeypatch):
    monkeypatch.setattr(yamlio, "MAX_ITEMS", 1000)
    text = yamlio.write(cassette_with(sse_body(200), list(range(0, 5000, 2))))
    with pytest.raises(CassetteError) as caught:
        loads(text, "big.yaml")
    message = str(caught.value)
    assert "interactions.0.response.quirktape.offsets" in message and "1,000" in message and "\n" not in message


def test_a_cassette_s_reads_are_read_as_arrays(monkeypatch):
    monkeypatch.setattr(yamlio, "_PACK", 5)  # entries move into the array in several batches
    body = sse_body(40)
    offsets = [0, *(i + 2 for i in range(len(body) - 2) if body[i : i + 2] == "\n\n")][:-1]
    times = [round(n * 1.5, 3) for n in range(len(offsets) - 1)] + [len(offsets)]  # an int among floats
    data = cassette_with(body, offsets, t_ms=times)
    data["interactions"][0]["response"]["quirktape"]["metadata"] = {"offsets": [1, 2], "t_ms": [3.5]}
    text = yamlio.write(data)
    tape = loads(text).interactions[0].response.quirktape
    assert type(tape.offsets) is array and tape.offsets.typecode == "q" and list(tape.offsets) == offsets
    assert type(tape.t_ms) is array and tape.t_ms.typecode == "d" and list(tape.t_ms) == [float(t) for t in times]
    assert loads(text).metadata.model_extra == {"offsets": [1, 2], "t_ms": [3.5]}  # only the tape's lists
    assert json.loads(Tape(offsets=[0, 4], t_ms=[1, 2]).model_dump_json())["offsets"] == [0, 4]


@pytest.mark.parametrize(
    "entries",
    [
        [*range(12), "x", 13],  # a text after two batches
        [*range(12), True],  # a boolean is not a number here
        [*range(3), 1.5, 7],  # a float in a list of ints
        [*range(9), 2**70],  # too large for the array
        [0, None],
    ],
)
def test_a_list_that_is_not_all_numbers_reads_as_the_list_it_is(monkeypatch, entries):
    monkeypatch.setattr(yamlio, "_PACK", 4)
    text = yaml.safe_dump({"quirktape": {"offsets": entries}})
    assert yamlio.read(text, arrays={("quirktape", "offsets"): "q"}) == yaml.safe_load(text)


def test_offsets_that_are_not_read_offsets_are_one_line_errors():
    body = sse_body(3)
    for offsets, problem in (([0, 2**70], "out of range"), ([0, "a"], "valid integer"), ([0, 1.5], "valid integer")):
        with pytest.raises(CassetteError, match=problem) as caught:
            loads(yamlio.write(cassette_with(body, offsets)))
        assert "quirktape.offsets" in str(caught.value) and "\n" not in str(caught.value)


def test_the_list_limit_holds_across_batches(monkeypatch):
    monkeypatch.setattr(yamlio, "MAX_ITEMS", 1000)
    monkeypatch.setattr(yamlio, "_PACK", 64)
    fits = yamlio.write(cassette_with(sse_body(600), list(range(0, 2000, 2))))
    assert len(loads(fits).interactions[0].response.quirktape.offsets) == 1000
    over = yamlio.write(cassette_with(sse_body(600), list(range(0, 2002, 2))))
    with pytest.raises(CassetteError, match="more than 1,000 entries"):
        loads(over)


def test_loading_holds_the_body_and_eight_bytes_a_read(tmp_path):
    """A million-read session is loaded in flat memory: a list of Python ints (and pydantic's copy of
    it) took 72 bytes a read; an array takes 8. The body is held once, not once more as bytes."""
    reads = 100_000
    body = 'data: {"choices":[{"index":0,"delta":{"content":"t"}}]}\n\n' * reads + "data: [DONE]\n\n"
    path = tmp_path / "long.yaml"
    path.write_text(yamlio.write(cassette_with(body, list(range(0, len(body) - 14, 57)))))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        loaded = load(path)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert len(loaded.interactions[0].response.quirktape.offsets) == reads
    assert peak < len(body) + 16 * reads + (1 << 20), f"{peak:,} bytes for {len(body):,} of body"


def test_memory_error_while_loading_is_one_line(monkeypatch, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yamlio.write(cassette_with(sse_body(3))))

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(yamlio, "read", exhausted)
    with pytest.raises(CassetteError, match="too large to read into memory"):
        load(path)


# --- rechunk and replay ------------------------------------------------------------------------


def old_rechunk(body: bytes, strategy: str, offsets: list[int] | None = None) -> list[bytes]:
    """``rechunk`` as it was: every cut made up front, every piece made at once."""
    if strategy == "recorded":
        cuts = list(offsets or [0])
    elif strategy == "bytes":
        cuts = list(range(len(body)))
    elif strategy == "lines":
        cuts = [0] + [i + 1 for i, byte in enumerate(body) if byte == 0x0A and i + 1 < len(body)]
    else:
        rng = random.Random(int(strategy.split(":", 1)[1]))
        cuts, pos = [0], 0
        while True:
            pos += rng.randint(1, 48)
            if pos >= len(body):
                break
            cuts.append(pos)
    if not body:
        return []
    return [body[a:b] for a, b in zip(cuts, cuts[1:] + [len(body)])]


@settings(max_examples=300)
@given(st.binary(max_size=300), st.sampled_from(["bytes", "lines", "random:1", "random:9", "recorded"]))
def test_pieces_are_the_ones_rechunk_made(body, strategy):
    offsets = sorted({0, *range(0, len(body), 7)}) if body else None
    pieces = rechunk(body, strategy, offsets)
    want = old_rechunk(body, strategy, offsets)
    assert list(pieces) == want and pieces == want and len(pieces) == len(want)
    assert [pieces[i] for i in range(len(want))] == want and pieces[-1:] == want[-1:]
    text = body.decode("latin-1")  # rechunk also cuts the cassette's text itself: ASCII as is, else its UTF-8
    want = old_rechunk(text.encode("utf-8"), strategy, offsets if text.isascii() else None)
    got = rechunk(text, strategy, offsets if text.isascii() else None)
    assert list(got) == want and len(got) == len(want) and [got[i] for i in range(len(want))] == want


def test_bytes_pieces_are_made_as_they_are_read():
    body = b"x" * 50_000_000
    pieces = rechunk(body, "bytes")
    assert len(pieces) == len(body) and isinstance(pieces.cuts, range)  # nothing per byte was made
    assert next(iter(pieces)) == b"x"


@pytest.mark.parametrize("path", cassette_paths()[::11], ids=lambda p: p.name)
@pytest.mark.parametrize("strategy", ["recorded", "bytes", "random:3"])
def test_streamed_events_are_replay_s_events(path, strategy):
    cassette = load(path)
    for index in range(len(cassette.interactions)):
        assert list(stream_events(cassette, index, strategy)) == replay(cassette, index, strategy).events


# --- request matching through the index --------------------------------------------------------


class LinearTransport(ReplayTransport):
    """Every interaction compared with every request: what matching did before it had an index."""

    def _find(self, live):
        matching = [rec for rec in self._recorded if all(test(live, rec) for test in self._criteria)]
        first = next((rec for rec in matching if rec.index not in self._used), None)
        return first, matching[-1] if matching else None


_METHODS = st.sampled_from(["POST", "GET"])
_URIS = st.sampled_from(
    [
        "http://127.0.0.1:8000/v1/chat/completions",
        "http://127.0.0.1:8000/v1/chat/completions?x=1",
        "https://api.example.com/v1/chat/completions",
        "http://127.0.0.1/v1/other",  # a placeholder address: any URL
        "http://127.0.0.1:8000/v1/other",
    ]
)
_BODIES = st.one_of(
    st.just(""),
    st.just("not json"),
    st.builds(
        lambda model, stream, n, extra: json.dumps(
            {"model": model, "stream": stream, "messages": [{"role": "user", "content": str(n)}], **extra}
        ),
        st.sampled_from(["m", "n"]),
        st.sampled_from([True, False, 1, 0, None]),
        st.integers(0, 2),
        st.sampled_from([{}, {"temperature": 0.5}, {"max_tokens": 1.0}]),
    ),
)
_MATCHES = st.sampled_from(
    [
        ("method", "path", "body"),
        ("method", "path"),
        ("path", "query", "host", "scheme"),
        ("method", "body:model"),
        ("raw_body",),
        ("method", "path", lambda request, interaction: "?" not in interaction.request.uri),
        (),
    ]
)


@settings(max_examples=300)
@given(
    st.lists(st.tuples(_METHODS, _URIS, _BODIES), min_size=1, max_size=8),
    st.lists(st.tuples(_METHODS, _URIS, _BODIES), min_size=1, max_size=10),
    _MATCHES,
    st.booleans(),
)
def test_the_index_chooses_what_comparing_everything_chose(recorded, requests, match, repeats):
    data = {
        "version": 1,
        "interactions": [
            {
                "request": {"method": method, "uri": uri, "body": body, "headers": {}},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {},
                    "body": {"string": f"data: {i}\n\n"},
                    "quirktape": {"dialect": "openai"},
                },
            }
            for i, (method, uri, body) in enumerate(recorded)
        ],
    }
    cassette = parse_cassette(data)
    fast = ReplayTransport(cassette, match=match, allow_repeats=repeats)
    slow = LinearTransport(cassette, match=match, allow_repeats=repeats)
    with httpx.Client(transport=fast) as a, httpx.Client(transport=slow) as b:
        for method, uri, body in requests:
            got = a.request(method, uri, content=body.encode())
            want = b.request(method, uri, content=body.encode())
            assert (got.status_code, got.content) == (want.status_code, want.content)
    assert fast.calls == slow.calls


def test_matching_among_many_interactions_uses_each_once_in_order():
    count = 5_000
    data = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": "http://127.0.0.1:8000/v1/chat/completions",
                    "body": json.dumps({"model": "m", "messages": [{"role": "user", "content": str(i % 50)}]}),
                    "headers": {},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {},
                    "body": {"string": f"data: {i}\n\n"},
                    "quirktape": {"dialect": "openai"},
                },
            }
            for i in range(count)
        ],
    }
    transport = ReplayTransport(parse_cassette(data), allow_repeats=False)
    with httpx.Client(transport=transport, base_url="http://127.0.0.1:8000") as client:
        for i in range(count):
            body = {"model": "m", "messages": [{"role": "user", "content": str(i % 50)}]}
            assert client.post("/v1/chat/completions", json=body).content == f"data: {i}\n\n".encode()
        assert client.post("/v1/chat/completions", json=body).status_code == 404
    assert transport.unused == []


# --- the proxy, the servers' sockets, the command line's imports -------------------------------


def test_servers_listen_on_sockets_that_turn_nagle_off():
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP  # asyncio sets TCP_NODELAY only on such sockets
    finally:
        sock.close()


def test_the_proxy_records_off_the_event_loop(tmp_path, monkeypatch):
    """A recording that takes long holds up no other exchange: the next one's first byte comes at once."""
    from recorder.capture import proxy as proxy_module

    record = proxy_module._record
    recording = threading.Event()

    def slow(exchange):
        recording.set()
        time.sleep(2.0)
        return record(exchange)

    monkeypatch.setattr(proxy_module, "_record", slow)
    upstream_cassette = parse_cassette(cassette_with(sse_body(3)))
    with running(serve_app(upstream_cassette)) as upstream, running(proxy_module.proxy_app(upstream, tmp_path)) as url:
        first = threading.Thread(target=lambda: httpx.post(url + "/v1/chat/completions", content=b"", timeout=30))
        first.start()
        assert recording.wait(10)
        start = time.monotonic()
        with httpx.Client(timeout=30) as client:
            with client.stream("POST", url + "/v1/chat/completions", content=b"") as reply:
                pieces = reply.iter_raw()
                next(pieces)
                waited = time.monotonic() - start
                b"".join(pieces)
        first.join()
    assert waited < 1.0  # the loop was free while the first exchange was being written
    assert len(list(tmp_path.glob("*.yaml"))) == 2


def test_commands_that_serve_nothing_import_no_server_library():
    code = (
        "import sys, recorder.cli; "
        "print(sorted(m for m in ('httpx', 'starlette', 'uvicorn', 'recorder.judge.gauntlet') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
