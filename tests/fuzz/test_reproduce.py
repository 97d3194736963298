"""Reproduction lines: the token stays out, every body byte goes in, the shell agrees."""

from __future__ import annotations

import shlex
import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.fuzz.reproduce import _printf_literal, curl_command, mint_instruction, reproduction


def test_curl_uses_the_token_variable_and_drops_transport_headers() -> None:
    command = curl_command(
        "POST",
        "http://127.0.0.1:1/api/v1/klanten",
        {
            "Authorization": "Bearer secret.jwt",
            "Content-Type": "application/json",
            "Content-Length": "2",
            "User-Agent": "x",
        },
        b'{"voornaam": "O\'Neil"}',
    )
    assert "secret.jwt" not in command
    assert '"Authorization: Bearer $KIC_TOKEN"' in command
    assert "Content-Length" not in command and "User-Agent" not in command
    words = shlex.split(command.replace('"Authorization: Bearer $KIC_TOKEN"', "AUTH"))
    assert words[words.index("--data-binary") + 1] == '{"voornaam": "O\'Neil"}'
    assert words[:6] == ["curl", "-sS", "-i", "-X", "POST", "http://127.0.0.1:1/api/v1/klanten"]


def test_a_body_without_content_has_no_data_option() -> None:
    assert "--data-binary" not in curl_command("GET", "http://h/api/v1/klanten", {}, None)


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=40))
def test_binary_bodies_are_piped_byte_for_byte(data: bytes) -> None:
    out = subprocess.run(
        ["bash", "-c", f"printf {_printf_literal(data)}"], capture_output=True, check=True
    )
    assert out.stdout == data


def test_mint_line_names_the_client_and_reads_the_secret_from_the_environment() -> None:
    line = mint_instruction("kic-conformance")
    assert line.startswith("export KIC_TOKEN=$(python -c ")
    code = shlex.split(line.split("=", 1)[1][2:-1])[2]
    assert "'kic-conformance'" in code
    # The variable the CLI reads its secret from, so the environment of a run replays it.
    assert "os.environ['KIC_CONFORMANCE_SECRET']" in code
    text = reproduction("c", [("not_a_server_error: Server error", "curl x")])
    assert text.splitlines()[1:] == ["# not_a_server_error: Server error", "curl x"]
