"""Bug reports a person can paste into an issue.

``report`` writes Markdown: what happened, what a correct translation contains, what
the translator under test produced, the difference event by event, which invariants
failed, and the cassette itself in a collapsible block (gzip + base64 when large) so
anyone can reproduce the bug in one command: ``quirktape import report.md -o c.yaml``.
A picture of the cassette (``view``, an HTML page an issue tracker will not render) is
linked when one was written beside the report, and the Reproduce block says how to make it.
The report's format (its marker, the embedded cassette and reading it back) is
``recorder.tape.markdown``.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from translator import accumulate, stream_error, translate_stream

from ..replay import TranslateFn, replay
from ..tape import MARKER, Cassette, embed, scrub_cassette, scrub_text
from .diff import event_diff
from .oracle import check_cassette


def _request_brief(cassette: Cassette) -> str:
    try:
        return _brief(cassette)
    except (AttributeError, KeyError, TypeError, IndexError):
        return "recorded, but not in a shape this report can summarise"


def _brief(cassette: Cassette) -> str:
    request = cassette.metadata.request
    if request is None:
        try:
            request = json.loads(cassette.interactions[0].request.body or "null")
        except (TypeError, ValueError):
            request = None
    if not isinstance(request, dict):
        return "not recorded"
    messages = request.get("messages") or request.get("contents") or []
    tools = [
        t.get("name") or (t.get("function") or {}).get("name")
        for t in request.get("tools") or []
        if isinstance(t, dict)
    ]
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    content = last.get("content", last.get("parts", ""))
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    parts = [
        f"model `{request.get('model', '?')}`",
        f"stream {request.get('stream', '?')}",
        f"{len(messages)} message(s)",
    ]
    if tools:
        parts.append("tools " + ", ".join(f"`{t}`" for t in tools))
    brief = "; ".join(parts)
    return f"{brief}; last message: “{text[:200]}{'…' if len(text) > 200 else ''}”"


MESSAGE_LIMIT = 6_000
"""Characters of a translated message shown in a report; the cassette block holds everything."""


def _message_block(events: list[dict]) -> str:
    text = json.dumps(accumulate(events), ensure_ascii=False, indent=2)
    if len(text) > MESSAGE_LIMIT:
        text = (
            text[:MESSAGE_LIMIT]
            + f"\n… ({len(text) - MESSAGE_LIMIT} more characters; replay the cassette for all of it)"
        )
    lines = [text]
    error = stream_error(events)
    if error:
        lines.append(f"// ended with an error event: {json.dumps(error, ensure_ascii=False)}")
    return "```json\n" + "\n".join(lines) + "\n```"


def report(
    cassette: Cassette,
    translate: TranslateFn = translate_stream,
    reference: TranslateFn = translate_stream,
    translator_name: str | None = None,
    allow: tuple[str, ...] | list[str] = (),
    picture: str | None = None,
) -> str:
    """The Markdown report for ``cassette`` under ``translate`` (compared with ``reference``).

    Credentials never reach it: the cassette is scrubbed before anything is judged or embedded (a
    hand-made or imported one may hold some), so the report shows, and reproduces, what it embeds;
    the text around the embedded cassette is scrubbed again. ``allow`` keeps look-alikes.
    ``picture``: where the cassette's ``view`` page is, relative to the report, to link it.
    """
    cassette = scrub_cassette(cassette, allow=allow)
    meta = cassette.metadata
    checks = check_cassette(cassette, translate)
    failed = [c for c in checks if c.ok is False]
    out = [
        MARKER,
        f"# {meta.title or 'quirktape report'}",
        "",
        f"- **Provider / model:** {meta.provider or '?'} / {meta.model or '?'}",
        f"- **Source:** {meta.source or '?'}",
        f"- **Quirks:** {', '.join(meta.tags) or 'none tagged'}",
        f"- **Client request:** {_request_brief(cassette)}",
        f"- **Verdict:** {'FAILS ' + ', '.join(c.invariant for c in failed) if failed else 'passes every invariant'}",
    ]
    if picture:
        path = picture.replace(os.sep, "/")
        label = path.replace("[", "\\[").replace("]", "\\]")
        out.append(
            f"- **Picture:** [{label}]({quote(path)}): the upstream reads, their payloads and the events each caused, "
            "with the findings marked (open it in a browser)"
        )
    out += [
        "",
        "## What a correct translation contains",
        "",
    ]
    if meta.expect is not None:
        out += [
            "The cassette's hand-written expectation:",
            "",
            "```json",
            meta.expect.model_dump_json(indent=2, exclude_none=True),
            "```",
        ]
    else:
        out += ["The reference translator's result:", "", _message_block(replay(cassette, translate=reference).events)]
    produced = [replay(cassette, i, translate=translate) for i in range(len(cassette.interactions))]
    out += ["", "## What the translator under test produced", "", _message_block(produced[0].events), ""]
    out += ["## Event by event (reference → under test)", ""]
    diff: list[str] = []
    for run in produced:
        lines = event_diff(replay(cassette, run.index, translate=reference).events, run.events)
        diff += [f"# interaction {run.index}", *lines] if lines and len(produced) > 1 else lines
    out += [
        "```diff",
        *(diff or ["(identical)"]),
        "```",
        "",
        "## Invariants",
        "",
        "| invariant | result | details |",
        "|---|---|---|",
    ]
    for c in checks:
        details = "<br>".join(d.replace("|", "\\|") for d in c.details[:5]) or ""
        out.append(f"| {c.invariant} | {c.status} | {details} |")
    out += [
        "",
        "## Reproduce",
        "",
        "Save this report as `report.md`, then:",
        "",
        "```sh",
        "quirktape import report.md -o bug.yaml && quirktape check bug.yaml"
        + (f" --translator {translator_name}" if translator_name else ""),
        "quirktape view bug.yaml -o bug.html"
        + (f" --translator {translator_name}" if translator_name and " " not in translator_name else "")
        + "   # a picture: reads, payloads, events, findings marked",
        "```",
        "",
    ]
    return scrub_text("\n".join(out), allow) + "\n" + embed(cassette) + "\n"
