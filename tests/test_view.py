"""``quirktape view``: a cassette's picture shows each finding where it happened, loads nothing, runs nothing
from the cassette, and is drawn as intended by a real browser (headless Chromium, when installed)."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from broken_translators import drop_second_tool, text_as_json_deltas
from helpers import CASSETTES, cassette_paths, chunk, run_cli, sse

from recorder.judge import Location, check_cassette, report, timeline, view
from recorder.replay import replay
from recorder.tape import Cassette, load, parse_cassette
from translator import translate_stream

view_module = importlib.import_module("recorder.judge.view")  # the module: ``view`` is its function
PARALLEL = CASSETTES / "mlx-lm" / "report-parallel-tool-calls-one-delta.yaml"  # 8 reads, no t_ms
TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"
STALL = CASSETTES / "deepseek" / "fin-05-stall-mid-reasoning-timeout.yaml"  # 5 timed reads, ending timeout

FINDING_RGB = (209, 36, 47)  # --finding in the page's CSS
READ_RGB = (87, 96, 106)  # --read


def cut_as_success(pieces, dialect, **kw):
    """A gateway that turns a cut upstream into a clean end: the error event becomes message_delta + message_stop."""
    events, ir = translate_stream(pieces, dialect, **kw)
    if events and events[-1].get("type") == "error":
        done = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {}}
        events = [*events[:-1], done, {"type": "message_stop"}]
    return events, ir


def _findings(cassette: Cassette, translate) -> dict[str, list]:
    found: dict[str, list] = {}
    for check in check_cassette(cassette, translate):
        for finding in check.findings:
            found.setdefault(finding.kind, []).append(finding)
    return found


# -- the oracle says where --------------------------------------------------------------------


def test_a_lost_call_is_placed_at_the_read_that_brought_it():
    lost = _findings(load(PARALLEL), drop_second_tool)["call_lost"]
    # the streamed twin: both calls arrive in payload 5, read 5; the complete twin is one read
    assert [f.at for f in lost] == [Location(0, read=5, payload=5), Location(1, read=0, payload=0)]
    assert lost[0].as_json() == {
        "category": "data",
        "kind": "call_lost",
        "detail": "interaction 0: 2 upstream tool call(s) but 1 tool_use block(s)",
        "warn": False,
        "at": {"interaction": 0, "read": 5, "payload": 5},
    }


def test_lost_text_is_placed_at_its_first_character_and_grammar_at_its_event():
    found = _findings(load(TEXT), text_as_json_deltas)
    assert found["text_lost"][0].at == Location(0, read=1, payload=1)  # payload 0 is the role chunk
    grammar = found["grammar"][0]
    assert grammar.detail.startswith("interaction 0: event 2 ") and grammar.at.event == 2
    assert grammar.at.read is None  # a foreign translator's events do not come payload by payload


def test_a_cut_turned_into_success_is_placed_at_the_ending():
    cassette = load(STALL)
    (cut,) = _findings(cassette, cut_as_success)["cut_as_success"]
    events = replay(cassette, translate=cut_as_success).events
    assert cut.at == Location(0, event=len(events) - 1, ending=True)
    assert cut.as_json()["at"] == {"interaction": 0, "event": len(events) - 1, "ending": True}


def test_a_finding_about_the_whole_interaction_keeps_its_json_as_it_was():
    (expect, *_) = _findings(load(PARALLEL), drop_second_tool)["expect"]
    assert expect.at == Location(0) and not expect.at.placed
    assert list(expect.as_json()) == ["category", "kind", "detail", "warn"]


@pytest.mark.parametrize("path", cassette_paths(), ids=lambda p: str(p.relative_to(CASSETTES)))
def test_the_timeline_is_the_replay_read_by_read(path):
    """Every event is caused by exactly one payload or by the body's end, in order, and nothing differs from replay."""
    cassette = load(path)
    for i in range(len(cassette.interactions)):
        line, run = timeline(cassette, i), replay(cassette, i)
        assert line.events == run.events and line.ir == run.ir
        spans = sorted((p.events for p in line.payloads if p.events), key=lambda r: r.start) + [line.closing]
        assert [e for span in spans for e in span] == list(range(len(line.events)))
        reads = [p.read for p in line.payloads]
        assert reads == sorted(reads) and all(0 <= r < max(len(line.reads), 1) for r in reads)


