"""Citations are not lost: OpenAI/OpenRouter ``url_citation`` annotations, Perplexity's sources and Gemini's
grounding become ``citations`` on the text block, as Anthropic's ``web_search_result_location``.

Wire shapes: OpenRouter web search (annotations before the text, ``start_index``/``end_index`` 0 and the page
excerpt in ``content``: pydantic-ai's recorded ``test_openrouter_web_search_annotations_stream``); Perplexity's
``citations`` and ``search_results`` repeated on every chunk (vercel/ai ``perplexity-citations.chunks.txt``);
Gemini ``groundingMetadata`` (``groundingChunks[].web`` and ``groundingSupports[].segment``).
"""

from __future__ import annotations

import json

from helpers import chunk, sdk_final_message, sse

from recorder.judge import check_cassette
from recorder.tape import parse_cassette
from translator import accumulate, translate_stream


def _run(body: bytes, dialect: str = "openai") -> tuple[dict, list[dict]]:
    events, _ = translate_stream([body], dialect, ending="done")
    return accumulate(events), events


def _cite(url: str, title: str | None, text: str = "") -> dict:
    return {"type": "web_search_result_location", "url": url, "title": title, "encrypted_index": "", "cited_text": text}


def test_openrouter_annotations_before_the_text_cite_the_text_block():
    note = {
        "type": "url_citation",
        "url_citation": {
            "url": "https://ai.pydantic.dev",
            "title": "Pydantic AI",
            "start_index": 0,
            "end_index": 0,
            "content": "Agent framework",
        },
    }
    body = sse(
        chunk({"role": "assistant", "content": "", "annotations": [note]}),
        chunk({"content": "It is an agent framework."}),
        chunk({}, "stop"),
    )
    message, events = _run(body)
    assert message["content"] == [
        {
            "type": "text",
            "text": "It is an agent framework.",
            "citations": [_cite("https://ai.pydantic.dev", "Pydantic AI", "Agent framework")],
        }
    ]
    final = sdk_final_message(events)
    assert final.content[0].citations[0].url == "https://ai.pydantic.dev"


def test_perplexity_sources_are_cited_once_though_repeated_on_every_chunk():
    sources = {
        "citations": ["https://a.example", "https://b.example"],
        "search_results": [{"title": "A", "url": "https://a.example", "date": None}],
    }
    body = sse(
        chunk({"role": "assistant", "content": "Paris [1]"}, **sources),
        chunk({"content": " is big [2]."}, **sources),
        chunk({}, "stop", **sources),
    )
    message, _ = _run(body)
    assert message["content"][0]["citations"] == [_cite("https://a.example", "A"), _cite("https://b.example", None)]


def test_gemini_grounding_cites_each_supported_segment():
    payload = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "Spain won Euro 2024."}]},
                "finishReason": "STOP",
                "groundingMetadata": {
                    "webSearchQueries": ["euro 2024 winner"],
                    "groundingChunks": [{"web": {"uri": "https://uefa.example", "title": "uefa.com"}}],
                    "groundingSupports": [
                        {
                            "segment": {"startIndex": 0, "endIndex": 20, "text": "Spain won Euro 2024."},
                            "groundingChunkIndices": [0],
                        }
                    ],
                },
            }
        ],
        "modelVersion": "gemini-2.5-flash",
    }
    message, _ = _run(b"data: " + json.dumps(payload).encode() + b"\r\n\r\n", "gemini")
    assert message["content"][0]["citations"] == [_cite("https://uefa.example", "uefa.com", "Spain won Euro 2024.")]


def test_a_translator_that_drops_citations_fails_conservation():
    sources = {"citations": ["https://a.example"]}
    body = sse(chunk({"role": "assistant", "content": "Paris [1]"}, **sources), chunk({}, "stop"))
    data = {
        "interactions": [
            {
                "request": {"method": "POST", "uri": "http://127.0.0.1/v1/chat/completions", "body": ""},
                "response": {
                    "status": {"code": 200},
                    "body": {"string": body.decode()},
                    "quirktape": {"dialect": "openai", "stream": True},
                },
            }
        ]
    }

    def uncited(pieces, dialect, **kw):
        events, _ = translate_stream(pieces, dialect, **kw)
        return [e for e in events if (e.get("delta") or {}).get("type") != "citations_delta"], None

    checks = {c.invariant: c for c in check_cassette(parse_cassette(data), uncited)}
    assert [(f.category, f.kind) for f in checks["conservation"].findings] == [("data", "citation_lost")]
    assert {c.invariant: c for c in check_cassette(parse_cassette(data))}["conservation"].ok is True


def test_gemini_recitation_sources_are_cited_and_read():
    """citationMetadata (RECITATION sources): cited, so coverage has nothing left unread."""
    from recorder.judge import check_cassette

    payload = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "To be, or not to be."}]},
                "finishReason": "STOP",
                "citationMetadata": {"citations": [{"startIndex": 0, "endIndex": 20, "uri": "https://poem.example"}]},
            }
        ],
        "modelVersion": "gemini-2.5-flash",
    }
    body = b"data: " + json.dumps(payload).encode() + b"\r\n\r\n"
    message, _ = _run(body, "gemini")
    assert message["content"][0]["citations"] == [_cite("https://poem.example", None)]
    data = {
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": "http://127.0.0.1/v1beta/models/m:streamGenerateContent?alt=sse",
                    "body": "",
                },
                "response": {
                    "status": {"code": 200},
                    "body": {"string": body.decode()},
                    "quirktape": {"dialect": "gemini", "stream": True},
                },
            }
        ]
    }
    assert {c.invariant: c for c in check_cassette(parse_cassette(data))}["coverage"].status == "ok"
