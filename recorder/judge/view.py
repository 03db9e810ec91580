"""A picture of a cassette: one self-contained HTML page a person can open to see what happened.

Per interaction: the upstream reads on a time axis (recorded ``t_ms``; without them, spaced by
order, and the page says so), the payloads each read completed, the Anthropic events each payload
caused (quirktape's translation, fed read by read: ``oracle.timeline``), and the oracle's findings
drawn where they happened (``Finding.at``): the read that brought a lost call, the payload whose
content was held back, the ending a cut was turned into a success at. Findings with no place are
listed at the top; a cassette without findings says so.

A translator under test (``--translator``) is called once with every piece, so its events are tied
to no payload. They are aligned to quirktape's events (the reference) by content, ids and indexes
aside (``align``), and drawn beside them, payload by payload: the events both sent, the reference's
events it did not send (missing), and those only it sent (extra, after the last event both sent).
A finding at one of its events is placed where that event is drawn; an ``expect`` finding about
block N, at the payload that opened block N in the reference. The page draws; it does not judge
(``check`` exits 1 on a failing invariant).

The page is for attaching to a bug report and opening anywhere, so it loads nothing: CSS and
script are inline and allowed by their hashes only (``Content-Security-Policy``), every text from
the cassette is escaped (a cassette is hostile input), the data the script draws from is JSON with
``<``, ``>`` and ``&`` escaped, and the script writes text only through ``textContent`` and
attributes. The cassette is scrubbed of credentials before anything is drawn, and the page again
after, as ``report`` does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import replace
from difflib import SequenceMatcher
from html import escape

from translator import translate_stream
from translator.ir import KIND_NAMES, REASONING, REDACTED, SIGNATURE, TEXT, TOOL

from ..replay import TranslateFn, TranslatorFailed, pick, replay
from ..tape import Cassette, scrub_cassette, scrub_text
from .oracle import Check, Finding, Timeline, check_cassette, timeline

PAYLOAD_LIMIT = 2_000
"""Characters of one payload, or of one read's raw bytes, shown; ``quirktape replay`` has all of them."""
EVENT_LIMIT = 240
"""Characters of one event's JSON shown on its line."""
SAME_LIMIT = 3
"""Placed findings of one kind in one interaction listed at the top; the rest are counted (all are marked)."""
ROW_LIMIT = 400
"""Reads shown as rows per interaction; past it, the first and last ``ROW_LIMIT // 2`` and every read
with a finding (and its neighbours), the rest elided with a count. The axis shows every read."""
ALIGN_LIMIT = 20_000
"""Events, of both translations together, that ``align`` matches by content where they part; past it, where
they part they are paired in order (the common beginning and end are always matched)."""

_CONTENT_FACTS = frozenset({TEXT, REASONING, SIGNATURE, REDACTED, TOOL})
_CONTENT_EVENTS = frozenset({"content_block_start", "content_block_delta"})