# -- the page -----------------------------------------------------------------------------------


def _row(page: str, anchor: str) -> str:
    """The markup of one read's row (rows are not nested: each ends where the next begins)."""
    start = page.index(f'<div id="{anchor}" class="row')
    following = page.find('<div id="i', start + 1)
    return page[start : following if following > 0 else len(page)]


def test_the_page_marks_the_lost_call_on_its_read_and_lists_it():
    page = view(load(PARALLEL), drop_second_tool)
    row = _row(page, "i0-r5")
    assert 'class="row read hit"' in row and 'data-kind="call_lost"' in row
    assert 'data-kind="call_lost"' not in _row(page, "i0-r4")
    assert '<a href="#i0-r5">interaction 0, read 5</a>' in page
    assert page.count('<section class="interaction"') == 2


def test_the_expect_finding_is_placed_where_the_reference_opened_its_block():
    """``block 2 … got nothing``: the second call's block, opened by payload 5 (read 5) in the reference;
    in the complete twin, its one read. The oracle's own Location is left whole-interaction."""
    page = view(load(PARALLEL), drop_second_tool)
    assert 'data-kind="expect"' in _row(page, "i0-r5") and 'data-kind="expect"' in _row(page, "i1-r0")
    assert 'id="unplaced"' not in page  # nothing is left "not tied to one read"
    placed = page.split('id="placed"')[1].split("</ul>")[0]
    assert '<a href="#i0-r5">interaction 0, read 5</a>: interaction 0: block 2: expected' in placed
    data = json.loads(page.split('class="axis-data">')[1].split("</script>")[0])
    assert data["findings"] == {"5": ["call_lost", "expect"]}
    (expect, *_) = _findings(load(PARALLEL), drop_second_tool)["expect"]
    assert not expect.at.placed  # view placed a copy


def test_a_stop_reason_expectation_stays_unplaced():
    cassette = load(PARALLEL)
    cassette.metadata.expect.stop_reason = "end_turn"
    page = view(cassette)
    assert "stop_reason expected &#x27;end_turn&#x27;" in page.split('id="unplaced"')[1].split("</ul>")[0]


def test_the_page_marks_a_cut_at_the_ending():
    page = view(load(STALL), cut_as_success)
    assert 'data-kind="cut_as_success"' in _row(page, "i0-end") and 'class="row ending hit"' in page


def test_a_cassette_without_findings_says_so():
    page = view(load(STALL))
    assert 'id="no-findings"' in page and "Passes every invariant" in page
    assert 'id="no-findings"' not in view(load(STALL), cut_as_success)


def test_the_page_says_whether_reads_are_timed():
    assert "Reads on the recorded time axis" in view(load(STALL))
    untimed = view(load(PARALLEL))
    assert "No recorded times (no <code>t_ms</code>): the reads are spaced by their order" in untimed
    assert "No recorded read boundaries" in untimed  # its complete twin is one read


def test_one_interaction_only():
    page = view(load(PARALLEL), drop_second_tool, interaction=1)
    assert page.count('<section class="interaction"') == 1 and 'id="i1"' in page
    assert "#i0-r5" not in page  # the other interaction's findings are not listed


# -- the translator under test, beside the reference ------------------------------------------------


def _aligned(page: str, anchor: str) -> list[tuple[str, int | None, int | None]]:
    """The aligned events drawn in one row: (how, the reference's event, the translator under test's)."""
    lines = re.findall(
        r'<li class="\w+" data-align="(\w+)"(?: data-ref="(\d+)")?(?: data-got="(\d+)")?>', _row(page, anchor)
    )
    return [(how, int(w) if w else None, int(g) if g else None) for how, w, g in lines]


