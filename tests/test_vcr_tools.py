"""Stock vcrpy and its pytest front-ends load and replay quirktape cassettes, and what they cannot replay.

A quirktape cassette is a vcrpy cassette: ``version`` and ``interactions`` at the top, everything quirktape
adds (read boundaries, timing, the ending, the dialect, and the cassette's metadata on the first interaction)
inside ``response.quirktape``, which vcrpy keeps without reading. A top-level ``metadata`` would make vcrpy 9.4's
``deserialize`` return a third value, which pytest-recording 0.14.1 cannot unpack: every cassette of the old
shape fails there, and these tests show it.

pytest-recording and pytest-vcr refuse to be installed together and stay out of the test venv, so each runs
in a virtual environment of its own (``helpers.side_venv``), on a generated test module, in a subprocess.
vcrpy itself is in the test extra: the in-process tests below run against the installed release, and the
claims of ``cassettes/README.md`` ("What vcrpy can and cannot replay") are the ones shown here.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
import vcr
import yaml
from helpers import CASSETTES, SIDE_VENV_FAILURES, cassette_paths, side_venv
from vcr.persisters.filesystem import FilesystemPersister
from vcr.serializers import yamlserializer

from recorder.replay import ReplayTransport
from recorder.tape import Cassette, Metadata, dumps, load

VCRPY = "9.4.2"
PYTEST_RECORDING = "0.14.1"
PYTEST_VCR = "1.0.2"
HTTPX = "0.28.1"
PYTEST = "9.2.0"  # the side venvs run the pytest the test venv has

OPENAI_STREAM = CASSETTES / "openai" / "sse-08-utf8-split-across-reads.yaml"  # six reads, UTF-8 split between two
GEMINI = CASSETTES / "gemini" / "gem-01-thought-parts.yaml"
SEVERAL = CASSETTES / "openai" / "mix-01-text-then-tool.yaml"  # a stream and its non-streaming twin, one URL
RESET = CASSETTES / "groq" / "err-06-connection-reset-mid-stream.yaml"
STALLED = CASSETTES / "deepseek" / "fin-05-stall-mid-reasoning-timeout.yaml"  # the upstream went silent: timeout
PACED = CASSETTES / "vertex-openai" / "sse-03-keepalive-as-data.yaml"  # five reads over 42 recorded seconds
WRITTEN = CASSETTES / "azure" / "env-01-prompt-filter-first-chunk.yaml"


def old_shape(path: Path) -> str:
    """The cassette as quirktape wrote it before: its metadata at the top level, not in the first response."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    metadata = data["interactions"][0]["response"]["quirktape"].pop("metadata")
    return yaml.safe_dump({**data, "metadata": metadata}, sort_keys=False)


def _calls(cassette: Cassette, order: list[int] | None = None) -> list[dict]:
    """What a client sends (each recorded request) and must get back (the recorded status and body bytes)."""
    out = []
    for n in order if order is not None else range(len(cassette.interactions)):
        interaction = cassette.interactions[n]
        body = interaction.request.body or ""
        out.append(
            {
                "method": interaction.request.method,
                "uri": interaction.request.uri,
                "body": body if isinstance(body, str) else body.decode("utf-8"),
                "status": interaction.response.status.code,
                "body_b64": base64.b64encode(interaction.response.raw).decode("ascii"),
            }
        )
    return out


# -- pytest-recording and pytest-vcr, each in a virtual environment of its own ------------------------------------

CASES = {
    # test name: (bundled cassette, its text as bundled / as quirktape writes it / in the old shape, the order the
    # client sends the recorded requests in)
    "test_openai_stream": (OPENAI_STREAM, "bundled", None),
    "test_gemini_stream": (GEMINI, "bundled", None),
    "test_several_interactions": (SEVERAL, "bundled", [1, 0]),  # the twin first: the body matcher picks each one
    "test_written_by_quirktape": (WRITTEN, "written", None),
    "test_old_shape": (SEVERAL, "old", [1, 0]),
}