CSS = """
:root { --finding: #d1242f; --held: #bf8700; --cut: #6639ba; --read: #57606a; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; color: #1f2328; margin: 0 auto; padding: 16px 24px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 24px 0 6px; }
h2 small, .meta { color: var(--read); font-weight: normal; font-size: 13px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { margin: 2px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.verdict { font-weight: 600; margin: 8px 0; } .verdict.fail { color: var(--finding); } .verdict.ok { color: #1a7f37; }
.findings { padding-left: 20px; margin: 4px 0; } .findings li { margin: 2px 0; }
.tag { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 12px; font-weight: 600; color: #fff;
  background: var(--finding); }
.tag.spec { background: #8250df; } .tag.policy, .tag.warn { background: var(--read); }
.tag.held { background: var(--held); }
.none { color: #1a7f37; font-weight: 600; }
.axis-note { color: var(--read); margin: 2px 0 0; font-size: 13px; }
.axis { position: relative; height: 90px; margin: 6px 0 2px; }
.axis .track { position: absolute; left: 0; right: 0; top: 52px; border-top: 2px solid var(--line); }
.axis .mark { position: absolute; bottom: 32px; width: 3px; margin-left: -1px; background: var(--read); }
.axis .mark.held { background: var(--held); width: 5px; margin-left: -2px; }
.axis .mark.finding { background: var(--finding); width: 7px; margin-left: -3px; }
.axis .mark.end { width: 4px; background: #1a7f37; } .axis .mark.end.cut { background: var(--cut); }
.axis .mark.end.finding { background: var(--finding); }
.axis .chip { position: absolute; top: 2px; transform: translateX(-50%); white-space: nowrap; font-size: 11px;
  font-weight: 600; color: var(--finding); }
.axis .label { position: absolute; top: 58px; font-size: 11px; color: var(--read); white-space: nowrap; }
.axis .label.ending { top: 73px; right: 0; font-weight: 600; } .axis .label.ending.cut { color: var(--cut); }
.legend { font-size: 12px; color: var(--read); margin-bottom: 6px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: -1px; }
.legend .l-read { background: var(--read); } .legend .l-held { background: var(--held); }
.legend .l-finding { background: var(--finding); } .legend .l-end { background: #1a7f37; }
.legend .l-cut { background: var(--cut); }
.row { display: grid; grid-template-columns: 9em 1fr; border-bottom: 1px solid var(--line); }
.row > div { padding: 4px 6px; min-width: 0; overflow-wrap: anywhere; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.pair > * { min-width: 0; }
.trio { display: grid; grid-template-columns: 2fr 3fr; gap: 10px; } .trio > * { min-width: 0; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; } .sides > * { min-width: 0; }
.row.head { font-size: 12px; font-weight: 600; color: var(--read); border-bottom: 2px solid var(--line); }
.where { color: var(--read); font-size: 12px; border-left: 4px solid transparent; }
.row.hit { background: #fff1f0; } .row.hit > .where { border-left-color: var(--finding); }
.row.held > .where { border-left-color: var(--held); }
.row.elided { display: block; text-align: center; color: var(--read); background: var(--soft); padding: 4px; }
.payload { border-left: 3px solid var(--line); padding-left: 6px; margin: 2px 0 6px; }
.payload.hit { border-left-color: var(--finding); } .payload.held { border-left-color: var(--held); }
.payload .facts { color: var(--read); }
.callout { border: 1px solid var(--finding); background: #ffebe9; border-radius: 4px; padding: 2px 6px;
  margin: 2px 0 4px; }
.callout.warn { border-color: var(--read); background: var(--soft); }
.events { list-style: none; padding: 0; margin: 0; }
.events li { padding: 1px 4px; border-radius: 3px; }
.events li.hit { background: #ffebe9; outline: 1px solid var(--finding); }
.events .n, .aligned .n { color: var(--read); display: inline-block; min-width: 2.5em; }
.events .t, .aligned .t { font-weight: 600; } .events .t.error, .aligned .t.error { color: var(--finding); }
.aligned { list-style: none; padding: 0; margin: 0; }
.aligned > li { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; padding: 1px 4px; border-radius: 3px; }
.aligned > li > div { min-width: 0; } .aligned .ev.hit { background: #ffebe9; outline: 1px solid var(--finding); }
.aligned > li.missing { background: #ffebe9; } .aligned > li.extra, .aligned > li.differs { background: #fff8c5; }
.aligned > li.missing .ref { color: var(--finding); }
.tag.missing { background: var(--finding); } .tag.extra, .tag.differs { background: var(--held); }
.note { color: var(--read); font-size: 12px; margin: 2px 0 6px; }
details.raw summary { color: var(--read); font-size: 12px; cursor: pointer; }
.empty { color: var(--read); font-style: italic; }
footer { margin-top: 24px; color: var(--read); font-size: 12px; }
"""

JS = """
(function () {
  "use strict";
  function el(tag, cls) { var e = document.createElement(tag); if (cls) { e.className = cls; } return e; }
  var sections = document.querySelectorAll("section.interaction");
  for (var s = 0; s < sections.length; s++) {
    var section = sections[s];
    var data = JSON.parse(section.querySelector("script.axis-data").textContent);
    var axis = section.querySelector(".axis");
    axis.appendChild(el("div", "track"));
    var n = data.bytes.length, times = data.t, held = {}, biggest = 1;
    var last = times && n ? times[n - 1] : 0;  // a timed axis starts at the request: 0 ms
    for (var i = 0; i < n; i++) { biggest = Math.max(biggest, data.bytes[i]); }
    for (var h = 0; h < data.held.length; h++) { held[data.held[h]] = true; }
    function place(i) {
      if (times) { return last > 0 ? Math.max(times[i], 0) / last * 92 : 0; }
      return n > 1 ? i / (n - 1) * 92 : 0;
    }
    function mark(cls, left, height, href, title, kinds) {
      var m = el("a", "mark " + cls);
      m.style.left = left + "%";
      m.style.height = height + "px";
      m.setAttribute("href", href);
      m.setAttribute("title", title);
      axis.appendChild(m);
      if (kinds.length) {
        var chip = el("span", "chip");
        chip.textContent = kinds.join(", ");
        chip.style.left = left + "%";
        chip.style.transform = left < 5 ? "none" : left > 90 ? "translateX(-100%)" : "translateX(-50%)";
        axis.appendChild(chip);
      }
      return m;
    }
    for (var r = 0; r < n; r++) {
      var kinds = data.findings[r] || [], size = data.bytes[r];
      var cls = "read" + (kinds.length ? " finding" : held[r] ? " held" : "");
      var title = "read " + r + (times ? ", " + times[r] + " ms" : "") + ", " + size + " bytes";
      title += (held[r] ? ", content held back" : "") + (kinds.length ? ": " + kinds.join(", ") : "");
      var height = kinds.length ? 30 : 8 + 14 * Math.sqrt(size / biggest);
      var m = mark(cls, place(r), height, "#" + data.id + "-r" + r, title, kinds);
      m.setAttribute("data-read", String(r));
    }
    var end = mark("end" + (data.cut ? " cut" : "") + (data.endFindings.length ? " finding" : ""), 97, 22,
                   "#" + data.id + "-end", "ending: " + data.ending, data.endFindings);
    end.setAttribute("data-ending", data.ending);
    var left = el("span", "label"), right = el("span", "label"), ending = el("span", "label ending");
    left.textContent = times ? "0 ms: the request" : "read 0";
    right.textContent = times ? "last read: " + last + " ms" : "read " + (n - 1);
    left.style.left = "0";
    right.style.left = "92%";
    right.style.transform = "translateX(-100%)";
    axis.appendChild(left);
    if (n > 1 || (times && n)) { axis.appendChild(right); }
    // the ending's own time is not recorded: it came after the last read
    ending.textContent = "ending: " + data.ending + (times && n ? ", after " + last + " ms" : "");
    if (data.cut) { ending.className += " cut"; }
    axis.appendChild(ending);
    // what was drawn, as the page shows it: a test (or a person) reads it from the DOM
    var marks = axis.querySelectorAll(".mark");
    for (var k = 0; k < marks.length; k++) {
      var box = marks[k].getBoundingClientRect();
      marks[k].setAttribute("data-color", getComputedStyle(marks[k]).backgroundColor);
      var at = [box.left + scrollX, box.top + scrollY, box.width, box.height];
      marks[k].setAttribute("data-box", at.map(Math.round).join(","));
    }
    axis.setAttribute("data-drawn", String(n));
  }
  // where the translator under test parts from the reference, as drawn
  var parted = document.querySelectorAll(".aligned > li.missing, .aligned > li.extra, .aligned > li.differs");
  for (var p = 0; p < parted.length; p++) {
    var tag = parted[p].querySelector(".tag"), rect = parted[p].getBoundingClientRect();
    var spot = [rect.left + scrollX, rect.top + scrollY, rect.width, rect.height];
    parted[p].setAttribute("data-box", spot.map(Math.round).join(","));
    if (tag) { parted[p].setAttribute("data-color", getComputedStyle(tag).backgroundColor); }
  }
  document.documentElement.setAttribute("data-drawn", "yes");
})();
"""


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


