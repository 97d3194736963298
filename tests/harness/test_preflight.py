"""The pre-flight (harness.run.check_before_run): before any scenario, a wrong setting ends the
run with exit 2 and one or two lines naming the option to fix. Against the reference KIC served
in-process (harness.environment) and small fake targets: a wrong secret, a wrong base path, an
HTML login page, a redirect, a narrow client that may read nothing or may write, a KIC that
refuses the DRC's call-back client, an HTTPS KIC with its own CA, a KIC that starts late.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
from pytest_httpserver import HTTPServer

from harness.cli import main
from harness.config import RunConfig
from harness.environment import DRC_CALLBACK, MAIN_CLIENT, embedded_environment
from harness.run import run
from zgw.jwt import Client, bearer
from zgw.serving import free_port, serve_in_thread

API = {"API-version": "1.0.0-rc1"}
#: A small selection that needs the target, the DRC and the narrow client.
SMALL = ["--id", "klant-read", "--id", "kic-001-create-mirrors", "--no-fuzz"]


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch, tmp_path) -> None:
    for name in [n for n in os.environ if n.startswith("KIC_CONFORMANCE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def kic() -> Iterator[RunConfig]:
    with embedded_environment(fuzz_examples=0) as config:
        yield config


def argv(config: RunConfig, *extra: str, secret: str | None = None) -> list[str]:
    args = ["run", "--target", config.target, "--client-id", config.client_id]
    args += ["--secret", secret or config.secret]
    if config.narrow_client:
        args += ["--narrow-client-id", config.narrow_client[0]]
        args += ["--narrow-secret", config.narrow_client[1]]
    return [*args, *extra]


def could_not_run(capsys, code: int) -> str:
    """The stderr of a run that must have stopped in the pre-flight (at most 20 lines)."""
    captured = capsys.readouterr()
    assert code == 2, captured.out[-2000:] + captured.err
    lines = (captured.out + captured.err).splitlines()
    assert len(lines) <= 20, lines
    assert captured.out.splitlines()[-1].startswith("COULD NOT RUN")
    return captured.err


def test_the_reference_kic_passes_the_pre_flight(kic, capsys) -> None:
    drc = ["--drc-url", kic.drc_url, "--drc-callback-client", ":".join(DRC_CALLBACK)]
    code = main(argv(kic, *drc, *SMALL))
    captured = capsys.readouterr()
    assert code == 3, captured.err
    assert captured.out.splitlines()[-1].startswith("NO FAILURES (incomplete: selection (ids ")


def test_a_wrong_secret_names_secret(kic, capsys) -> None:
    err = could_not_run(capsys, main(argv(kic, *SMALL, secret="not-the-secret")))
    assert "the KIC refused the main client 'kic-conformance'" in err and "403" in err
    assert "--secret" in err


def test_a_wrong_base_path_names_the_target(kic, capsys) -> None:
    wrong = RunConfig(**{**vars_of(kic), "target": kic.target.replace("/api/v1", "/api")})
    err = could_not_run(capsys, main(argv(wrong, *SMALL)))
    assert "answered 404" in err and "check the base path of --target" in err


def vars_of(config: RunConfig) -> dict:
    return {
        "target": config.target,
        "client_id": config.client_id,
        "secret": config.secret,
        "narrow_client": config.narrow_client,
    }


def test_an_html_login_page_names_the_target(httpserver: HTTPServer, capsys) -> None:
    page = "<!doctype html><html><body><form>Log in</form></body></html>"
    httpserver.expect_request("/api/v1/").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/api/v1/klanten").respond_with_data(page, content_type="text/html")
    target = RunConfig(target=httpserver.url_for("/api/v1"), client_id="c", secret="s")
    err = could_not_run(capsys, main(argv(target, *SMALL)))
    assert "with an HTML page, not JSON (a login page" in err and "check --target" in err


def test_a_kic_that_refuses_the_host_stops_the_run_naming_the_target(
    httpserver: HTTPServer, capsys
) -> None:
    """A KIC reached by a name it does not know (a compose service name without
    ``--allowed-host``; Django's ALLOWED_HOSTS) answers every request 400: one pre-flight
    line with its code, not a run of hundreds of failures."""
    refusal = {
        "type": "http://kic/ref/fouten/ValidationError/",
        "code": "host-not-allowed",
        "title": "Host not allowed.",
        "status": 400,
        "detail": "The Host header 'kic:8000' is not one of this KIC's.",
    }
    for path in ("/api/v1/", "/api/v1/klanten"):
        httpserver.expect_request(path).respond_with_json(refusal, status=400, headers=API)
    target = RunConfig(target=httpserver.url_for("/api/v1"), client_id="c", secret="s")
    err = could_not_run(capsys, main(argv(target, *SMALL)))
    assert "/api/v1/klanten answered 400 (host-not-allowed: The Host header" in err
    assert "check --target" in err and "--allowed-host" in err


def test_a_redirect_to_a_login_page_names_the_target(httpserver: HTTPServer, capsys) -> None:
    httpserver.expect_request("/api/v1/").respond_with_data(
        "", status=302, headers={"Location": "https://sso.example/login"}
    )
    target = RunConfig(target=httpserver.url_for("/api/v1"), client_id="c", secret="s")
    err = could_not_run(capsys, main(argv(target, *SMALL)))
    assert "a redirect to https://sso.example/login (a login page?)" in err
    assert [r.path for r, _ in httpserver.log] == ["/api/v1/"]  # the redirect was not followed


def test_a_narrow_client_the_kic_refuses_names_the_narrow_options(kic, capsys) -> None:
    wrong = RunConfig(**{**vars_of(kic), "narrow_client": (kic.narrow_client[0], "wrong")})
    err = could_not_run(capsys, main(argv(wrong, *SMALL)))
    assert "refused the narrow client 'kic-conformance-narrow' a read" in err
    assert "--narrow-client-id and --narrow-secret" in err


@pytest.mark.parametrize("defect", ["scope-not-enforced", "auth-not-checked"])
def test_a_narrow_client_that_may_write_stops_the_run_and_leaves_nothing(defect, capsys) -> None:
    with embedded_environment(defects=frozenset({defect}), fuzz_examples=0) as config:
        err = could_not_run(capsys, main(argv(config, *SMALL)))
        left = httpx.get(
            f"{config.target}/klanten", headers={"Authorization": bearer(*MAIN_CLIENT)}
        ).json()
    assert "the narrow client 'kic-conformance-narrow' was allowed to create a klant" in err
    assert "give --narrow-client-id a client with only klanten.lezen" in err
    assert not [k for k in left if k.get("achternaam") == "kic-conformance pre-flight"]


def test_a_drc_that_calls_back_as_another_client_names_the_callback_option(kic, capsys) -> None:
    drc = ["--drc-url", kic.drc_url, "--drc-callback-client", "someone-else:secret"]
    err = could_not_run(capsys, main(argv(kic, *drc, *SMALL)))
    assert (
        "calls your KIC back as 'mock-drc', but --drc-callback-client names 'someone-else'" in err
    )


def test_a_drc_url_without_a_mock_drc_gets_a_hint(kic, httpserver: HTTPServer, capsys) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_data("Not Found", status=404)
    drc = ["--drc-url", httpserver.url_for("/"), "--drc-callback-client", "a:b"]
    err = could_not_run(capsys, main(argv(kic, *drc, *SMALL)))
    assert "no mock DRC control API at" in err and "(404)" in err and "--drc-url" in err


@contextlib.contextmanager
def vendor_kic(tmp_path: Path, *, callback: tuple[str, str] | None, drc_port: int):
    """A reference KIC configured as a vendor would (docs/vendor-guide.md), knowing the DRC
    call-back client only when ``callback`` is given."""
    from reference_kic.app import create_app
    from reference_kic.config import ALL_SCOPES, DrcCredential, KicConfig

    clients = {MAIN_CLIENT[0]: Client(*MAIN_CLIENT, ALL_SCOPES)}
    if callback:
        clients[callback[0]] = Client(*callback, frozenset({"klanten.lezen"}))
    config = KicConfig(
        db_path=str(tmp_path / "vendor.sqlite3"),
        clients=clients,
        drc_credentials=[DrcCredential(f"http://127.0.0.1:{drc_port}/", "kic", "kic-secret")],
    )
    with serve_in_thread(create_app(config)) as server:
        yield server


def test_a_kic_that_refuses_the_callback_client_names_the_callback_option(
    tmp_path: Path, capsys
) -> None:
    port = free_port()
    with vendor_kic(tmp_path, callback=None, drc_port=port) as server:
        args = ["run", "--target", f"{server.url}/api/v1", "--client-id", MAIN_CLIENT[0]]
        args += ["--secret", MAIN_CLIENT[1], "--drc-host", "127.0.0.1", "--drc-port", str(port)]
        captured_code = main([*args, *SMALL])
    captured = capsys.readouterr()
    assert captured_code == 2
    assert "the KIC refused the DRC's call-back client 'mock-drc'" in captured.err
    assert "--drc-callback-client ID:SECRET" in captured.err
    assert len((captured.out + captured.err).splitlines()) <= 20


def test_a_kic_that_starts_late_is_waited_for(tmp_path: Path) -> None:
    """--wait-for-target: the pre-flight polls until the target answers."""
    from reference_kic.app import create_app
    from reference_kic.config import ALL_SCOPES, KicConfig

    port = free_port()
    app = create_app(
        KicConfig(
            db_path=str(tmp_path / "late.sqlite3"),
            clients={MAIN_CLIENT[0]: Client(*MAIN_CLIENT, ALL_SCOPES)},
        )
    )
    started = threading.Event()
    stop = threading.Event()

    def serve_later() -> None:
        time.sleep(1.0)  # long enough for the first polls to be refused
        with serve_in_thread(app, port=port):
            started.set()
            stop.wait(60)

    thread = threading.Thread(target=serve_later, daemon=True)
    thread.start()
    try:
        config = RunConfig(
            target=f"http://127.0.0.1:{port}/api/v1",
            client_id=MAIN_CLIENT[0],
            secret=MAIN_CLIENT[1],
            fuzz_examples=0,
            wait_for_target=30,
        )
        from harness.scenarios import load_library

        [scenario] = [s for s in load_library() if s.id == "klant-read"]
        result = run(config, scenarios=[scenario])
    finally:
        stop.set()
        thread.join(10)
    assert started.is_set()
    assert result.aborted is None and [c.outcome.value for c in result.cases] == ["passed"]


# -- HTTPS with a CA of its own ------------------------------------------------------------------


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 signed by it (openssl)."""
    ca_key, ca, key, request, cert = (
        folder / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")
    )
    extensions = folder / "server.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for command in (
        ["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=kic-conformance test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", *ec, "-keyout", key, "-out", request, "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", extensions],
    ):  # fmt: skip
        subprocess.run([str(part) for part in command], check=True, capture_output=True)
    return ca, cert, key


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextlib.contextmanager
def https_reference_kic(tmp_path: Path, drc_url: str) -> Iterator[str]:
    """The reference KIC over HTTPS (its certificate from :func:`make_certificates`), trusting
    the embedded DRC's call-back client; yields its API root."""
    import ssl

    from reference_kic.app import create_app
    from reference_kic.config import ALL_SCOPES, DrcCredential, KicConfig

    _, cert, key = make_certificates(tmp_path)
    server = make_server(
        "127.0.0.1", 0, None, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    root = f"https://127.0.0.1:{server.server_port}/api/v1"
    app = create_app(
        KicConfig(
            db_path=str(tmp_path / "tls.sqlite3"),
            public_base_url=root,
            clients={
                MAIN_CLIENT[0]: Client(*MAIN_CLIENT, ALL_SCOPES),
                DRC_CALLBACK[0]: Client(*DRC_CALLBACK, frozenset({"klanten.lezen"})),
            },
            drc_credentials=[DrcCredential(drc_url + "/", "kic", "kic-secret")],
        )
    )
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        app.runtime.stop()


@pytest.fixture()
def https_kic(tmp_path: Path) -> Iterator[tuple[str, Path, int]]:
    """(API root, CA file, the port its mock DRC is to listen on)."""
    port = free_port()
    with https_reference_kic(tmp_path, f"http://127.0.0.1:{port}") as root:
        yield root, tmp_path / "ca.pem", port


def https_argv(root: str, *extra: str) -> list[str]:
    return [
        "run", "--target", root, "--client-id", MAIN_CLIENT[0], "--secret", MAIN_CLIENT[1],
        "--id", "klant-read", "--id", "verzoek-read", "--no-fuzz", *extra,
    ]  # fmt: skip


def test_an_https_kic_with_its_own_ca_is_refused_without_it_naming_the_options(
    https_kic, capsys
) -> None:
    root, _, _ = https_kic
    err = could_not_run(capsys, main(https_argv(root)))
    assert f"the TLS certificate of {root} is not trusted" in err
    assert "give --tls-ca-bundle FILE" in err and "SSL_CERT_FILE" in err and "--insecure" in err


@pytest.mark.parametrize("option", ["--tls-ca-bundle", "--insecure"])
def test_an_https_kic_with_its_own_ca_is_testable_with_an_option(https_kic, option, capsys) -> None:
    root, ca, _ = https_kic
    code = main(https_argv(root, *([option, str(ca)] if option == "--tls-ca-bundle" else [option])))
    captured = capsys.readouterr()
    assert code == 3, captured.out[-3000:] + captured.err
    assert captured.out.splitlines()[-1].endswith("(KIC 1.0.0-rc1; 2 passed)")


def test_with_ssl_cert_file_the_harness_and_the_drc_call_back_trust_the_kic(
    https_kic, monkeypatch, capsys
) -> None:
    """SSL_CERT_FILE covers the harness and the in-process mock DRC's call-backs into the
    HTTPS KIC: the kic-001 scenario passes."""
    from harness.environment import MockDrcOptions, served_mock_drc

    root, ca, port = https_kic
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    options = MockDrcOptions("127.0.0.1", port, ("kic", "kic-secret"), DRC_CALLBACK)
    with served_mock_drc(options) as drc:
        drc_options = ["--drc-url", drc.local_url, "--drc-callback-client", ":".join(DRC_CALLBACK)]
        code = main(https_argv(root, "--id", "kic-001-create-mirrors", *drc_options))
    captured = capsys.readouterr()
    assert code == 3, captured.out[-3000:] + captured.err
    assert captured.out.splitlines()[-1].endswith("(KIC 1.0.0-rc1; 3 passed)")