def test_the_translator_under_test_is_drawn_beside_the_reference_and_the_lost_block_is_missing():
    page = view(load(PARALLEL), drop_second_tool, translator_name="broken_translators:drop_second_tool")
    assert "the translator under test (broken_translators:drop_second_tool)" in page
    assert "quirktape's translation (the reference)" in page
    for read in range(5):  # the text: every event both sent, each beside its twin
        assert all(how == "same" and w == g for how, w, g in _aligned(page, f"i0-r{read}"))
    five = _aligned(page, "i0-r5")  # the first call's block both sent; the second's, only the reference
    assert five == [*(("same", n, n) for n in range(7, 11)), ("missing", 11, None), ("missing", 12, None)]
    missing = _row(page, "i0-r5").split('data-ref="11">')[1].split("</li>")[0]
    assert 'id="i0-q11"' in missing and "content_block_start" in missing and "&quot;tool_use&quot;" in missing
    assert '<span class="tag missing">missing</span>' in missing and 'id="i0-t' not in missing
    assert _aligned(page, "i0-end") == [("missing", 13, None), ("same", 14, 11), ("same", 15, 12)]
    assert _aligned(page, "i1-r0")[-2:] == [("missing", 7, None), ("missing", 8, None)]  # the twin: one read
    assert 'data-align="extra"' not in page and 'data-align="differs"' not in page
    # every event of the translator under test is drawn once, and all of them in its order below
    assert sorted(int(g) for g in re.findall(r'id="i0-t(\d+)"', page)) == list(range(13))
    assert "All 13 events the translator under test sent, in its order" in page


def _with(extra_at):
    """quirktape's translation with a ping put in at ``extra_at(events)``, and fresh ids everywhere."""

    def translate(pieces, dialect, **kw):
        events, ir = translate_stream(pieces, dialect, **kw)
        out = []
        for event in events:
            if event.get("type") == "message_start":
                event = {**event, "message": {**event["message"], "id": "msg_someone_else"}}
            elif "id" in (event.get("content_block") or {}):
                event = {**event, "content_block": {**event["content_block"], "id": "toolu_someone_else"}}
            out.append(event)
        k = extra_at(out)
        return [*out[:k], {"type": "ping"}, *out[k:]], ir

    return translate


def test_extra_events_are_drawn_after_the_last_event_both_sent():
    cassette = load(PARALLEL)
    want = replay(cassette, 0).events
    got = replay(cassette, 0, translate=_with(lambda events: 3)).events  # after the first text delta
    assert view_module.align(want, got) == [
        *(("same", n, n) for n in range(3)),
        ("extra", None, 3),
        *(("same", n, n + 1) for n in range(3, len(want))),
    ]  # ids aside: other ids are the same events
    page = view(cassette, _with(lambda events: 3), interaction=0)
    assert _aligned(page, "i0-r0") == [("same", 0, 0), ("same", 1, 1), ("same", 2, 2), ("extra", None, 3)]
    assert '<span class="tag extra">extra</span>' in _row(page, "i0-r0")
    first = view(cassette, _with(lambda events: 0), interaction=0)  # before any: where the first one is
    assert _aligned(first, "i0-r0")[:2] == [("extra", None, 0), ("same", 0, 1)]
    last = view(cassette, _with(len), interaction=0)  # after the last: in the ending's row
    assert _aligned(last, "i0-end")[-1] == ("extra", None, 16)


def test_a_changed_event_differs_and_a_finding_at_it_is_placed_where_it_is_drawn():
    page = view(load(TEXT), text_as_json_deltas)
    assert _aligned(page, "i0-r1") == [("same", 1, 1), ("differs", 2, 2)]
    row = _row(page, "i0-r1")
    assert 'data-kind="grammar"' in row and 'class="ev got hit" id="i0-t2"' in row
    assert '<a href="#i0-r1">interaction 0, read 1, event 2 of the translator under test</a>' in page
    # the oracle placed it at an event only: a foreign translator's events do not come payload by payload
    assert _findings(load(TEXT), text_as_json_deltas)["grammar"][0].at.read is None


