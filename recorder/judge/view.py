"""A picture of a cassette: one self-contained HTML page a person can open to see what happened.

Per interaction: the upstream reads on a time axis (recorded ``t_ms``; without them, spaced by
order, and the page says so), the payloads each read completed, the Anthropic events each payload
caused (quirktape's translation, fed read by read: ``oracle.timeline``), and the oracle's findings
drawn where they happened (``Finding.at``): the read that brought a lost call, the payload whose
content was held back, the ending a cut was turned into a success at. Findings with no place are
listed at the top; a cassette without findings says so.

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
from bisect import bisect_left
from collections.abc import Iterable, Sequence
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

_CONTENT_FACTS = frozenset({TEXT, REASONING, SIGNATURE, REDACTED, TOOL})
_CONTENT_EVENTS = frozenset({"content_block_start", "content_block_delta"})

CSS = """
:root { --finding: #d1242f; --held: #bf8700; --cut: #6639ba; --read: #57606a; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; color: #1f2328; margin: 0 auto; padding: 16px 24px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 24px 0 6px; }
h2 small, .meta { color: var(--read); font-weight: normal; font-size: 13px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { margin: 2px 0; white-space: pre-wrap; word-break: break-all; }
.verdict { font-weight: 600; margin: 8px 0; } .verdict.fail { color: var(--finding); } .verdict.ok { color: #1a7f37; }
.findings { padding-left: 20px; margin: 4px 0; } .findings li { margin: 2px 0; }
.tag { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 12px; font-weight: 600; color: #fff;
  background: var(--finding); }
.tag.spec { background: #8250df; } .tag.policy, .tag.warn { background: var(--read); }
.tag.held { background: var(--held); }
.none { color: #1a7f37; font-weight: 600; }
.axis-note { color: var(--read); margin: 2px 0 0; font-size: 13px; }
.axis { position: relative; height: 84px; margin: 6px 0 2px; }
.axis .track { position: absolute; left: 0; right: 0; top: 52px; border-top: 2px solid var(--line); }
.axis .mark { position: absolute; bottom: 32px; width: 3px; margin-left: -1px; background: var(--read); }
.axis .mark.held { background: var(--held); width: 5px; margin-left: -2px; }
.axis .mark.finding { background: var(--finding); width: 7px; margin-left: -3px; }
.axis .mark.end { width: 4px; background: #1a7f37; } .axis .mark.end.cut { background: var(--cut); }
.axis .mark.end.finding { background: var(--finding); }
.axis .chip { position: absolute; top: 2px; transform: translateX(-50%); white-space: nowrap; font-size: 11px;
  font-weight: 600; color: var(--finding); }
.axis .label { position: absolute; top: 58px; font-size: 11px; color: var(--read); white-space: nowrap; }
.legend { font-size: 12px; color: var(--read); margin-bottom: 6px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: -1px; }
.legend .l-read { background: var(--read); } .legend .l-held { background: var(--held); }
.legend .l-finding { background: var(--finding); } .legend .l-end { background: #1a7f37; }
.legend .l-cut { background: var(--cut); }
.row { display: grid; grid-template-columns: 9em 1fr; border-bottom: 1px solid var(--line); }
.row > div { padding: 4px 6px; min-width: 0; overflow-wrap: anywhere; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.pair > * { min-width: 0; }
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
.events .n { color: var(--read); display: inline-block; min-width: 2.5em; }
.events .t { font-weight: 600; } .events .t.error { color: var(--finding); }
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
    var first = times && n ? times[0] : 0, last = times && n ? times[n - 1] : 0;
    for (var i = 0; i < n; i++) { biggest = Math.max(biggest, data.bytes[i]); }
    for (var h = 0; h < data.held.length; h++) { held[data.held[h]] = true; }
    function place(i) {
      if (times) { return last > first ? (times[i] - first) / (last - first) * 92 : 0; }
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
    var left = el("span", "label"), right = el("span", "label");
    left.textContent = times ? first + " ms" : "read 0";
    right.textContent = times ? last + " ms" : "read " + (n - 1);
    left.style.left = "0";
    right.style.left = "92%";
    right.style.transform = "translateX(-100%)";
    axis.appendChild(left);
    if (n > 1) { axis.appendChild(right); }
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
    return escape(shown) + tail


def _compact(value: object, limit: int = EVENT_LIMIT) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _fact_line(fact: tuple) -> str:
    name = KIND_NAMES[fact[0]] if 0 <= fact[0] < len(KIND_NAMES) else str(fact[0])
    rest = _compact(list(fact[1:]), 120) if len(fact) > 1 else ""
    return f"{name} {rest}".strip()


def _event_line(n: int, event: dict, anchor: str, hit: bool) -> str:
    kind = str(event.get("type"))
    rest = {k: v for k, v in event.items() if k != "type"}
    cls = ' class="hit"' if hit else ""
    return (
        f'<li id="{anchor}"{cls}><span class="n">{n}</span><span class="t {escape(kind)}">{escape(kind)}</span> '
        f"<code>{escape(_compact(rest)) if rest else ''}</code></li>"
    )


def _tag(finding: Finding) -> str:
    cls = "warn" if finding.warn else finding.category
    return f'<span class="tag {escape(cls)}">{escape(finding.category)}/{escape(finding.kind)}</span>'


def _callout(invariant: str, finding: Finding) -> str:
    warn = " warn" if finding.warn else ""
    return (
        f'<div class="callout{warn}" data-kind="{escape(finding.kind)}">{_tag(finding)} '
        f'{escape(finding.detail)} <span class="meta">({escape(invariant)})</span></div>'
    )


class _Interaction:
    """What one interaction's section draws: its timeline, its findings by place, the held-back payloads."""

    def __init__(self, cassette: Cassette, index: int, found: list[tuple[str, Finding]], foreign: bool) -> None:
        self.index, self.id = index, f"i{index}"
        self.interaction = cassette.interactions[index]
        self.line: Timeline = timeline(cassette, index)
        self.foreign = foreign
        mine = [(inv, f) for inv, f in found if f.at is not None and f.at.interaction == index]
        self.by_read: dict[int, list[tuple[str, Finding]]] = {}
        self.by_payload: dict[int, list[Finding]] = {}
        self.by_event: dict[int, list[tuple[str, Finding]]] = {}  # in the events shown beside no read
        self.at_end: list[tuple[str, Finding]] = []
        for inv, f in mine:
            at = f.at
            assert at is not None
            if at.payload is not None:
                self.by_payload.setdefault(at.payload, []).append(f)
            if at.read is not None:
                self.by_read.setdefault(at.read, []).append((inv, f))
            elif at.ending:
                self.at_end.append((inv, f))
            elif at.event is not None:
                self.by_event.setdefault(at.event, []).append((inv, f))
        self.hit_events = {f.at.event for _, f in mine if f.at is not None and f.at.event is not None}
        self.held = self._held()
        self.completed: dict[int, list[int]] = {}  # the payloads each read completed
        for n, payload in enumerate(self.line.payloads):
            self.completed.setdefault(payload.read, []).append(n)

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
            "t": times or None,
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
        body.append(f'<div class="pair">{_payload(part, n)}{_events(part, line.payloads[n].events)}</div>')
    if not payloads:
        body.append('<div class="empty">no payload completed in this read: the framing holds its bytes</div>')
    body.append(
        f'<details class="raw"><summary>raw bytes of the read</summary><pre>'
        f"{_visible(raw[start:end].decode('utf-8', 'backslashreplace'))}</pre></details>"
    )
    return _row(f"{part.id}-r{read}", f"read {classes}", where, "".join(body))


def _row(anchor: str, classes: str, where: str, body: str) -> str:
    return f'<div id="{anchor}" class="row {classes}"><div class="where">{where}</div><div>{body}</div></div>'


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
        f'<div class="facts mono">read: {escape(facts) if facts else "nothing"}</div></div>'
    )


def _events(part: _Interaction, positions: Iterable[int]) -> str:
    own = not part.foreign
    lines = [_event_line(e, part.line.events[e], f"{part.id}-q{e}", own and e in part.hit_events) for e in positions]
    return f'<ol class="events">{"".join(lines)}</ol>' if lines else '<span class="empty">no event</span>'


def _section(part: _Interaction, raw: bytes, under_test: list[dict] | str | None) -> str:
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
        note = "Reads on the recorded time axis (ms after the request was sent, from <code>t_ms</code>)."
    elif tape.offsets:
        note = "No recorded times (no <code>t_ms</code>): the reads are spaced by their order, not by time."
    else:
        note = "No recorded read boundaries (no <code>offsets</code>): the body is one read, and has no times."
    events_head = (
        "events (quirktape's translation, the reference)" if part.foreign else "events (quirktape's translation)"
    )
    out = [
        f'<section class="interaction" id="{part.id}" data-interaction="{part.index}">',
        f"<h2>Interaction {part.index} <small>{brief}</small></h2>",
        f'<p class="axis-note">{note}</p>',
        '<div class="legend">marks:<i class="l-read"></i>a read (height: its bytes)<i class="l-held"></i>'
        'content held back<i class="l-finding"></i>a finding<i class="l-end"></i>the ending'
        '<i class="l-cut"></i>a cut ending</div>',
        f'<div class="axis" id="{part.id}-axis"></div>',
        f'<script type="application/json" class="axis-data">{_data(part.axis_data())}</script>',
        '<div class="reads">',
        '<div class="row head"><div>read</div><div class="pair"><div>payloads (what the upstream sent, as framed)'
        f"</div><div>{events_head}</div></div></div>",
    ]
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
    callouts = "".join(_callout(inv, f) for inv, f in part.at_end)
    body = f'{callouts}<div class="pair"><div>{escape(ending_text)}</div>{_events(part, part.line.closing)}</div>'
    out.append(_row(f"{part.id}-end", end_classes, "ending", body))
    out.append("</div>")
    if part.foreign:
        out.append(_under_test(part, under_test))
    out.append("</section>")
    return "\n".join(out)


def _under_test(part: _Interaction, events: list[dict] | str | None) -> str:
    """A foreign translator's events: they come all at once, not payload by payload, so they are listed whole."""
    if not isinstance(events, list):
        return f'<h3>What the translator under test sent</h3><p class="empty">{escape(str(events))}</p>'
    lines = []
    for n, event in enumerate(events):
        found = part.by_event.get(n, [])
        lines.append("".join(_callout(inv, f) for inv, f in found))
        lines.append(_event_line(n, event, f"{part.id}-t{n}", n in part.hit_events))
    return (
        f"<h3>What the translator under test sent ({len(events)} events)</h3>"
        f'<ol class="events" id="{part.id}-under-test">{"".join(lines)}</ol>'
    )


def _anchor(finding: Finding, foreign: bool) -> tuple[str, str] | None:
    """Where the summary links a finding to, and what the link says; None for a finding with no place."""
    at = finding.at
    if at is None or not at.placed:
        return None
    here = f"i{at.interaction}"
    if at.read is not None:
        return f"#{here}-r{at.read}", f"interaction {at.interaction}, read {at.read}"
    if at.ending:
        return f"#{here}-end", f"interaction {at.interaction}, the ending"
    if at.event is not None and foreign:
        return f"#{here}-t{at.event}", f"interaction {at.interaction}, event {at.event} of the translator under test"
    return None


def _summary(checks: Sequence[Check], found: list[tuple[str, Finding]], foreign: bool) -> str:
    failed = [c.invariant for c in checks if c.ok is False]
    verdict = (
        f'<p class="verdict fail">Fails {escape(", ".join(failed))}</p>'
        if failed
        else '<p class="verdict ok">Passes every invariant</p>'
    )
    if not found:
        return verdict + '<p class="none" id="no-findings">No findings: the oracle found nothing in this cassette.</p>'
    placed, loose = [], []
    rank = {"data": 0, "spec": 1, "policy": 2}
    for inv, f in sorted(found, key=lambda item: (item[1].warn, rank.get(item[1].category, 3))):
        link = _anchor(f, foreign)
        (placed if link else loose).append((inv, f, link))
    out = [verdict, f"<h2>Findings ({len(found)})</h2>"]
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
                    f'<span class="meta">({escape(inv)})</span></li>'
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
            out.append(f'<li>{_tag(f)} {escape(f.detail)} <span class="meta">({escape(inv)})</span></li>')
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
    found = [
        (c.invariant, f)
        for c in checks
        for f in c.findings
        if interaction is None or f.at is None or f.at.interaction == interaction
    ]
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
    sections = []
    for i in shown:
        part = _Interaction(cassette, i, found, foreign)
        under_test: list[dict] | str | None = None
        if foreign:
            try:
                under_test = replay(cassette, i, translate=translate).events
            except TranslatorFailed as exc:
                under_test = str(exc)
        sections.append(_section(part, cassette.interactions[i].response.raw, under_test))
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
