from hypothesis import given
from hypothesis import strategies as st

from translator import SSEDecoder, encode_sse


def decode(*pieces: bytes) -> list:
    d = SSEDecoder()
    out = []
    for p in pieces:
        out += d.feed(p)
    return out + d.close()


def test_line_endings_are_equivalent():
    lf = decode(b"data: a\n\ndata: b\n\n")
    assert lf == [(None, "a"), (None, "b")]
    assert decode(b"data: a\r\n\r\ndata: b\r\n\r\n") == lf
    assert decode(b"data: a\r\rdata: b\r\r") == lf


def test_cr_and_lf_split_across_pieces_are_one_line_end():
    assert decode(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == [(None, "a\nb")]


def test_comments_fields_and_spaces():
    body = b': OPENROUTER PROCESSING\n\nid: 7\nretry: 10\ndata:{"x":1}\n\ndata:  two spaces\n\n'
    assert decode(body) == [(None, '{"x":1}'), (None, " two spaces")]


def test_multiline_data_and_named_events():
    body = b'event: hermes.tool.progress\ndata: {"a":\ndata: 1}\n\nevent: error\ndata: {}\n\n'
    assert decode(body) == [("hermes.tool.progress", '{"a":\n1}'), ("error", "{}")]


def test_llama_cpp_error_field_becomes_an_error_event():
    assert decode(b'error: {"code":400}\n\ndata: [DONE]\n\n') == [("error", '{"code":400}'), (None, "[DONE]")]


def test_last_event_without_blank_line_is_delivered_at_eof():
    assert decode(b"data: a\n\ndata: b") == [(None, "a"), (None, "b")]
    assert decode(b"data: a\n\ndata: b\n") == [(None, "a"), (None, "b")]


def test_unicode_line_separators_inside_data_are_not_line_ends():
    body = 'data: {"t":"a\u2028b\u0085c"}\n\n'.encode()
    assert decode(body) == [(None, '{"t":"a\u2028b\u0085c"}')]


def test_utf8_character_split_across_pieces():
    body = "data: 你好😀\n\n".encode()
    for cut in range(len(body)):
        assert decode(body[:cut], body[cut:]) == [(None, "你好😀")]


def test_invalid_utf8_is_replaced_not_fatal():
    assert decode(b"data: a\xffb\n\n") == [(None, "a\ufffdb")]


@given(st.lists(st.integers(min_value=0, max_value=120), max_size=12))
def test_any_split_gives_the_same_events(cuts):
    body = "data: één\r\n\r\n: c\n\nevent: x\ndata: 1\ndata: 2\r\rdata:last".encode()
    points = sorted({c % (len(body) + 1) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0, *points], [*points, len(body)])]
    assert decode(*pieces) == decode(body)


def test_encode_sse_names_the_event_and_keeps_json_on_one_line():
    frame = encode_sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "a\nb"}})
    assert frame.startswith(b"event: content_block_delta\ndata: {")
    assert frame.endswith(b"}\n\n") and frame.count(b"\n") == 3
