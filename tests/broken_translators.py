"""Deliberately broken translators: each reproduces a reported gateway bug, so tests can show
that the oracle, shrink, diff and report catch it. Loadable as ``--translator broken_translators:NAME``."""

from translator import translate_stream


def drop_second_tool(pieces, dialect, **kw):
    """LiteLLM's bug (PR 26636): only ``tool_calls[0]`` of a delta survives."""
    events, ir = translate_stream(pieces, dialect, **kw)
    starts = [
        e["index"]
        for e in events
        if e.get("type") == "content_block_start" and e["content_block"]["type"] == "tool_use"
    ]
    if len(starts) < 2:
        return events, ir
    gone = starts[1]
    kept = [e for e in events if e.get("index") != gone]
    return [
        ({**e, "index": e["index"] - 1} if isinstance(e.get("index"), int) and e["index"] > gone else e) for e in kept
    ], None


def text_as_json_deltas(pieces, dialect, **kw):
    """LiteLLM's vLLM bug: text arrives as empty input_json_delta events instead of text_delta."""
    events, _ = translate_stream(pieces, dialect, **kw)
    return [
        {**e, "delta": {"type": "input_json_delta", "partial_json": ""}}
        if e.get("type") == "content_block_delta" and e["delta"].get("type") == "text_delta"
        else e
        for e in events
    ], None
