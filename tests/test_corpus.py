"""The shared corpus of real recorded upstream streams (``../shared/corpus``), end to end.

Every file listed in ``manifest.json`` is imported in place (nothing is copied into this
project) with ``--format auto``; every response it holds goes through the full oracle
(grammar, conservation, rechunk invariance, errors stay errors) and the official
``anthropic`` SDK must accept the replay and accumulate the same message we do. The
manifest's ``streams`` column is the number of streamed responses per file: 144 in all,
143 translator inputs plus one Anthropic Messages stream kept as a reference for the
target format, which is checked directly against our grammar and the SDK.
"""

from __future__ import annotations

import functools
import json

import pytest
import yaml
from helpers import CORPUS, sdk_agrees, sdk_final_message

from recorder.capture import detect_format, import_file
from recorder.judge import check_cassette
from recorder.replay import replay
from recorder.tape import Cassette, CassetteError
from translator import DIALECTS, SSEDecoder, accumulate, stream_error, violations

MANIFEST = CORPUS / "manifest.json"
pytestmark = pytest.mark.skipif(
    not MANIFEST.is_file(),
    reason=f"the shared corpus is absent ({MANIFEST} not found): these tests read ../shared/corpus in place",
)
ENTRIES: list[dict] = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else []
EXPECTED_STREAMS = 144

# What ``--format auto`` must say for each ``wire`` description in the manifest.
WIRE_FORMATS = {
    "vcrpy YAML": "vcr",
    "go-vcr v2 YAML": "go-vcr",
    "JSONL: one SSE data payload per line": "chunks-jsonl",
    "JSON array of client-parsed chunk objects": "chunks-json",
    "llama-stack recording JSON": "llama-stack",
    "raw SSE text": "openai-sse",
}

ANTHROPIC_REFERENCE = "pydantic__pydantic-ai/test_anthropic_model_thinking_part_stream.yaml"

# Responses that are genuine upstream errors, read off the wire: the replay must end in an
# Anthropic ``error`` event of this type carrying the upstream message. Everything else must not.
UPSTREAM_ERRORS: dict[str, dict[int, tuple[str, str]]] = {
    # Groq: `event: error` + `data: {"error": {"type": "invalid_request_error", "code": "tool_use_failed"}}`
    # mid-stream, after the reasoning; no finish_reason, no [DONE]. Turns 1 and 2 are the retries that worked.
    "pydantic__pydantic-ai/test_tool_use_failed_error_streaming.yaml": {
        0: ("invalid_request_error", "Tool call validation failed"),
    },
    "pydantic__pydantic-ai/test_tool_use_failed_error_streaming_with_text.yaml": {
        0: ("invalid_request_error", "Tool choice is required, but model did not call a tool"),
    },
    # OpenRouter: a chunk with a top-level `error: {"code": 400, "message": "Token limit reached"}`
    # after `finish_reason: "length"`.
    "pydantic__pydantic-ai/test_openrouter_stream_error.yaml": {
        0: ("invalid_request_error", "Token limit reached"),
    },
}

# Corpus responses the translator gets wrong today: (file, interaction) -> the precise reason.
# Each is xfail(strict=True), so a fix makes the suite say so. None at the moment.
TRANSLATOR_BUGS: dict[tuple[str, int], str] = {}


def _expected_format(entry: dict) -> str:
    for prefix, fmt in WIRE_FORMATS.items():
        if entry["wire"].startswith(prefix):
            return fmt
    raise AssertionError(f"no expected format for wire {entry['wire']!r}")


@functools.cache
def _imported(local: str) -> Cassette:
    return import_file(CORPUS / "raw" / local)


def _responses() -> list:
    """One test per response in the corpus (streamed or not), the Anthropic reference included: it is a dialect."""
    params = []
    for entry in ENTRIES:
        local = entry["local"]
        for index in range(_count_interactions(local)):
            marks = []
            if (local, index) in TRANSLATOR_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=TRANSLATOR_BUGS[(local, index)]))
            params.append(pytest.param(local, index, id=f"{local}#{index}", marks=marks))
    return params or [pytest.param("", 0, id="no-corpus")]


def _count_interactions(local: str) -> int:
    try:
        return len(_imported(local).interactions)
    except CassetteError:
        return 1  # the import itself fails: one test that says so


@pytest.mark.parametrize("entry", ENTRIES or [None], ids=lambda e: e["local"] if e else "no-corpus")
def test_every_file_is_detected_and_imported(entry):
    path = CORPUS / "raw" / entry["local"]
    assert detect_format(path.read_bytes()) == _expected_format(entry)
    cassette = _imported(entry["local"])
    assert cassette.metadata.source == str(path)
    assert cassette.metadata.model
    streams = [i for i in cassette.interactions if i.response.is_stream]
    assert len(streams) == entry["streams"], "streamed responses differ from the manifest"
    assert {i.response.quirktape.dialect for i in cassette.interactions} <= {"openai", "gemini", "ollama", "anthropic"}
    if entry["local"] == ANTHROPIC_REFERENCE:
        assert cassette.metadata.request["messages"]  # the client's own request, kept


@pytest.mark.parametrize(("local", "index"), _responses())
def test_every_response_passes_the_oracle_and_the_official_sdk(local, index):
    interaction = _imported(local).interactions[index]
    dialect = interaction.response.quirktape.dialect
    if dialect not in DIALECTS:
        pytest.skip(f"the {dialect!r} translator dialect does not exist yet (translator.DIALECTS)")
    cassette = Cassette(interactions=[interaction], metadata=_imported(local).metadata)
    failures = [f"{c.invariant}: {'; '.join(c.details)}" for c in check_cassette(cassette) if c.ok is False]
    assert not failures, "\n".join(failures)
    events = replay(cassette).events
    error = stream_error(events)
    expected = UPSTREAM_ERRORS.get(local, {}).get(index)
    if expected:
        assert error is not None, "a genuine upstream error must end in an Anthropic error event"
        assert (error["type"], expected[1] in error["message"]) == (expected[0], True), error
    else:
        assert error is None, f"unexpected error event: {error}"
    sdk_agrees(events)


def test_the_anthropic_reference_stream_is_valid_target_format():
    """The one Anthropic Messages stream is not a translator input: it must satisfy our grammar and the SDK."""
    data = yaml.safe_load((CORPUS / "raw" / ANTHROPIC_REFERENCE).read_text())
    body = data["interactions"][0]["response"]["body"]["string"]
    events = [json.loads(payload) for _, payload in SSEDecoder().feed(body.encode())]
    assert events and violations(events) == []
    final = sdk_final_message(events)
    assert [b.type for b in final.content] == [b["type"] for b in accumulate(events)["content"]]
    assert "thinking" in [b.type for b in final.content]


def test_all_144_streamed_responses_are_covered():
    assert sum(entry["streams"] for entry in ENTRIES) == EXPECTED_STREAMS
    assert len(ENTRIES) == len([p for p in (CORPUS / "raw").rglob("*") if p.is_file()])
    streamed = sum(sum(i.response.is_stream for i in _imported(e["local"]).interactions) for e in ENTRIES)
    assert streamed == EXPECTED_STREAMS
