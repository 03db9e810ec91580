import json

import httpx
import pytest
import yaml
from helpers import cassette_paths

from recorder.tape import Cassette, CassetteError, dumps, load, parse_cassette, save

MINIMAL = {
    "version": 1,
    "interactions": [
        {
            "request": {"method": "POST", "uri": "http://127.0.0.1:9/v1/chat/completions", "body": "", "headers": {}},
            "response": {
                "status": {"code": 200, "message": "OK"},
                "headers": {},
                "body": {"string": "data: [DONE]\n\n"},
            },
        }
    ],
}


def write(tmp_path, text, name="c.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("just: [unclosed", "not valid YAML"),
        ("- a list", "not a cassette"),
        (json.dumps({"interactions": []}), "at least one interaction"),
        (
            json.dumps(
                {
                    **MINIMAL,
                    "interactions": [
                        {
                            **MINIMAL["interactions"][0],
                            "request": {"method": "GET", "uri": "x", "body": "", "headers": {}, "extra": 1},
                        }
                    ],
                }
            ),
            "extra",
        ),
        (
            yaml.safe_dump(
                {
                    **MINIMAL,
                    "interactions": [
                        {
                            **MINIMAL["interactions"][0],
                            "response": {
                                **MINIMAL["interactions"][0]["response"],
                                "headers": {"content-type": "text/plain"},
                            },
                        }
                    ],
                }
            ),
            "headers",
        ),
        (
            yaml.safe_dump(
                {
                    **MINIMAL,
                    "interactions": [
                        {
                            **MINIMAL["interactions"][0],
                            "response": {**MINIMAL["interactions"][0]["response"], "quirktape": {"offsets": [0, 99]}},
                        }
                    ],
                }
            ),
            "offset",
        ),
    ],
)
def test_malformed_files_are_rejected_with_one_line(tmp_path, text, fragment):
    with pytest.raises(CassetteError) as info:
        load(write(tmp_path, text))
    message = str(info.value)
    assert fragment in message and "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(CassetteError, match="no such file"):
        load(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "body",
    [
        "data: a\r\n\r\ndata: b\r\n\r\n",
        'data: {"t": "ünïcödé \u2028 😀"}\n\n',
        "trailing spaces   \n\n  leading\n",
        "no newline at all",
        b"data: \xff\xfe broken utf-8\n\n",
    ],
)
def test_save_and_load_keep_the_body_exactly(tmp_path, body):
    data = json.loads(json.dumps(MINIMAL))
    cassette = parse_cassette(data)
    cassette.interactions[0].response.body.string = body
    path = tmp_path / "c.yaml"
    save(cassette, path)
    assert load(path).interactions[0].response.body.string == body
    assert path.read_bytes().isascii()


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    save(parse_cassette(MINIMAL), path)
    before = path.read_bytes()

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    import recorder.tape.cassette as module

    monkeypatch.setattr(module.os, "replace", broken_write)
    with pytest.raises(OSError):
        save(parse_cassette({**MINIMAL, "metadata": {"title": "new"}}), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]


def test_dump_is_stable():
    cassette = parse_cassette(MINIMAL)
    assert dumps(parse_cassette(yaml.safe_load(dumps(cassette)))) == dumps(cassette)


@pytest.mark.parametrize("path", cassette_paths(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_stock_vcrpy_replays_each_bundled_cassette_to_httpx(path):
    vcr = pytest.importorskip("vcr")
    cassette: Cassette = load(path)
    first = cassette.interactions[0]
    recorder = vcr.VCR(record_mode="none")
    with recorder.use_cassette(str(path)):
        with httpx.Client() as client:
            response = client.request(first.request.method, first.request.uri, content=first.request.body or b"")
    assert response.status_code == first.response.status.code
    assert response.content == first.response.raw


def test_saved_files_get_ordinary_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        save(parse_cassette(MINIMAL), tmp_path / "c.yaml")
    finally:
        os.umask(umask)
    assert (tmp_path / "c.yaml").stat().st_mode & 0o777 == 0o644


def test_save_expect_touches_only_the_expect_block(tmp_path):
    from helpers import CASSETTES

    from recorder.tape import save_expect

    source = CASSETTES / "openai" / "mix-01-text-then-tool.yaml"
    path = tmp_path / "c.yaml"
    path.write_text(source.read_text())
    cassette = load(path)
    cassette.metadata.expect.stop_reason = "max_tokens"
    save_expect(path, cassette)
    before, after = source.read_text().splitlines(), path.read_text().splitlines()
    head = before.index("  expect:")
    assert after[:head] == before[:head]  # everything before the expectation is byte-identical
    assert load(path).metadata.expect.stop_reason == "max_tokens"
    assert dumps(load(path)) == dumps(cassette)