def test_without_a_translator_the_reference_is_the_translation_under_test():
    page = view(load(PARALLEL))
    drawn = page.split("</header>")[1].split("<footer>")[0]
    assert 'class="aligned"' not in drawn and 'class="trio"' not in drawn and "translator under test" not in drawn
    assert "<div>events (quirktape's translation)</div>" in page
    assert '<ol class="events"><li id="i0-q7">' in _row(page, "i0-r5") and '<li id="i0-q11">' in _row(page, "i0-r5")


def raises(pieces, dialect, **kw):
    raise RuntimeError("no <b>luck</b>")


def test_a_translator_that_raises_is_said_to_have_raised_not_to_fail_grammar():
    page = view(load(TEXT), raises)
    assert '<p class="verdict fail" id="raised">The translator under test raised an exception' in page
    assert "Fails grammar" not in page and "(grammar)" not in page
    assert "the translator raised RuntimeError: no &lt;b&gt;luck&lt;/b&gt; " in page
    assert '<span class="meta">(the translator raised)</span>' in page
    assert 'id="i0-raised"' in page and 'class="aligned"' not in page  # the reference is still drawn
    assert '<ol class="events"><li id="i0-q1">' in _row(page, "i0-r1")


def test_a_payload_is_parsed_as_its_facts_and_breaks_after_commas():
    page = view(load(PARALLEL))
    assert '<div class="facts mono">parsed as: text [&quot; two&quot;]</div>' in _row(page, "i0-r2")
    assert '<div class="facts mono">read:' not in page  # "read" is a network read, only
    assert "&quot;object&quot;:&quot;chat.completion.chunk&quot;,<wbr>&quot;created" in page
    assert "break-all" not in page


def test_view_help_says_it_draws_and_check_judges(monkeypatch, capsysbinary):
    code, stdout, _ = run_cli(monkeypatch, capsysbinary, "view", "--help")
    assert code == 0 and "it exits 0 when the page is written, whatever" in stdout
    assert "(check exits 1 when an invariant fails)" in stdout


def drop_w60(pieces, dialect, **kw):
    """A translator that loses one text delta in the middle of a long stream."""
    events, ir = translate_stream(pieces, dialect, **kw)
    return [e for e in events if (e.get("delta") or {}).get("text") != "w60 "], ir


def _long(reads: int) -> Cassette:
    """One text stream, one payload per read, ``reads`` reads."""
    frames = [sse(chunk({"content": f"w{n} "}), done=False).decode() for n in range(reads - 1)]
    frames.append(sse(chunk({}, finish="stop")).decode())
    offsets = [sum(len(f) for f in frames[:n]) for n in range(reads)]
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": ["text/event-stream"]},
        "body": {"string": "".join(frames)},
        "quirktape": {"dialect": "openai", "stream": True, "offsets": offsets, "ending": "done"},
    }
    request = {"method": "POST", "uri": "http://127.0.0.1:9/v1/chat/completions"}
    return parse_cassette({"version": 1, "interactions": [{"request": request, "response": response}]})


def test_a_long_stream_shows_its_ends_and_every_read_with_a_finding(monkeypatch):
    # the module, not the function ``recorder.judge.view`` that shadows its name
    monkeypatch.setattr(importlib.import_module("recorder.judge.view"), "ROW_LIMIT", 20)
    page = view(_long(120), drop_w60)
    rows = re.findall(r'<div id="i0-r(\d+)" class="row read', page)
    assert rows == [str(n) for n in [*range(10), 59, 60, 61, *range(110, 120)]]
    assert 'data-kind="text_lost"' in _row(page, "i0-r60") and page.count('class="row elided"') == 2
    data = page.split('class="axis-data">')[1].split("</script>")[0]
    assert len(json.loads(data)["bytes"]) == 120 and json.loads(data)["findings"] == {"60": ["text_lost"]}


HOSTILE = (
    "</script><script>document.body.appendChild(document.createElement('blink'))</script><img src=x onerror=alert(1)>"
)


