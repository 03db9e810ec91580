import pytest

from recorder.replay import rechunk
from recorder.tape import CassetteError

BODY = "data: a\n\ndata: ü\r\n\r\ndata: [DONE]\n\n".encode()


@pytest.mark.parametrize("strategy", ["recorded", "bytes", "lines", "random:1", "random:99"])
def test_every_strategy_keeps_every_byte(strategy):
    assert b"".join(rechunk(BODY, strategy, [0, 5, 11])) == BODY


def test_recorded_uses_the_offsets():
    assert rechunk(BODY, "recorded", [0, 5, 11]) == [BODY[:5], BODY[5:11], BODY[11:]]
    assert rechunk(BODY, "recorded", None) == [BODY]


def test_bytes_and_lines():
    assert all(len(p) == 1 for p in rechunk(BODY, "bytes"))
    lines = rechunk(BODY, "lines")
    assert all(p.endswith(b"\n") for p in lines)
    assert lines[0] == b"data: a\n"


def test_random_is_seeded_and_splits_utf8_sometimes():
    assert rechunk(BODY * 20, "random:7") == rechunk(BODY * 20, "random:7")
    assert rechunk(BODY * 20, "random:7") != rechunk(BODY * 20, "random:8")


@pytest.mark.parametrize("strategy", ["random:x", "halves", ""])
def test_bad_strategies_are_input_errors(strategy):
    with pytest.raises(CassetteError):
        rechunk(BODY, strategy)