def _text(path: Path, shape: str) -> str:
    if shape == "old":
        return old_shape(path)
    if shape == "written":
        text = dumps(load(path))
        assert text.endswith("\n\n...\n")  # a |+ body ends the document: YAML's document-end marker follows
        return text
    return path.read_text()


CLIENT = """
import base64
import json
import pathlib

import httpx
import pytest

HERE = pathlib.Path(__file__).parent
CALLS = json.loads((HERE / "calls.json").read_text())


@pytest.fixture(scope="module")
def vcr_cassette_dir():
    return str(HERE / "cassettes")


@pytest.fixture(scope="module")
def vcr_config():
    return {"record_mode": "none"}


def replay(name):
    with httpx.Client() as client:
        for call in CALLS[name]:
            response = client.request(call["method"], call["uri"], content=call["body"].encode("utf-8"))
            assert response.status_code == call["status"]
            assert response.content == base64.b64decode(call["body_b64"])
"""

MATCH = 'match_on=["method", "scheme", "host", "port", "path", "query", "body"]'


def _front_end(name: str, plugin: str, version: str) -> Path:
    home = side_venv(name, [f"vcrpy=={VCRPY}", f"{plugin}=={version}", f"httpx=={HTTPX}", f"pytest=={PYTEST}"])
    if home is None:
        pytest.skip(
            f"{plugin}=={version} could not be installed from the package index: {SIDE_VENV_FAILURES.get(name)}"
        )
    return home


@pytest.fixture(scope="module")
def pytest_recording() -> Path:
    return _front_end(f"pytest-recording-{PYTEST_RECORDING}", "pytest-recording", PYTEST_RECORDING)


@pytest.fixture(scope="module")
def pytest_vcr() -> Path:
    return _front_end(f"pytest-vcr-{PYTEST_VCR}", "pytest-vcr", PYTEST_VCR)


