"""zgw.wsgi_front: whole requests before a thread, read and write lanes, deadlines, framing.

Each test serves a tiny WSGI app in process (:func:`zgw.wsgi_front.serve_in_thread`) with
small limits, and talks to it over raw sockets or http.client on loopback.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterable
from typing import Any

import pytest

from zgw.wsgi_front import DROP_CONNECTION, Limits, serve_in_thread


def echo_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Answers with what it was given: method, path, query, body and a few headers."""
    body = environ["wsgi.input"].read()
    answer = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "body": body.decode("latin-1"),
        "length": environ.get("CONTENT_LENGTH"),
        "type": environ.get("CONTENT_TYPE"),
        "chunked": "HTTP_TRANSFER_ENCODING" in environ,
        "thread": threading.current_thread().name,
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(answer).encode()]


def _conn(url: str, timeout: float = 5.0) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def _raw(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=5)


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_requests_reach_the_app_with_their_path_query_and_body():
    with serve_in_thread(echo_app) as server:
        conn = _conn(server.url)
        conn.request(
            "POST", "/a%20b/c?x=1&y=%2F", body=b'{"k": 1}', headers={"Content-Type": "x/y"}
        )
        answer = json.loads(conn.getresponse().read())
        conn.close()
    assert answer["path"] == "/a b/c" and answer["query"] == "x=1&y=%2F"
    assert (answer["body"], answer["length"], answer["type"]) == ('{"k": 1}', "8", "x/y")


def test_reads_and_writes_run_on_their_own_lanes():
    with serve_in_thread(echo_app) as server:
        conn = _conn(server.url)
        conn.request("GET", "/")
        read = json.loads(conn.getresponse().read())["thread"]
        conn.request("DELETE", "/")
        write = json.loads(conn.getresponse().read())["thread"]
        conn.close()
    assert read.startswith("wsgi-read") and write.startswith("wsgi-write")


def test_a_chunked_body_reaches_the_app_whole():
    with serve_in_thread(echo_app) as server:
        sock = _raw(server.url)
        sock.sendall(
            b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
            b'\r\n4\r\n{"a"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n'
        )
        reply = _read_all(sock)
        sock.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    answer = json.loads(body)
    assert (answer["body"], answer["length"], answer["chunked"]) == ('{"a": 1}', "8", False)


