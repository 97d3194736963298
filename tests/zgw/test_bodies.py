"""zgw.bodies: one reader for request bodies and remote answers (framing, size, time, JSON)."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from zgw.bodies import (
    DEFAULT_MAX_DEPTH,
    LATE_ANSWER_TIMEOUT,
    BodyError,
    as_api_error,
    parse_json,
    read_request_body,
    read_response_body,
    response_json,
)
from zgw.errors import ValidationFailed


def _refusal(raw: bytes | str, **kwargs: Any) -> BodyError:
    with pytest.raises(BodyError) as raised:
        parse_json(raw, **kwargs)
    return raised.value


# -- JSON -------------------------------------------------------------------------------------


def test_json_nested_500_deep_is_refused_by_the_depth_limit() -> None:
    error = _refusal(b"[" * 500 + b"]" * 500)
    assert (error.status, error.code) == (400, "parse_error")
    assert f"deeper than {DEFAULT_MAX_DEPTH} levels" in error.detail


def test_json_at_the_depth_limit_is_accepted() -> None:
    value = parse_json(b"[" * DEFAULT_MAX_DEPTH + b"]" * DEFAULT_MAX_DEPTH)
    assert isinstance(value, list)
    assert "deeper" in _refusal(b'{"a": ' * 3 + b"1" + b"}" * 3, max_depth=2).detail


def test_json_too_deep_for_the_parser_itself_is_refused_too() -> None:
    assert "deeper than" in _refusal(b"[" * 100_000).detail


@pytest.mark.parametrize(
    ("raw", "place"),
    [
        (rb'{"verzoek": {"identificatie": "\ud800"}}', "At verzoek.identificatie,"),
        (rb'{"producten": [{"code": "ok"}, {"code": "x\udfffy"}]}', "At producten[1].code,"),
        (rb'{"a": {"\udc00": 1}}', "At a, the request body has a key with"),
        (rb'"\ud800"', "The request body has"),
    ],
)
def test_lone_surrogates_are_refused_with_their_place(raw: bytes, place: str) -> None:
    error = _refusal(raw)
    assert error.detail.startswith(place) and "lone surrogate" in error.detail


def test_a_surrogate_pair_is_ordinary_text() -> None:
    assert parse_json(rb'{"naam": "\ud83d\ude00"}') == {"naam": "\U0001f600"}


@pytest.mark.parametrize("raw", [b"NaN", b"[Infinity]", b'{"a": -Infinity}', b"1e400"])
def test_numbers_json_cannot_carry_are_refused(raw: bytes) -> None:
    assert _refusal(raw).code == "parse_error"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b"{not json", "not valid JSON"),
        (b"\xff", "utf-8"),
    ],
)
def test_malformed_bodies_say_what_is_wrong(raw: bytes, words: str) -> None:
    assert words in _refusal(raw).detail


def test_the_caller_names_what_it_parsed() -> None:
    assert _refusal(b"{", what="The KIC's answer").detail.startswith("The KIC's answer")


def test_content_errors_become_a_validatiefout_and_others_a_fout() -> None:
    content = as_api_error(_refusal(b"[" * 500))
    assert isinstance(content, ValidationFailed) and content.status == 400
    assert [(p.name, p.code) for p in content.invalid_params] == [("nonFieldErrors", "parse_error")]
    late = as_api_error(BodyError(408, "request_timeout", "late"))
    assert not isinstance(late, ValidationFailed) and (late.status, late.code) == (
        408,
        "request_timeout",
    )


# -- request bodies ---------------------------------------------------------------------------


def _env(body: bytes, **headers: str) -> dict[str, Any]:
    env: dict[str, Any] = {"wsgi.input": io.BufferedReader(io.BytesIO(body))}
    for name, value in headers.items():
        env[name] = value
    return env


def _read_refusal(env: dict[str, Any], **kwargs: Any) -> BodyError:
    with pytest.raises(BodyError) as raised:
        read_request_body(env, **kwargs)
    return raised.value


def test_a_body_with_content_length_is_read_exactly() -> None:
    env = _env(b'{"a": 1}trailing garbage', CONTENT_LENGTH="8")
    assert read_request_body(env) == b'{"a": 1}'


def test_a_body_shorter_than_its_content_length_is_refused() -> None:
    error = _read_refusal(_env(b'{"a"', CONTENT_LENGTH="100"))
    assert error.status == 400 and "ended after 4 of the 100 bytes" in error.detail


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    env = _env(b"", CONTENT_LENGTH="6000000")
    assert _read_refusal(env, max_bytes=5_000_000).status == 413


@pytest.mark.parametrize("value", ["-1", "12abc", "١٢"])
def test_a_content_length_that_is_no_byte_count_is_refused(value: str) -> None:
    assert _read_refusal(_env(b"", CONTENT_LENGTH=value)).status == 400


def test_a_request_without_length_or_chunking_has_no_body() -> None:
    assert read_request_body(_env(b"ignored")) == b""


CHUNKED = b"5;ext=1\r\n" + b'{"a":' + b"\r\n" + b"3\r\n 1}\r\n" + b"0\r\nX-Trailer: y\r\n\r\n"


def test_a_chunked_body_from_a_server_that_leaves_the_framing_is_decoded() -> None:
    env = _env(CHUNKED + b"NEXT REQUEST", HTTP_TRANSFER_ENCODING="chunked")
    assert read_request_body(env) == b'{"a": 1}'
    assert env["wsgi.input"].read() == b"NEXT REQUEST"  # nothing read past the body


def test_a_chunked_body_the_server_decoded_is_read_to_its_end() -> None:
    env = _env(b'{"a": 1}', HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input_terminated": True})
    assert read_request_body(env) == b'{"a": 1}'


def test_chunked_bodies_are_bounded_in_size_both_ways() -> None:
    raw = _env(b"10\r\n" + b"x" * 16 + b"\r\n" * 2, HTTP_TRANSFER_ENCODING="chunked")
    assert _read_refusal(raw, max_bytes=10).status == 413
    decoded = _env(b"x" * 16, HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input_terminated": True})
    assert _read_refusal(decoded, max_bytes=10).status == 413


@pytest.mark.parametrize(
    "framing",
    [b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n", b"3\r\nab", b"5" * 5000],
    ids=["bad-size", "overrun", "early-end", "endless-size-line"],
)
def test_bad_chunked_framing_is_refused(framing: bytes) -> None:
    error = _read_refusal(_env(framing, HTTP_TRANSFER_ENCODING="chunked"))
    assert error.status == 400 and "chunk" in error.detail.lower()


def test_transfer_codings_other_than_chunked_are_refused() -> None:
    env = _env(b"", HTTP_TRANSFER_ENCODING="gzip, chunked")
    assert "not supported" in _read_refusal(env).detail


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected pair of loopback sockets: (the client's, the server's)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    with client, server:
        yield client, server


def test_a_body_that_stops_arriving_ends_in_408_and_the_connection_is_left_bounded(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    client, server = connection
    client.sendall(b'{"a"')  # 4 of the 100 announced bytes, then silence
    env = {"wsgi.input": server.makefile("rb"), "CONTENT_LENGTH": "100"}
    error = _read_refusal(env, timeout=0.3)
    assert (error.status, error.code) == (408, "request_timeout")
    # A server draining the rest finds its end at once, and never waits unboundedly.
    assert server.recv(10) == b""
    assert server.gettimeout() == LATE_ANSWER_TIMEOUT


def test_a_body_that_arrives_in_time_restores_the_connection_timeout(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    client, server = connection
    client.sendall(b'{"a": 1}')
    env = {"wsgi.input": server.makefile("rb"), "CONTENT_LENGTH": "8"}
    assert read_request_body(env, timeout=5) == b'{"a": 1}'
    assert server.gettimeout() is None


# -- remote answers ---------------------------------------------------------------------------


def _answer(body: bytes, **headers: str) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([body]), headers=headers)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_an_answer_is_read_up_to_the_limit() -> None:
    with (
        _answer(b"x" * 100) as client,
        client.stream("GET", "http://peer/") as response,
        pytest.raises(BodyError) as raised,
    ):
        read_response_body(response, max_bytes=50)
    assert "exceeds 50 bytes" in raised.value.detail


def test_an_answer_announcing_too_much_is_refused_before_reading() -> None:
    with (
        _answer(b"[]", **{"Content-Length": "999999999"}) as client,
        client.stream("GET", "http://peer/") as response,
    ):
        with pytest.raises(BodyError):
            read_response_body(response, max_bytes=1000)
        assert not response.is_stream_consumed


def test_a_deep_answer_is_refused_like_a_deep_request() -> None:
    deep = b"[" * 500 + b"]" * 500
    with (
        _answer(deep) as client,
        client.stream("GET", "http://peer/") as response,
        pytest.raises(BodyError) as raised,
    ):
        response_json(response, what="The DRC's answer")
    assert raised.value.detail.startswith("The DRC's answer is nested deeper")


def test_an_answer_already_read_is_checked_too() -> None:
    with _answer(b'[{"a": "\\ud800"}]') as client:
        response = client.get("http://peer/")
    with pytest.raises(BodyError) as raised:
        response_json(response)
    assert "lone surrogate" in raised.value.detail
    assert response_json(httpx.Response(200, content=b"[1]")) == [1]