def _run(home: Path, where: Path, module: str, *args: str) -> dict[str, str]:
    """Run the generated ``module`` with the side venv's pytest: each test's outcome, and its failure message."""
    (where / "pytest.ini").write_text("[pytest]\n")
    (where / "calls.json").write_text(
        json.dumps({name: _calls(load(path), order) for name, (path, _, order) in CASES.items()})
    )
    (where / "test_client.py").write_text(CLIENT + module)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
    done = subprocess.run(
        [str(home / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", "--junitxml=report.xml", *args],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (where / "report.xml").exists(), done.stdout + done.stderr
    outcomes = {}
    for case in ET.parse(where / "report.xml").getroot().iter("testcase"):
        problems = [case.find(kind) for kind in ("failure", "error", "skipped")]
        problem = next((p for p in problems if p is not None), None)
        outcomes[case.get("name")] = "passed" if problem is None else problem.get("message", problem.tag)
    return outcomes


def test_pytest_recording_replays_quirktape_cassettes_and_not_the_old_shape(pytest_recording, tmp_path):
    """The marker form of issue 14: ``@pytest.mark.vcr("x.yaml")`` loads the cassette through CombinedPersister,
    which unpacks two values; an old-shape cassette (top-level ``metadata``) gives it three."""
    (tmp_path / "cassettes").mkdir()
    module = ""
    for name, (path, shape, _) in CASES.items():
        (tmp_path / "cassettes" / f"{name}.yaml").write_text(_text(path, shape))
        module += f'\n\n@pytest.mark.vcr("{name}.yaml", {MATCH})\ndef {name}():\n    replay("{name}")\n'
    outcomes = _run(pytest_recording, tmp_path, module, "--block-network")
    assert outcomes == {
        "test_openai_stream": "passed",
        "test_gemini_stream": "passed",
        "test_several_interactions": "passed",
        "test_written_by_quirktape": "passed",
        "test_old_shape": 'failed on setup with "ValueError: too many values to unpack (expected 2)"',
    }


def test_pytest_vcr_replays_quirktape_cassettes_old_shape_too(pytest_vcr, tmp_path):
    """pytest-vcr hands the cassette to vcrpy's own persister, which takes the third value: both shapes load."""
    (tmp_path / "cassettes").mkdir()
    module = ""
    for name, (path, shape, _) in CASES.items():
        (tmp_path / "cassettes" / f"{name}.yaml").write_text(_text(path, shape))
        module += f'\n\n@pytest.mark.vcr({MATCH})\ndef {name}():\n    replay("{name}")\n'
    assert _run(pytest_vcr, tmp_path, module) == dict.fromkeys(CASES, "passed")


# -- vcrpy itself, in process ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", cassette_paths(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_vcrpy_loads_every_bundled_cassette_as_two_values(path):
    """Two values, the only form pytest-recording unpacks: no top-level ``metadata``; the bodies are the bytes
    quirktape reads, and the first response carries the cassette's metadata where vcrpy keeps it."""
    loaded = FilesystemPersister.load_cassette(path, yamlserializer)
    assert len(loaded) == 2
    requests, responses = loaded
    cassette = load(path)
    assert len(requests) == len(responses) == len(cassette.interactions)
    for request, response, interaction in zip(requests, responses, cassette.interactions):
        assert (request.method, request.uri) == (interaction.request.method, interaction.request.uri)
        assert response["body"]["string"] == interaction.response.raw
        assert response["status"]["code"] == interaction.response.status.code
    assert Metadata.model_validate(responses[0]["quirktape"]["metadata"]) == cassette.metadata
    assert cassette.metadata.title
    assert all("metadata" not in response["quirktape"] for response in responses[1:])


def test_vcrpy_replays_a_streaming_cassette_through_httpx():
    cassette = load(OPENAI_STREAM)
    interaction = cassette.interactions[0]
    with vcr.VCR(record_mode="none").use_cassette(str(OPENAI_STREAM)), httpx.Client() as client:
        request = client.build_request("POST", interaction.request.uri, content=interaction.request.body.encode())
        response = client.send(request, stream=True)
        body = b"".join(response.iter_bytes())
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert body == interaction.response.raw and not body.isascii()  # escaped in the YAML, the bytes exact


def _mock() -> httpx.Client:
    """A client whose transport answers without a network; vcrpy records what it answers like any transport's."""
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(201, text="new")))


@pytest.mark.parametrize("mode", ["new_episodes", "all"])
def test_a_vcrpy_resave_keeps_the_quirktape_data_and_the_metadata(tmp_path, mode):
    """vcrpy re-serialises each response mapping whole (keys sorted): ``response.quirktape`` survives a save,
    the metadata with it, and quirktape reads the re-saved file as it read the original."""
    path = tmp_path / "c.yaml"
    shutil.copy(SEVERAL, path)
    original = load(SEVERAL)
    with vcr.VCR(record_mode=mode).use_cassette(str(path)), _mock() as client:
        assert client.get("http://127.0.0.1:9/extra").status_code == 201  # recorded: the cassette is saved
    saved = yaml.safe_load(path.read_text())
    assert list(saved) == ["interactions", "version"]  # vcrpy's save: keys sorted, no top-level metadata
    assert [list(i["response"]) for i in saved["interactions"]] == [
        ["body", "headers", "quirktape", "status"],
        ["body", "headers", "quirktape", "status"],
        ["body", "headers", "status"],  # what vcrpy recorded itself
    ]
    again = load(path)
    assert again.metadata == original.metadata and again.metadata.expect is not None
    assert again.interactions[:2] == original.interactions
    assert again.interactions[2].response.raw == b"new" and again.interactions[2].response.status.code == 201
    assert len(FilesystemPersister.load_cassette(path, yamlserializer)) == 2


def test_rerecording_the_first_interaction_drops_the_metadata_with_it(tmp_path):
    """The one way vcrpy loses it: ``record_mode="all"`` replaces a response it records again, and the
    metadata rides on the first one. (pytest-recording's ``rewrite`` deletes the whole file first.)"""
    path = tmp_path / "c.yaml"
    shutil.copy(GEMINI, path)
    interaction = load(GEMINI).interactions[0]
    with vcr.VCR(record_mode="all").use_cassette(str(path)), _mock() as client:
        client.post(interaction.request.uri, content=interaction.request.body.encode())
    assert load(path).metadata.title == ""


# -- what vcrpy cannot replay (cassettes/README.md) ----------------------------------------------------------------


def _vcrpy_stream(path: Path, request_body: str, **config) -> tuple[httpx.Response, list[bytes]]:
    cassette = load(path)
    uri = cassette.interactions[0].request.uri
    with vcr.VCR(record_mode="none", **config).use_cassette(str(path)), httpx.Client() as client:
        response = client.send(client.build_request("POST", uri, content=request_body.encode()), stream=True)
        return response, list(response.iter_raw())


@pytest.mark.parametrize(("path", "ending"), [(RESET, httpx.RemoteProtocolError), (STALLED, httpx.ReadTimeout)])
def test_a_broken_stream_replays_as_a_clean_200_in_vcrpy_and_broken_in_quirktape(path, ending):
    interaction = load(path).interactions[0]
    assert interaction.response.quirktape.ending != "done"
    response, reads = _vcrpy_stream(path, interaction.request.body)
    assert response.status_code == 200 and b"".join(reads) == interaction.response.raw  # and no error at all
    got = []
    with httpx.Client(transport=ReplayTransport(path)) as client:
        with client.stream("POST", interaction.request.uri, content=interaction.request.body.encode()) as ours:
            with pytest.raises(ending):
                for piece in ours.iter_raw():
                    got.append(piece)
    assert b"".join(got) == interaction.response.raw  # every byte, then the reset or the timeout


def test_without_the_body_matcher_a_non_streaming_twin_gets_the_stream():
    stream, twin = load(SEVERAL).interactions
    assert stream.request.uri == twin.request.uri and twin.response.quirktape.stream is False
    response, reads = _vcrpy_stream(SEVERAL, twin.request.body)  # vcrpy's default match: method and URL
    assert b"".join(reads) == stream.response.raw
    response, reads = _vcrpy_stream(SEVERAL, twin.request.body, match_on=["method", "uri", "body"])
    assert b"".join(reads) == twin.response.raw and json.loads(b"".join(reads))["object"] == "chat.completion"


@pytest.mark.parametrize("path", [OPENAI_STREAM, PACED], ids=lambda p: p.stem)
def test_vcrpy_gives_the_whole_body_in_one_read(path):
    """The upstream's reads (a UTF-8 character split between two of them, in ``OPENAI_STREAM``) reach a
    vcrpy client as one; quirktape's transport gives them as recorded."""
    interaction = load(path).interactions[0]
    offsets, raw = interaction.response.quirktape.offsets, interaction.response.raw
    assert len(offsets) >= 5
    _, reads = _vcrpy_stream(path, interaction.request.body)
    assert reads == [raw]
    with httpx.Client(transport=ReplayTransport(path)) as client:
        with client.stream("POST", interaction.request.uri, content=interaction.request.body.encode()) as ours:
            pieces = list(ours.iter_raw())
    assert pieces == [raw[a:b] for a, b in zip(offsets, [*offsets[1:], len(raw)])]


def test_vcrpy_keeps_no_pace():
    interaction = load(PACED).interactions[0]
    t_ms = interaction.response.quirktape.t_ms
    assert t_ms[-1] > 40_000
    start = time.monotonic()
    response, reads = _vcrpy_stream(PACED, interaction.request.body)
    assert b"".join(reads) == interaction.response.raw
    assert time.monotonic() - start < t_ms[-1] / 1000  # the 42 recorded seconds are not waited for