def test_expect_100_continue_is_answered_before_the_body():
    with serve_in_thread(echo_app) as server:
        sock = _raw(server.url)
        sock.sendall(
            b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100")
        sock.sendall(b"{}")
        reply = _read_all(sock)
        sock.close()
    assert b"HTTP/1.1 200" in reply and b'"body": "{}"' in reply


def test_keep_alive_serves_several_requests_on_one_connection():
    with serve_in_thread(echo_app) as server:
        conn = _conn(server.url)
        paths = []
        for number in range(5):
            conn.request("GET", f"/{number}")
            paths.append(json.loads(conn.getresponse().read())["path"])
        conn.close()
    assert paths == ["/0", "/1", "/2", "/3", "/4"]


def test_headers_that_do_not_arrive_in_time_close_the_connection_with_408():
    with serve_in_thread(echo_app, Limits(header_timeout=0.3)) as server:
        sock = _raw(server.url)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and the rest never comes
        reply = _read_all(sock)
        sock.close()
    assert reply.startswith(b"HTTP/1.1 408")


def test_a_body_that_does_not_arrive_in_time_is_a_408():
    with serve_in_thread(echo_app, Limits(body_timeout=0.3)) as server:
        sock = _raw(server.url)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
        reply = _read_all(sock)
        sock.close()
    assert reply.startswith(b"HTTP/1.1 408")


def test_a_silent_connection_is_closed_without_an_answer():
    with serve_in_thread(echo_app, Limits(header_timeout=0.3)) as server:
        sock = _raw(server.url)
        assert _read_all(sock) == b""
        sock.close()


def test_an_idle_kept_alive_connection_is_closed():
    with serve_in_thread(echo_app, Limits(idle_timeout=0.3)) as server:
        sock = _raw(server.url)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = _read_all(sock)  # the answer, then the close once the connection idled
        sock.close()
    assert reply.startswith(b"HTTP/1.1 200") and reply.count(b"HTTP/1.1") == 1


def test_a_body_over_the_limit_is_a_413():
    with serve_in_thread(echo_app, Limits(max_body_bytes=10)) as server:
        conn = _conn(server.url)
        conn.request("POST", "/", body=b"x" * 100)
        response = conn.getresponse()
        conn.close()
    assert response.status == 413


def test_a_malformed_request_is_a_400():
    with serve_in_thread(echo_app) as server:
        sock = _raw(server.url)
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply = _read_all(sock)
        sock.close()
    assert reply.startswith(b"HTTP/1.1 400")


def test_slow_clients_do_not_keep_reads_or_writes_from_being_served():
    with serve_in_thread(echo_app, Limits(read_threads=1, write_threads=1)) as server:
        slow = [_raw(server.url) for _ in range(32)]
        for sock in slow:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{")
        conn = _conn(server.url)
        conn.request("GET", "/")
        read = conn.getresponse()
        read.read()
        conn.request("POST", "/", body=b"{}")
        write = conn.getresponse()
        write.read()
        conn.close()
        for sock in slow:
            sock.close()
    assert (read.status, write.status) == (200, 200)


def test_writes_beyond_the_queue_get_503_with_retry_after_and_reads_go_on():
    release = threading.Event()
    entered = threading.Semaphore(0)

    def blocking_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            entered.release()
            release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    limits = Limits(write_threads=1, write_queue=2)
    with serve_in_thread(blocking_app, limits) as server:
        waiting = [_conn(server.url, timeout=10) for _ in range(2)]
        for conn in waiting:
            conn.request("POST", "/", body=b"")
        assert entered.acquire(timeout=5)  # one runs, one waits in the queue
        refused = _conn(server.url)
        refused.request("POST", "/", body=b"")
        answer = refused.getresponse()
        body = json.loads(answer.read())
        read = _conn(server.url)
        read.request("GET", "/")
        read_status = read.getresponse().status
        release.set()
        statuses = [conn.getresponse().status for conn in waiting]
        for conn in (*waiting, refused, read):
            conn.close()
    assert answer.status == 503 and answer.getheader("Retry-After") == "1"
    assert body["status"] == 503 and "retry" in body["detail"]
    assert read_status == 200 and statuses == [200, 200]


def test_an_app_that_raises_answers_500_and_the_server_goes_on():
    def failing_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("boom")
        start_response("200 OK", [])
        return [b"fine"]

    with serve_in_thread(failing_app) as server:
        conn = _conn(server.url)
        conn.request("GET", "/boom")
        failed = conn.getresponse()
        failed.read()
        conn.close()
        again = _conn(server.url)
        again.request("GET", "/")
        fine = again.getresponse()
        text = fine.read()
        again.close()
    assert failed.status == 500 and (fine.status, text) == (200, b"fine")


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_statuses_carry_no_body(status: int):
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(f"{status} X", [("ETag", '"e"')])
        return [b""]

    with serve_in_thread(app) as server:
        conn = _conn(server.url)
        conn.request("GET", "/")
        first = conn.getresponse()
        first.read()
        conn.request("GET", "/")  # the connection is still in step
        second = conn.getresponse()
        second.read()
        conn.close()
    assert first.status == second.status == status


def test_an_app_can_drop_the_connection_without_an_answer():
    def dropping_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ[DROP_CONNECTION]()
        start_response("200 OK", [])
        return [b"never sent"]

    with serve_in_thread(dropping_app) as server:
        sock = _raw(server.url)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_all(sock) == b""
        sock.close()
