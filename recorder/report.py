"""Bug reports a person can paste into an issue, and back.

``report`` writes Markdown: what happened, what a correct translation contains, what
the translator under test produced, the difference event by event, which invariants
failed, and the cassette itself in a collapsible block (gzip + base64 when large) so
anyone can reproduce the bug in one command: ``quirktape import report.md -o c.yaml``.
"""

from __future__ import annotations

import base64
import gzip
import json
import re

from translator import accumulate, stream_error, translate_stream

from .cassette import Cassette, CassetteError, dumps, loads
from .diff import event_diff
from .oracle import check_cassette
from .replay import TranslateFn, replay

MARKER = "<!-- quirktape-report v1 -->"
INLINE_LIMIT = 20_000
"""Cassettes larger than this (characters of YAML) are embedded gzip-compressed and base64-encoded."""

# Shapes of common credentials; a report containing one is refused (cassettes are redacted when recorded,
# but a hand-made or imported one may not be).
CREDENTIAL = re.compile(
    "|".join(
        [r"sk-[A-Za-z0-9_-]{20,}", r"AIza[0-9A-Za-z_-]{30,}", r"Bearer [A-Za-z0-9._-]{20,}"]
        + [r"hf_[A-Za-z0-9]{30,}", r"gsk_[A-Za-z0-9]{20,}", r"xai-[A-Za-z0-9]{20,}"]
    )
)


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


def _fenced(info: str, text: str) -> str:
    """A code block whose fence is longer than any backtick run inside it."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence}{info}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}"


def _embed(cassette: Cassette) -> str:
    text = dumps(cassette)
    if len(text) <= INLINE_LIMIT:
        return f"<details><summary>cassette (YAML)</summary>\n\n{_fenced('yaml', text)}\n\n</details>"
    packed = base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()
    lines = "\n".join(packed[i : i + 100] for i in range(0, len(packed), 100))
    block = _fenced("quirktape-gzip-base64", lines)
    return f"<details><summary>cassette (YAML, gzip + base64)</summary>\n\n{block}\n\n</details>"


def report(
    cassette: Cassette,
    translate: TranslateFn = translate_stream,
    reference: TranslateFn = translate_stream,
    translator_name: str | None = None,
) -> str:
    """The Markdown report for ``cassette`` under ``translate`` (compared with ``reference``)."""
    if CREDENTIAL.search(dumps(cassette)):  # before the cassette is packed out of sight
        raise CassetteError("refusing to write the report: something that looks like a credential is in the cassette")
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
        "```",
        "",
        _embed(cassette),
        "",
    ]
    text = "\n".join(out)
    if CREDENTIAL.search(text):
        raise CassetteError("refusing to write the report: something that looks like a credential is in it")
    return text


_YAML_BLOCK = re.compile(r"^(`{3,})yaml\n(.*?)^\1$", re.S | re.M)
_PACKED_BLOCK = re.compile(r"^(`{3,})quirktape-gzip-base64\n(.*?)^\1$", re.S | re.M)


def cassette_from_report(text: str) -> Cassette:
    """The cassette embedded in a report, exactly as it was (whatever line ends the report got on the way)."""
    text = text.replace("\r\n", "\n")
    if MARKER not in text:
        raise CassetteError("not a quirktape report (no report marker)")
    packed = _PACKED_BLOCK.search(text)
    if packed:
        try:
            body = gzip.decompress(base64.b64decode("".join(packed.group(2).split()))).decode()
        except (ValueError, OSError, EOFError) as exc:
            raise CassetteError(f"the embedded cassette is damaged: {exc}") from None
    else:
        blocks = _YAML_BLOCK.findall(text)
        if not blocks:
            raise CassetteError("the report holds no cassette block")
        body = blocks[-1][1]
    return loads(body, "embedded cassette")
