"""The gauntlet judges any gateway as a black box: quirktape's own gateway is green, real LiteLLM is not.

The LiteLLM proxy is the real release from PyPI, installed by this test into a virtual environment of its
own (cached between runs), started by the gauntlet, offline on loopback.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from helpers import CASSETTES, SIDE_VENV_FAILURES, run_cli, side_venv

from recorder.judge.gauntlet import Upstream, cases, changes, litellm_config

TEXT = CASSETTES / "vllm" / "report-empty-tool-calls-text-lost.yaml"
PARALLEL = CASSETTES / "mlx-lm" / "report-parallel-tool-calls-one-delta.yaml"
GEMINI = CASSETTES / "gemini" / "report-25390-gemma-echo-arg.yaml"
LITELLM = "1.85.0"


def _library(tmp_path: Path, *paths: Path) -> Path:
    for path in paths:
        (tmp_path / "lib" / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, tmp_path / "lib" / path.parent.name / path.name)
    return tmp_path / "lib"


def _quirktape() -> str:
    return f"{shlex.quote(sys.executable)} -c 'from recorder.cli import main; main()'"


def _kinds(doc: dict, route: str, invariant: str) -> set[str]:
    case = next(c for c in doc["cases"] if c["route"] == route)
    check = next(c for c in case["checks"] if c["invariant"] == invariant)
    return {f["kind"] for f in check["findings"] if not f["warn"]}


def test_routes_and_the_litellm_config(tmp_path, monkeypatch, capsysbinary):
    found = cases([str(_library(tmp_path, TEXT, GEMINI))])
    assert [c.route for c in found] == ["gemini.report-25390-gemma-echo-arg", "vllm.report-empty-tool-calls-text-lost"]
    upstream = Upstream(found)
    assert upstream.route_of("/vllm.report-empty-tool-calls-text-lost/v1/chat/completions", None) == found[1].route
    assert upstream.route_of("/v1/chat/completions", {"model": found[1].route}) == found[1].route
    assert upstream.route_of(f"/v1beta/models/{found[0].route}:streamGenerateContent", None) == found[0].route
    assert upstream.route_of("/v1/chat/completions", {"model": "other"}) is None
    config = litellm_config(found, "http://127.0.0.1:9")
    models = {m["model_name"]: m["litellm_params"] for m in config["model_list"]}
    assert models[found[1].route]["model"] == f"hosted_vllm/{found[1].route}"  # chat completions, not Responses
    assert models[found[0].route]["model"] == f"gemini/{found[0].route}"
    out = tmp_path / "litellm.yaml"
    args = ("gauntlet", tmp_path / "lib", "--litellm-config", out, "--upstream-url", "http://127.0.0.1:9")
    code, _, err = run_cli(monkeypatch, capsysbinary, *args)
    assert code == 0 and yaml.safe_load(out.read_text()) == config, err


def test_quirktape_gateway_passes_the_gauntlet(tmp_path, monkeypatch, capsysbinary):
    library = _library(tmp_path, TEXT, PARALLEL, GEMINI, CASSETTES / "openai" / "mix-01-text-then-tool.yaml")
    command = (
        f"{_quirktape()} gateway --upstream {{upstream}}/v1 --dialect {{dialect}} --port {{port}} -o {tmp_path}/rec"
    )
    out = tmp_path / "out"
    code, text, err = run_cli(
        monkeypatch, capsysbinary, "gauntlet", library, "--gateway-cmd", command, "-o", out, "--json"
    )
    doc = json.loads(text)
    assert code == 0, [(c["route"], k["invariant"], k["findings"]) for c in doc["cases"] for k in c["checks"]]
    assert doc["failed"] == 0 and doc["passed"] >= 4 * 7
    for case in doc["cases"]:
        statuses = {c["invariant"]: c["status"] for c in case["checks"]}
        assert statuses["conservation"] == "ok" and statuses["upstream"] == "ok" and statuses["rechunk"] == "ok"
        assert [c["stream"] for c in case["upstream_calls"]][:1] == [True]
    assert (out / "outputs" / "vllm.report-empty-tool-calls-text-lost.stream.sse").read_bytes().startswith(b"event:")
    recorded = sorted((tmp_path / "rec").glob("*.yaml"))
    assert recorded  # the gateway under test recorded its exchanges as cassettes too
    code, _, err = run_cli(monkeypatch, capsysbinary, "check", *recorded)
    assert code == 0, err
    baseline = json.loads((out / "gauntlet.json").read_text())
    assert changes(doc, baseline) == []
    worse = json.loads(json.dumps(doc))
    worse["cases"][0]["checks"][3]["status"] = "FAIL"
    assert changes(worse, baseline) == [f"{doc['cases'][0]['route']}: conservation ok -> FAIL"]


def test_a_gateway_that_never_listens_is_a_clear_error(tmp_path, monkeypatch, capsysbinary):
    args = ("gauntlet", TEXT, "--gateway-cmd", f"{shlex.quote(sys.executable)} -c 'raise SystemExit(3)'")
    code, _, err = run_cli(monkeypatch, capsysbinary, *args)
    assert code == 2 and err.count("\n") == 1 and "exited with 3 before it listened" in err


# -- the real LiteLLM proxy -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def litellm() -> Path:
    """``litellm`` from PyPI in a virtual environment of its own (``side_venv``)."""
    home = side_venv(f"litellm-{LITELLM}", [f"litellm[proxy]=={LITELLM}"])
    if home is None:
        why = SIDE_VENV_FAILURES.get(f"litellm-{LITELLM}", "")
        pytest.skip(f"litellm[proxy]=={LITELLM} could not be installed from the package index: {why}")
    return home / "bin" / "litellm"


def test_the_gauntlet_finds_the_reported_bugs_in_real_litellm(litellm, tmp_path, monkeypatch, capsysbinary):
    library = _library(tmp_path, TEXT, PARALLEL)
    command = (
        f"env LITELLM_LOCAL_MODEL_COST_MAP=True {litellm} --config {{litellm_config}} --port {{port}} --host 127.0.0.1"
    )
    code, text, _ = run_cli(monkeypatch, capsysbinary, "gauntlet", library, "--gateway-cmd", command, "--json")
    doc = json.loads(text)
    assert code == 1
    assert "text_lost" in _kinds(doc, "vllm.report-empty-tool-calls-text-lost", "conservation")
    assert "call_lost" in _kinds(doc, "mlx-lm.report-parallel-tool-calls-one-delta", "conservation")
    for case in doc["cases"]:
        upstream = next(c for c in case["checks"] if c["invariant"] == "upstream")
        assert upstream["status"] == "ok"  # LiteLLM reached the recorded exchange: the verdict is on its translation


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--gateway-cmd", "gateway 'unclosed"), "--gateway-cmd cannot be split into words"),
        (("--gateway", "http://127.0.0.1:1"), "cannot reach the gateway at http://127.0.0.1:1"),
    ],
)
def test_a_bad_gateway_is_bad_usage_not_a_verdict(monkeypatch, capsysbinary, args, said):
    code, out, err = run_cli(monkeypatch, capsysbinary, "gauntlet", TEXT, *args)
    assert code == 2 and err.count("\n") == 1 and said in err and out == ""


def test_other_braces_in_the_gateway_command_stay_as_they_are():
    from recorder.judge.gauntlet import gateway_argv

    argv = gateway_argv("gw --port {port} --extra '{\"a\": 1}'", {"port": "9"})
    assert argv == ["gw", "--port", "9", "--extra", '{"a": 1}']