POLICY = f"default-src 'none'; script-src '{_hash(JS)}'; style-src '{_hash(CSS)}'; base-uri 'none'; form-action 'none'"
"""Nothing loads, and only this module's own script and style run: an injected one would not."""


def _data(value: object) -> str:
    """JSON for a ``<script type="application/json">`` block: nothing in it can close the element."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _visible(text: str, limit: int = PAYLOAD_LIMIT) -> str:
    """Escaped text with carriage returns and other control characters shown, cut at ``limit`` characters."""
    more = len(text) - limit
    text = text[:limit]
    shown = "".join(c if c in "\n\t" or c >= " " else ("\\r" if c == "\r" else f"\\x{ord(c):02x}") for c in text)
    tail = f' <span class="empty">… {more} more characters</span>' if more > 0 else ""
    # a line of JSON breaks after a comma, not inside a word ("chun / k"); <wbr> adds no character to a copy
    return escape(shown).replace(",", ",<wbr>") + tail


def _compact(value: object, limit: int = EVENT_LIMIT) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _fact_line(fact: tuple) -> str:
    name = KIND_NAMES[fact[0]] if 0 <= fact[0] < len(KIND_NAMES) else str(fact[0])
    rest = _compact(list(fact[1:]), 120) if len(fact) > 1 else ""
    return f"{name} {rest}".strip()


def _event_text(n: int, event: dict) -> str:
    kind = str(event.get("type"))
    rest = {k: v for k, v in event.items() if k != "type"}
    return (
        f'<span class="n">{n}</span><span class="t {escape(kind)}">{escape(kind)}</span> '
        f"<code>{escape(_compact(rest)) if rest else ''}</code>"
    )


def _event_line(n: int, event: dict, anchor: str | None, hit: bool) -> str:
    cls = ' class="hit"' if hit else ""
    at = f' id="{anchor}"' if anchor else ""
    return f"<li{at}{cls}>{_event_text(n, event)}</li>"


# -- the translator under test beside the reference ------------------------------------------------


def _as_event(event: object) -> dict:
    """A foreign translator's event as the page can show it (it may return anything in its list)."""
    return event if isinstance(event, dict) else {"type": "not-an-event", "value": repr(event)[:EVENT_LIMIT]}


def _keys(events: Sequence[dict]) -> list[str]:
    """What two translations' events are aligned by: each event's kind and content, ids and indexes aside.

    A block's start is keyed by the block without its id, a delta by the delta, a block's stop by the whole
    block it closes (start and deltas: two tool calls of one name stop differently), ``message_delta`` by its
    stop reason and ``error`` by its error type (usage and ids differ between translations of one response).
    """
    out, blocks = [], {}
    for event in events:
        kind = event.get("type")
        if kind == "content_block_start":
            block = event.get("content_block")
            block = {k: v for k, v in block.items() if k != "id"} if isinstance(block, dict) else block
            key: object = [kind, block]
            blocks[_hashable(event.get("index"))] = [block]
        elif kind == "content_block_delta":
            key = [kind, event.get("delta")]
            blocks.setdefault(_hashable(event.get("index")), [None]).append(event.get("delta"))
        elif kind == "content_block_stop":
            key = [kind, blocks.pop(_hashable(event.get("index")), None)]
        elif kind == "message_delta":
            delta = event.get("delta")
            key = [kind, *((delta.get("stop_reason"), delta.get("stop_sequence")) if isinstance(delta, dict) else ())]
        elif kind == "error":
            error = event.get("error")
            key = [kind, error.get("type") if isinstance(error, dict) else error]
        else:
            key = [kind]
        out.append(json.dumps(key, sort_keys=True, default=str))
    return out