def _hostile() -> Cassette:
    """A cassette carrying markup everywhere a page could show it: a payload, a non-JSON payload, an SSE event
    name, the URL, the title, the source."""
    body = (
        sse(chunk({"role": "assistant", "content": HOSTILE}), done=False).decode()
        + f"event: {HOSTILE.replace(' ', '_')}\ndata: {{}}\n\n"
        + f"data: {HOSTILE}\n\n"
        + sse(chunk({}, finish="stop")).decode()
    )
    return parse_cassette(
        {
            "version": 1,
            "interactions": [
                {
                    "request": {"method": "POST", "uri": f"http://127.0.0.1:9/v1/chat/completions?q={HOSTILE}"},
                    "response": {
                        "status": {"code": 200, "message": "OK"},
                        "headers": {"content-type": ["text/event-stream"]},
                        "body": {"string": body},
                        "quirktape": {"dialect": "openai", "stream": True, "offsets": [0, 7, 40], "ending": "done"},
                    },
                }
            ],
            "metadata": {"title": HOSTILE, "source": HOSTILE, "tags": [HOSTILE]},
        }
    )


def test_markup_from_the_cassette_is_text_on_the_page():
    page = view(_hostile())
    assert "<img" not in page and "<blink" not in page and "</script><script>" not in page
    assert page.count("<script") == 2  # the axis data and the page's own script
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # shown, as text


