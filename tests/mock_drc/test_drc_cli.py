"""The mock-drc command line: argument errors (fast) and a real gunicorn server (slow)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_drc.cli import build_parser, config_from_args, main
from zgw.jwt import bearer
from zgw.serving import free_port

EIOS = "/documenten/api/v1/enkelvoudiginformatieobjecten"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "COMMAND"),
        (["serve"], "--port"),
        (["serve", "--port", "http"], "port number"),
        (["serve", "--port", "70000"], "port number"),
        (["serve", "--port", "8000", "--client", "kic"], "CLIENT_ID:SECRET"),
        (["serve", "--port", "8000", "--callback-client", ":x"], "CLIENT_ID:SECRET"),
        (["serve", "--port", "8000", "--threads", "0"], "thread count"),
        (["serve", "--port", "8000", "--public-base-url", "drc.example.com"], "scheme"),
        (["serve", "--port", "8000", "--tls"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_a_port_in_use_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        with pytest.raises(SystemExit) as exited:
            main(["serve", "--port", str(busy.getsockname()[1])])
    assert exited.value.code == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


def test_arguments_become_the_config() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--port",
            "8000",
            "--lenient",
            "--accept-any-token",
            "--client",
            "a:1",
            "--client",
            "b:2:x",
            "c:3",
            "--callback-client",
            "drc:s",
            "--public-base-url",
            "https://d.example/",
        ]
    )
    config = config_from_args(args, environ={})
    assert sorted(config.clients) == ["a", "b", "c"] and config.clients["b"].secret == "2:x"
    assert (config.strict, config.accept_any_token) == (False, True)
    assert config.callback_credentials == ("drc", "s")
    assert config.public_base_url == "https://d.example"
    default = config_from_args(build_parser().parse_args(["serve", "--port", "8000"]), {})
    assert list(default.clients) == ["kic"] and default.clients["kic"].secret == "kic-secret"
    assert default.strict is True


@pytest.fixture
def served() -> Iterator[str]:
    """``mock-drc serve`` under gunicorn on a free port; yields its base URL once ready."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_drc", "serve", "--port", str(port), "--threads", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()  # the worker prints one line once it serves
        assert "mock DRC ready at" in ready, process.stderr.read() if process.poll() else ready
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.slow
def test_serve_runs_gunicorn_with_shared_state_across_threads(served: str) -> None:
    headers = {"Authorization": bearer("kic", "kic-secret")}
    document = httpx.post(served + "/_mock/documents", json={"titel": "via gunicorn"}).json()
    assert httpx.get(document["url"], headers=headers).json()["titel"] == "via gunicorn"
    errors: list[Any] = []

    def worker() -> None:
        with httpx.Client(headers=headers) as client:
            for _ in range(10):
                if client.get(served + EIOS).json()["count"] != 1:
                    errors.append("state differs between threads")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    journal = httpx.get(served + "/_mock/journal", params={"path": EIOS}).json()
    assert len(journal) == 80


@pytest.mark.slow
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_drop_under_gunicorn_looks_like_a_dropped_connection(served: str, method: str) -> None:
    headers = {"Authorization": bearer("kic", "kic-secret")}
    rule = {"method": method, "path": "/documenten", "drop": True}
    assert httpx.post(served + "/_mock/faults", json=rule).status_code == 201
    body = {"titel": "x"} if method == "POST" else None
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.request(method, served + EIOS, json=body, headers=headers)
    (entry,) = httpx.get(served + "/_mock/journal").json()
    assert entry["status"] is None and entry["fault"]["drop"] is True
    assert httpx.get(served + EIOS, headers=headers).status_code == 200