def _hashable(value: object) -> object:
    return value if isinstance(value, (int, str)) or value is None else repr(value)


def align(want: Sequence[dict], got: Sequence[dict]) -> list[tuple[str, int | None, int | None]]:
    """``got`` (a translator under test's events) aligned to ``want`` (the reference), in order: ``(how, w, g)``.

    ``how`` is ``same`` (both sent it, ``_keys`` alike), ``differs`` (where they part, the same kind of event
    at the same place, different content), ``missing`` (only the reference: ``g`` is None) or ``extra`` (only
    the translator: ``w`` is None). ``difflib.SequenceMatcher`` matches them where they part.
    """
    a, b = _keys(want), _keys(got)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    out: list[tuple[str, int | None, int | None]] = [("same", n, n) for n in range(head)]
    mid_a, mid_b = a[head : len(a) - tail], b[head : len(b) - tail]
    if len(mid_a) + len(mid_b) > ALIGN_LIMIT:
        common = min(len(mid_a), len(mid_b))
        opcodes = [("replace", 0, common, 0, common), ("delete", common, len(mid_a), common, common)]
        opcodes.append(("insert", len(mid_a), len(mid_a), common, len(mid_b)))
    else:
        opcodes = SequenceMatcher(None, mid_a, mid_b, autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            out += [("same", head + i1 + k, head + j1 + k) for k in range(i2 - i1)]
            continue
        paired = 0
        if op == "replace":
            for k in range(min(i2 - i1, j2 - j1)):  # paired in order while they are the same kind of event
                if want[head + i1 + k].get("type") != got[head + j1 + k].get("type"):
                    break
                paired = k + 1
            pairs = [(head + i1 + k, head + j1 + k) for k in range(paired)]
            out += [("same" if a[w] == b[g] else "differs", w, g) for w, g in pairs]
        out += [("missing", head + i, None) for i in range(i1 + paired, i2)]
        out += [("extra", None, head + j) for j in range(j1 + paired, j2)]
    out += [("same", len(a) - tail + k, len(b) - tail + k) for k in range(tail)]
    return out


def _tag(finding: Finding) -> str:
    cls = "warn" if finding.warn else finding.category
    return f'<span class="tag {escape(cls)}">{escape(finding.category)}/{escape(finding.kind)}</span>'


def _callout(invariant: str, finding: Finding) -> str:
    warn = " warn" if finding.warn else ""
    return (
        f'<div class="callout{warn}" data-kind="{escape(finding.kind)}">{_tag(finding)} '
        f'{escape(finding.detail)} <span class="meta">({escape(_origin(invariant, finding))})</span></div>'
    )


_BLOCK = re.compile(r"(?:interaction \d+: )?block (\d+): ")


class _Interaction:
    """What one interaction's section draws: its timeline, its findings by place, the held-back payloads, and
    a translator under test's events aligned to the reference's (``under_test``: its events, or why there are
    none)."""

    def __init__(
        self, cassette: Cassette, index: int, foreign: bool, under_test: list | str | None = None, name: str = ""
    ) -> None:
        self.index, self.id = index, f"i{index}"
        self.interaction = cassette.interactions[index]
        self.expect = cassette.metadata.expect
        self.line: Timeline = timeline(cassette, index)
        self.foreign, self.name = foreign, name
        self.under_test = [_as_event(e) for e in under_test] if isinstance(under_test, list) else under_test
        self.held = self._held()
        self.completed: dict[int, list[int]] = {}  # the payloads each read completed
        for n, payload in enumerate(self.line.payloads):
            self.completed.setdefault(payload.read, []).append(n)
        # the aligned events by where they are drawn: a payload, or None for the body's end
        self.aligned: dict[int | None, list[tuple[str, int | None, int | None]]] = {}
        self.slot_of: dict[int, int | None] = {}  # each event of the translator under test: where it is drawn
        if isinstance(self.under_test, list):
            self._align(self.under_test)
        self.by_read: dict[int, list[tuple[str, Finding]]] = {}
        self.by_payload: dict[int, list[Finding]] = {}
        self.at_end: list[tuple[str, Finding]] = []
        self.hit_events: set[int] = set()

    @property
    def beside(self) -> bool:
        """Whether the translator under test's events are drawn beside the reference's."""
        return isinstance(self.under_test, list)

    def _align(self, got: list[dict]) -> None:
        line = self.line
        owner: list[int | None] = [None] * len(line.events)
        for n, payload in enumerate(line.payloads):
            for e in payload.events:
                owner[e] = n
        entries = align(line.events, got)
        nowhere = -1  # a place no payload has (None is the body's end)
        matched = [owner[w] if how in ("same", "differs") and w is not None else nowhere for how, w, _ in entries]
        following, after = [nowhere] * len(entries), nowhere  # the place of the next event both sent
        for k in range(len(entries) - 1, -1, -1):
            following[k], after = after, matched[k] if matched[k] != nowhere else after
        before: int | None = nowhere
        for k, (how, w, g) in enumerate(entries):
            if w is not None:
                slot = owner[w]
            else:  # after the last event both sent; before the first, when it comes before any
                slot = before if before != nowhere else following[k]
                slot = None if slot == nowhere else slot
            if matched[k] != nowhere:
                before = matched[k]
            self.aligned.setdefault(slot, []).append((how, w, g))
            if g is not None:
                self.slot_of[g] = slot

    def locate(self, finding: Finding) -> Finding:
        """``finding``, placed where the page draws it when the oracle could not place it in a read.

        A finding at an event of the translator under test goes where that event is drawn; an ``expect``
        finding about block N, to the payload that opened block N in the reference. A copy: the oracle's
        ``Location`` (and ``check --json``) is left as it is.
        """
        at = finding.at
        if at is None or at.interaction != self.index or at.read is not None or at.ending:
            return finding
        if at.event is not None and self.foreign and at.event in self.slot_of:
            slot = self.slot_of[at.event]
            if slot is None:
                return replace(finding, at=replace(at, ending=True))
            return replace(finding, at=replace(at, payload=slot, read=self.line.payloads[slot].read))
        found = _BLOCK.match(finding.detail) if finding.kind == "expect" else None
        if found:
            payload = self._opened(int(found.group(1)))
            if payload is not None:
                return replace(finding, at=replace(at, payload=payload, read=self.line.payloads[payload].read))
        return finding

    def _opened(self, block: int) -> int | None:
        """The payload that opened the reference's content block ``block``, numbered as ``expect`` numbers
        them (text blocks left empty do not count); None when there is none, or it is not the block expected."""
        line, starts, text = self.line, [], {}
        for e, event in enumerate(line.events):
            kind = event.get("type")
            if kind == "content_block_start":
                content = event.get("content_block") or {}
                starts.append((e, event.get("index"), content.get("type")))
                text[event.get("index")] = bool(content.get("text"))
            elif kind == "content_block_delta" and (event.get("delta") or {}).get("text"):
                text[event.get("index")] = True
        blocks = [(e, kind) for e, index, kind in starts if kind != "text" or text.get(index)]
        if block >= len(blocks):
            return None
        e, kind = blocks[block]
        wanted = (self.expect.content or []) if self.expect is not None else []
        if block < len(wanted) and wanted[block].get("type") != kind:
            return None
        return line.payload_of_event(e)

    def take(self, found: list[tuple[str, Finding]]) -> None:
        """This interaction's findings (already ``locate``d), by the place they are drawn at."""
        for inv, f in found:
            at = f.at
            if at is None or at.interaction != self.index:
                continue
            if at.payload is not None:
                self.by_payload.setdefault(at.payload, []).append(f)
            if at.read is not None:
                self.by_read.setdefault(at.read, []).append((inv, f))
            elif at.ending:
                self.at_end.append((inv, f))
            if at.event is not None:
                self.hit_events.add(at.event)

    def _held(self) -> dict[int, str]:
        """Payloads whose content caused no event yet, and where it came out (a read, or the body's end)."""
        line, out = self.line, {}
        emitting = [
            n
            for n, p in enumerate(line.payloads)
            if any(line.events[e].get("type") in _CONTENT_EVENTS for e in p.events)
        ]
        closing = any(line.events[e].get("type") in _CONTENT_EVENTS for e in line.closing)
        for n, payload in enumerate(line.payloads):
            carries = payload.absorbed or any(f[0] in _CONTENT_FACTS for f in payload.facts)
            after = bisect_left(emitting, n)
            if not carries or (after < len(emitting) and emitting[after] == n):
                continue
            later = emitting[after] if after < len(emitting) else None
            if later is not None:
                out[n] = f"comes out with payload {later} (read {line.payloads[later].read})"
            else:
                out[n] = "comes out at the end of the body" if closing else "comes out nowhere"
        return out

    def rows(self) -> list[int | None]:
        """The reads shown as rows, ``None`` where some are elided."""
        count = len(self.line.reads)
        if count <= ROW_LIMIT:
            return list(range(count))
        keep = set(range(ROW_LIMIT // 2)) | set(range(count - ROW_LIMIT // 2, count))
        for read in self.by_read:
            keep |= {read - 1, read, read + 1}
        shown: list[int | None] = []
        for read in range(count):
            if read in keep:
                shown.append(read)
            elif shown and shown[-1] is not None:
                shown.append(None)
        return shown

    def axis_data(self) -> dict:
        """What the script draws: columns per read (a long stream has tens of thousands), the rest sparse."""
        line, times = self.line, self.interaction.response.quirktape.t_ms
        return {
            "id": self.id,
            "t": list(times) if times else None,
            "bytes": [b - a for a, b in line.reads],
            "findings": {str(r): sorted({f.kind for _, f in found}) for r, found in sorted(self.by_read.items())},
            "held": sorted({line.payloads[n].read for n in self.held}),
            "ending": line.ending,
            "cut": line.ending in ("reset", "timeout"),
            "endFindings": sorted({f.kind for _, f in self.at_end}),
        }


def _read_row(part: _Interaction, read: int, raw: bytes) -> str:
    line = part.line
    start, end = line.reads[read]
    times = part.interaction.response.quirktape.t_ms
    payloads = part.completed.get(read, [])
    findings = part.by_read.get(read, [])
    held = [n for n in payloads if n in part.held]
    classes = " ".join(c for c, on in (("hit", findings), ("held", held)) if on)
    when = f"<br>{times[read]:g} ms" if times else ""
    where = f"read {read}{when}<br>bytes {start}–{end - 1 if end > start else start} ({end - start})"
    body = [_callout(inv, f) for inv, f in findings]
    for n in payloads:
        body.append(_beside(part, _payload(part, n), n, line.payloads[n].events))
    if not payloads:
        body.append('<div class="empty">no payload completed in this read: the framing holds its bytes</div>')
    body.append(
        f'<details class="raw"><summary>raw bytes of the read</summary><pre>'
        f"{_visible(raw[start:end].decode('utf-8', 'backslashreplace'))}</pre></details>"
    )
    return _row(f"{part.id}-r{read}", f"read {classes}", where, "".join(body))


def _row(anchor: str, classes: str, where: str, body: str) -> str:
    return f'<div id="{anchor}" class="row {classes}"><div class="where">{where}</div><div>{body}</div></div>'


def _beside(part: _Interaction, left: str, slot: int | None, positions: Iterable[int]) -> str:
    """A payload (or the ending) and the events it caused: the reference's, or both translations aligned."""
    if part.beside:
        return f'<div class="trio" data-slot="{"end" if slot is None else slot}">{left}{_aligned(part, slot)}</div>'
    return f'<div class="pair">{left}{_events(part, positions)}</div>'


def _payload(part: _Interaction, n: int) -> str:
    payload = part.line.payloads[n]
    hit = n in part.by_payload
    classes = "payload" + (" hit" if hit else "") + (" held" if n in part.held else "")
    name = f" <code>event: {escape(payload.name)}</code>" if payload.name else ""
    facts = "; ".join(_fact_line(f) for f in payload.facts)
    held = (
        f' <span class="tag held">held back</span> <span class="meta">{escape(part.held[n])}</span>'
        if n in part.held
        else ""
    )
    return (
        f'<div class="{classes}" id="{part.id}-p{n}"><span class="meta">payload {n}</span>{name}{held}'
        f"<pre>{_visible(payload.text)}</pre>"
        f'<div class="facts mono">parsed as: {escape(facts) if facts else "nothing"}</div></div>'
    )


def _events(part: _Interaction, positions: Iterable[int]) -> str:
    own = not part.foreign
    lines = [_event_line(e, part.line.events[e], f"{part.id}-q{e}", own and e in part.hit_events) for e in positions]
    return f'<ol class="events">{"".join(lines)}</ol>' if lines else '<span class="empty">no event</span>'


_MARKS = {
    "missing": '<span class="tag missing">missing</span> <span class="meta">the translator under test did not send '
    "this</span>",
    "extra": '<span class="tag extra">extra</span> ',
    "differs": '<span class="tag differs">differs</span> ',
}


def _aligned(part: _Interaction, slot: int | None) -> str:
    """One payload's events (or the ending's): the reference's beside the translator under test's."""
    entries = part.aligned.get(slot, [])
    if not entries:
        return '<div class="sides"><span class="empty">no event</span><span class="empty">no event</span></div>'
    got = part.under_test if isinstance(part.under_test, list) else []
    lines = []
    for how, w, g in entries:
        if w is not None:
            ref = f'<div class="ev ref" id="{part.id}-q{w}">{_event_text(w, part.line.events[w])}</div>'
        else:
            ref = '<div class="ref empty">not in the reference</div>'
        if g is not None:
            hit = " hit" if g in part.hit_events else ""
            mine = f'<div class="ev got{hit}" id="{part.id}-t{g}">{_MARKS.get(how, "")}{_event_text(g, got[g])}</div>'
        else:
            mine = f'<div class="got">{_MARKS["missing"]}</div>'
        data = "".join(f' data-{k}="{v}"' for k, v in (("ref", w), ("got", g)) if v is not None)
        lines.append(f'<li class="{how}" data-align="{how}"{data}>{ref}{mine}</li>')
    return f'<ol class="aligned">{"".join(lines)}</ol>'


def _section(part: _Interaction, raw: bytes) -> str:
    r = part.interaction.response
    tape = r.quirktape
    times = tape.t_ms
    kind = "stream" if r.is_stream else "complete response"
    reads = len(part.line.reads)
    brief = (
        f"{escape(part.interaction.request.method)} {escape(part.interaction.request.uri)} · HTTP {r.status.code}"
        f" · {kind} · {escape(tape.dialect or '?')} · {reads} read{'s' if reads != 1 else ''}"
        f" · ending {escape(tape.ending)}"
    )
    if times:
        note = (
            "Reads on the recorded time axis (ms after the request was sent, from <code>t_ms</code>): the axis "
            "starts at the request."
        )
    elif tape.offsets:
        note = "No recorded times (no <code>t_ms</code>): the reads are spaced by their order, not by time."
    else:
        note = "No recorded read boundaries (no <code>offsets</code>): the body is one read, and has no times."
    payloads_head = "<div>payloads (what the upstream sent, as framed)</div>"
    if part.beside:
        name = escape(part.name or "the translator under test")
        head = (
            f'<div class="trio">{payloads_head}<div class="sides"><div>quirktape\'s translation (the reference)</div>'
            f"<div>the translator under test ({name})</div></div></div>"
        )
    elif part.foreign:
        head = f'<div class="pair">{payloads_head}<div>events (quirktape\'s translation, the reference)</div></div>'
    else:
        head = f'<div class="pair">{payloads_head}<div>events (quirktape\'s translation)</div></div>'
    out = [
        f'<section class="interaction" id="{part.id}" data-interaction="{part.index}">',
        f"<h2>Interaction {part.index} <small>{brief}</small></h2>",
        f'<p class="axis-note">{note}</p>',
        '<div class="legend">marks:<i class="l-read"></i>a read (height: its bytes)<i class="l-held"></i>'
        'content held back<i class="l-finding"></i>a finding<i class="l-end"></i>the ending'
        '<i class="l-cut"></i>a cut ending</div>',
        f'<div class="axis" id="{part.id}-axis"></div>',
        f'<script type="application/json" class="axis-data">{_data(part.axis_data())}</script>',
    ]
    if part.beside:
        out.append(
            '<p class="note">The translator under test is called once with the whole body, so its events are '
            "aligned to the reference's by content (ids and indexes aside) and drawn beside them: "
            '<span class="tag missing">missing</span> the reference sent it and the translator did not, '
            '<span class="tag extra">extra</span> only the translator sent it (drawn after the last event both '
            'sent), <span class="tag differs">differs</span> the same kind of event in its place, with other '
            "content.</p>"
        )
    elif part.foreign:
        out.append(
            '<div class="callout" id="' + part.id + '-raised">The translator under test sent no events to draw '
            f"beside the reference: {escape(str(part.under_test))}</div>"
        )
    out += ['<div class="reads">', f'<div class="row head"><div>read</div>{head}</div>']
    for read in part.rows():
        if read is None:
            out.append('<div class="row elided">… reads without findings not shown …</div>')
        else:
            out.append(_read_row(part, read, raw))
    end_classes = " ".join(c for c, on in (("ending", True), ("hit", part.at_end)) if on)
    ending_text = {
        "done": "done: the protocol's end, then the connection closed",
        "eof": "eof: the connection closed",
        "reset": "reset: the connection broke",
        "timeout": "timeout: the upstream went silent and the read timed out",
    }.get(tape.ending, tape.ending)
    if times:
        ending_text += f" (after the last read, at {times[-1]:g} ms; its own time is not recorded)"
    callouts = "".join(_callout(inv, f) for inv, f in part.at_end)
    body = callouts + _beside(part, f"<div>{escape(ending_text)}</div>", None, part.line.closing)
    out.append(_row(f"{part.id}-end", end_classes, "ending", body))
    out.append("</div>")
    if part.beside:
        out.append(_under_test(part))
    out.append("</section>")
    return "\n".join(out)


def _under_test(part: _Interaction) -> str:
    """A foreign translator's events whole, in the order it sent them (drawn above beside the reference's)."""
    events = part.under_test if isinstance(part.under_test, list) else []
    lines = "".join(_event_line(n, event, None, False) for n, event in enumerate(events))
    return (
        f'<details class="raw"><summary>All {len(events)} events the translator under test sent, in its order'
        f'</summary><ol class="events" id="{part.id}-under-test">{lines}</ol></details>'
    )


def _anchor(finding: Finding, foreign: bool) -> tuple[str, str] | None:
    """Where the summary links a finding to, and what the link says; None for a finding with no place."""
    at = finding.at
    if at is None or not (at.read is not None or at.ending):
        return None
    here = f"i{at.interaction}"
    event = f", event {at.event} of the translator under test" if foreign and at.event is not None else ""
    if at.read is not None:
        return f"#{here}-r{at.read}", f"interaction {at.interaction}, read {at.read}{event}"
    return f"#{here}-end", f"interaction {at.interaction}, the ending{event}"


def _origin(invariant: str, finding: Finding) -> str:
    """What a finding is listed under: its invariant, or, for a translator that raised, that it raised."""
    if finding.kind != "crash":
        return invariant
    return "the translator raised" if invariant == "grammar" else f"the translator raised, under {invariant}"


def _summary(checks: Sequence[Check], found: list[tuple[str, Finding]], foreign: bool) -> str:
    crashed = [f for _, f in found if f.kind == "crash" and not f.warn]
    failed = [
        c.invariant for c in checks if c.ok is False and any(not f.warn and f.kind != "crash" for f in c.findings)
    ]
    verdict = []
    if crashed:
        whole = any(inv == "grammar" for inv, f in found if f.kind == "crash")
        also = ": nothing it sent could be judged" if whole else ""
        verdict.append(f'<p class="verdict fail" id="raised">The translator under test raised an exception{also}</p>')
    if failed:
        verdict.append(f'<p class="verdict fail">Fails {escape(", ".join(failed))}</p>')
    if not crashed and not failed:
        verdict.append('<p class="verdict ok">Passes every invariant</p>')
    head = "".join(verdict)
    if not found:
        return head + '<p class="none" id="no-findings">No findings: the oracle found nothing in this cassette.</p>'
    placed, loose = [], []
    rank = {"data": 0, "spec": 1, "policy": 2}
    for inv, f in sorted(found, key=lambda item: (item[1].warn, rank.get(item[1].category, 3))):
        link = _anchor(f, foreign)
        (placed if link else loose).append((inv, f, link))
    out = [head, f"<h2>Findings ({len(found)})</h2>"]
    if placed:
        out.append('<p class="meta">Where they happened (marked below):</p><ul class="findings" id="placed">')
        seen: dict[tuple, int] = {}
        for inv, f, link in placed:
            key = (f.category, f.kind, f.at.interaction if f.at else None)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] <= SAME_LIMIT:
                href, where = link
                out.append(
                    f'<li>{_tag(f)} <a href="{escape(href)}">{escape(where)}</a>: {escape(f.detail)} '
                    f'<span class="meta">({escape(_origin(inv, f))})</span></li>'
                )
        for (category, kind, at), count in seen.items():
            if count > SAME_LIMIT:
                more = f"… and {count - SAME_LIMIT} more {category}/{kind} in interaction {at}, marked below"
                out.append(f'<li class="meta">{escape(more)}</li>')
        out.append("</ul>")
    if loose:
        out.append('<p class="meta">Not tied to one read (about the whole interaction or the whole cassette):</p>')
        out.append('<ul class="findings" id="unplaced">')
        for inv, f, _ in loose:
            out.append(f'<li>{_tag(f)} {escape(f.detail)} <span class="meta">({escape(_origin(inv, f))})</span></li>')
        out.append("</ul>")
    return "\n".join(out)


def view(
    cassette: Cassette,
    translate: TranslateFn = translate_stream,
    *,
    interaction: int | None = None,
    name: str | None = None,
    translator_name: str | None = None,
    allow: Sequence[str] = (),
    strict: bool = False,
    max_holdback_ms: float | None = None,
) -> str:
    """The HTML page for ``cassette`` judged under ``translate`` (every interaction, or only ``interaction``).

    Credentials never reach it: the cassette is scrubbed before it is judged or drawn (as ``report``
    scrubs it), and the page once more. ``name`` is what the header calls the cassette (its path).
    """
    cassette = scrub_cassette(cassette, allow=allow)
    checks = check_cassette(cassette, translate, strict=strict, max_holdback_ms=max_holdback_ms)
    shown = [pick(cassette, interaction)] if interaction is not None else range(len(cassette.interactions))
    foreign = translate is not translate_stream
    parts = []
    for i in shown:
        under_test: list | str | None = None
        if foreign:
            try:
                under_test = replay(cassette, i, translate=translate).events
            except TranslatorFailed as exc:
                under_test = str(exc)
        parts.append(_Interaction(cassette, i, foreign, under_test, translator_name or ""))
    located = {part.index: part for part in parts}
    found = [
        (c.invariant, located[f.at.interaction].locate(f) if f.at is not None and f.at.interaction in located else f)
        for c in checks
        for f in c.findings
        if interaction is None or f.at is None or f.at.interaction == interaction
    ]
    for part in parts:
        part.take(found)
    meta = cassette.metadata
    title = meta.title or name or "cassette"
    header = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(name or "")} · provider / model: {escape(meta.provider or "?")} / '
        f"{escape(meta.model or '?')} · translator: {escape(translator_name or 'quirktape')}"
        f"{' · quirks: ' + escape(', '.join(meta.tags)) if meta.tags else ''}"
        f"{' · source: ' + escape(meta.source) if meta.source else ''}</p>",
        _summary(checks, found, foreign),
    ]
    sections = [_section(part, cassette.interactions[part.index].response.raw) for part in parts]
    page = "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>quirktape view: {escape(title)}</title>",
            f"<style>{CSS}</style></head><body>",
            "<header>",
            *header,
            "</header>",
            *sections,
            "<footer>Made by <code>quirktape view</code>; credentials in the cassette are shown as REDACTED.</footer>",
            f"<script>{JS}</script>",
            "</body></html>",
            "",
        ]
    )
    return scrub_text(page, allow)