class _Resources(HTMLParser):
    """Every attribute value and every style/script text of a page, to find what it would load."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str]] = []
        self.code: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.attrs += [(tag, name, value or "") for name, value in attrs]
        self._in = tag if tag in ("style", "script") else None

    def handle_data(self, data):
        if self._in:
            self.code.append(data)

    def handle_endtag(self, tag):
        self._in = None


def test_the_page_loads_nothing_and_runs_only_its_own_script():
    page = view(_hostile())
    found = _Resources()
    found.feed(page)
    links = [(tag, name, value) for tag, name, value in found.attrs if name in ("src", "href", "action", "srcset")]
    assert all(value.startswith("#") for _, _, value in links), links
    assert all(name != "style" and not name.startswith("on") for _, name, _ in found.attrs)
    assert not any(re.search(r"https?:|url\(|@import", code) for code in found.code)
    assert "http://127.0.0.1:9/v1/chat/completions" in page  # URLs are there, as text
    policy = next(value for tag, name, value in found.attrs if name == "content" and "default-src" in value)
    assert policy.startswith("default-src 'none';")
    script = page.split("<script>")[1].split("</script>")[0]
    style = page.split("<style>")[1].split("</style>")[0]
    for text in (script, style):  # the browser runs them only if the page's policy names their hash
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_credentials_in_the_cassette_are_redacted_on_the_page():
    cassette = load(TEXT)
    key = "sk-" + "Q7x" * 16
    cassette.metadata.source = f"https://example.invalid/?api_key={key}"
    cassette.interactions[0].request.headers["authorization"] = [f"Bearer {key}"]
    page = view(cassette)
    assert key not in page and "REDACTED" in page


# -- the command line -----------------------------------------------------------------------------


def test_view_writes_the_page(tmp_path, monkeypatch, capsysbinary):
    out = tmp_path / "page.html"
    args = ("view", PARALLEL, "--translator", "broken_translators:drop_second_tool", "-o", out)
    code, stdout, err = run_cli(monkeypatch, capsysbinary, *args)
    assert code == 0 and stdout == "" and err == f"wrote {out}\n"
    assert 'data-kind="call_lost"' in out.read_text() and "broken_translators:drop_second_tool" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]  # written whole, no temporary left
    code, stdout, _ = run_cli(monkeypatch, capsysbinary, "view", STALL, "--interaction", "0", "-o", "-")
    assert code == 0 and stdout.startswith("<!doctype html>") and stdout.rstrip().endswith("</html>")


@pytest.mark.parametrize(
    "args, message",
    [
        (("missing.yaml", "-o", "p.html"), "missing.yaml: no such file"),
        (("notes.yaml", "-o", "p.html"), "notes.yaml: not a cassette"),
        ((str(STALL), "-o", str(STALL)), "is also an input"),
        ((str(STALL), "-o", "/dev/null"), "not a regular file"),
        ((str(STALL), "--interaction", "3", "-o", "p.html"), "interaction 3 does not exist"),
        ((str(STALL), "--translator", "nowhere:fn", "-o", "p.html"), "cannot load translator"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsysbinary, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.yaml").write_text("title: not a cassette\n")
    code, stdout, err = run_cli(monkeypatch, capsysbinary, "view", *args)
    assert code == 2 and stdout == "" and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "p.html").exists()


def test_report_writes_the_picture_beside_and_links_it(tmp_path, monkeypatch, capsysbinary):
    out, page = tmp_path / "bug.md", tmp_path / "pictures" / "bug.html"
    args = ("report", PARALLEL, "--translator", "broken_translators:drop_second_tool", "-o", out, "--html", page)
    code, _, err = run_cli(monkeypatch, capsysbinary, *args)
    assert code == 0 and err == f"wrote {page}\n"
    text = out.read_text()
    assert "- **Picture:** [pictures/bug.html](pictures/bug.html): the upstream reads" in text
    assert "quirktape view bug.yaml -o bug.html --translator broken_translators:drop_second_tool" in text
    assert 'data-kind="call_lost"' in page.read_text()
    code, _, err = run_cli(monkeypatch, capsysbinary, "report", PARALLEL, "-o", out, "--html", out)
    assert code == 2 and "--html needs a file of its own" in err
    assert "**Picture:**" not in report(load(PARALLEL))


# -- in a real browser ------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
browser = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (README: apt-get install -y chromium)"
)
WINDOW = (1200, 1400)


def _chromium(tmp_path: Path, page: Path, *what: str) -> str:
    """Run headless Chromium on a local file with the network features off; its stdout."""
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            *what,
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return done.stdout.decode("utf-8", "replace")


def _drawn(tmp_path: Path, html: str, name: str = "page.html") -> tuple[Path, str]:
    page = tmp_path / name
    page.write_text(html)
    return page, _chromium(tmp_path, page, "--dump-dom")


def _marks(dom: str, axis: str) -> list[dict[str, str]]:
    """The marks the page's script drew on one interaction's axis, with their attributes."""
    block = dom.split(f'id="{axis}-axis"')[1].split('<script type="application/json"')[0]
    return [dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(r'<a class="mark[^>]*>', block)]


@browser
def test_the_browser_draws_every_read_and_the_finding_on_its_read(tmp_path):
    _, dom = _drawn(tmp_path, view(load(PARALLEL), drop_second_tool))
    assert 'data-drawn="yes"' in dom  # the script ran (the policy let it)
    reads = [m for m in _marks(dom, "i0") if "read" in m["class"].split()]
    assert len(reads) == 8 and [m["data-read"] for m in reads] == [str(n) for n in range(8)]
    assert [m["data-read"] for m in reads if "finding" in m["class"].split()] == ["5"]
    assert reads[5]["data-color"] == "rgb(209, 36, 47)"  # FINDING_RGB, as getComputedStyle says it
    assert reads[4]["data-color"] == "rgb(87, 96, 106)"  # READ_RGB
    lefts = [float(m["style"].split("left:")[1].split("%")[0]) for m in reads]
    assert lefts == pytest.approx([n / 7 * 92 for n in range(8)], abs=1e-3)  # no t_ms: spaced by order
    (whole,) = [m for m in _marks(dom, "i1") if "read" in m["class"].split()]
    assert "finding" in whole["class"].split()


@browser
def test_the_browser_draws_the_lost_tool_use_block_as_missing_on_read_5(tmp_path):
    _, dom = _drawn(tmp_path, view(load(PARALLEL), drop_second_tool))
    assert 'data-drawn="yes"' in dom
    row = _row(dom, "i0-r5")
    parted = [dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(r"<li [^>]*data-align[^>]*>", row)]
    missing = [li for li in parted if li["data-align"] == "missing"]
    assert [li["data-ref"] for li in missing] == ["11", "12"] and all("data-got" not in li for li in missing)
    start = row.split('data-ref="11"')[1].split("</li>")[0]
    assert "content_block_start" in start and '"type": "tool_use"' in start and ">missing</span>" in start
    for li in missing:  # drawn: a box of its own, the tag in the finding's colour
        x, y, w, h = (int(v) for v in li["data-box"].split(","))
        assert w > 300 and h > 10 and li["data-color"] == f"rgb{FINDING_RGB}"
    # in read 5's row, below its callout, and above read 6's
    boxes = [int(li["data-box"].split(",")[1]) for li in missing]
    assert dom.index('id="i0-r5"') < dom.index('data-ref="11"') < dom.index('id="i0-r6"')
    assert boxes == sorted(boxes)
    assert 'data-align="missing"' not in _row(dom, "i0-r4") + _row(dom, "i0-r6")


@browser
def test_the_browser_places_timed_reads_by_time_and_marks_a_cut_ending(tmp_path):
    cassette = load(STALL)
    _, dom = _drawn(tmp_path, view(cassette, cut_as_success))
    times = cassette.interactions[0].response.quirktape.t_ms
    marks = _marks(dom, "i0")
    reads = [m for m in marks if "read" in m["class"].split()]
    lefts = [float(m["style"].split("left:")[1].split("%")[0]) for m in reads]
    assert lefts == pytest.approx([t / times[-1] * 92 for t in times], abs=1e-3)  # 0: the request, not read 0
    assert lefts[0] > 1  # the first read came some time after the request
    (end,) = [m for m in marks if "end" in m["class"].split()]
    assert {"cut", "finding"} <= set(end["class"].split()) and end["data-ending"] == "timeout"
    axis = dom.split('id="i0-axis"')[1].split('<script type="application/json"')[0]
    labels = re.findall(r'<span class="label[^"]*"[^>]*>([^<]*)</span>', axis)
    assert labels == ["0 ms: the request", f"last read: {times[-1]:g} ms", f"ending: timeout, after {times[-1]:g} ms"]


@browser
def test_the_browser_runs_nothing_from_a_hostile_cassette(tmp_path):
    _, dom = _drawn(tmp_path, view(_hostile()))
    assert 'data-drawn="yes"' in dom
    assert "<img" not in dom and "<blink" not in dom
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom


def _png_rows(data: bytes, last_row: int) -> tuple[int, int, list[bytes]]:
    """An 8-bit RGB(A) PNG, as Chromium writes screenshots, decoded down to ``last_row``: (width, bytes per pixel,
    rows). Stdlib only (zlib): Pillow is not a dependency."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, width, bpp = 8, [], 0, 0
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        pos += size + 12
        if kind == b"IHDR":
            width, _, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
    raw, stride = zlib.decompress(b"".join(chunks)), width * bpp
    rows, above = [], bytes(stride)
    for y in range(last_row + 1):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = above[i], above[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        above = line
    return width, bpp, rows


@browser
def test_the_screenshot_shows_the_finding_in_its_colour(tmp_path):
    page, dom = _drawn(tmp_path, view(load(PARALLEL), drop_second_tool))
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, page, f"--screenshot={shot}")
    reads = [m for m in _marks(dom, "i0") if "read" in m["class"].split()]
    boxes = {m["data-read"]: [int(v) for v in m["data-box"].split(",")] for m in reads}
    bottom = max(y + h for x, y, w, h in boxes.values())
    assert bottom < WINDOW[1], "the axis must be in the first screen"
    _, bpp, rows = _png_rows(shot.read_bytes(), bottom)

    def centre(read: str) -> tuple[int, ...]:
        x, y, w, h = boxes[read]
        at = (x + w // 2) * bpp
        return tuple(rows[y + h // 2][at : at + 3])

    assert centre("5") == FINDING_RGB
    assert centre("4") == READ_RGB
