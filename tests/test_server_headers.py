"""``serve`` and ``proxy`` send ``date`` and ``server`` once: the recorded upstream's when it sent them,
else quirktape's (uvicorn's own are off: beside the recorded ones a client saw two of each)."""

from __future__ import annotations

import httpx
from helpers import CASSETTES

from recorder.capture.proxy import proxy_app
from recorder.replay.asgi import running
from recorder.replay.serve import serve_app
from recorder.tape import load

VLLM = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"
RECORDED_DATE = "Tue, 03 Nov 2026 10:00:00 GMT"


def _with_upstream_headers():
    cassette = load(VLLM)
    for interaction in cassette.interactions:
        interaction.response.headers["date"] = [RECORDED_DATE]
        interaction.response.headers["server"] = ["uvicorn-vllm"]
    return cassette


def _post(url: str) -> httpx.Response:
    body = load(VLLM).interactions[0].request.body
    return httpx.post(f"{url}/v1/chat/completions", content=body, headers={"content-type": "application/json"})


def test_serve_sends_the_recorded_date_and_server_once():
    with running(serve_app(_with_upstream_headers())) as url:
        response = _post(url)
    assert response.status_code == 200
    assert response.headers.get_list("date") == [RECORDED_DATE]
    assert response.headers.get_list("server") == ["uvicorn-vllm"]


def test_serve_sends_its_own_date_and_server_once_when_none_was_recorded():
    cassette = load(VLLM)
    assert "date" not in cassette.interactions[0].response.headers
    with running(serve_app(cassette)) as url:
        response = _post(url)
    assert len(response.headers.get_list("date")) == 1
    assert response.headers.get_list("server") == ["quirktape"]


def test_proxy_passes_the_upstreams_date_and_server_once(tmp_path):
    with running(serve_app(_with_upstream_headers())) as upstream, running(proxy_app(upstream, tmp_path)) as proxy:
        response = _post(proxy)
    assert response.status_code == 200
    assert response.headers.get_list("date") == [RECORDED_DATE]
    assert response.headers.get_list("server") == ["uvicorn-vllm"]
