"""Ready-to-paste reproduction of a fuzzed request: a curl line with the token kept out.

The Authorization value is never written down: the curl line reads ``$KIC_TOKEN``, and a
line before it says how to mint one for the client from the secret in the environment variable
the CLI itself reads (``$KIC_CONFORMANCE_SECRET``, :data:`harness.config.SECRET_VARIABLES`).
Bodies that are not printable text (fuzzing sends random bytes too) are piped in through
``printf`` so that every byte arrives as sent.
"""

from __future__ import annotations

import shlex

from harness.config import SECRET_VARIABLES

SKIPPED_HEADERS = frozenset(
    {
        "authorization",
        "content-length",
        "connection",
        "accept-encoding",
        "user-agent",
        "x-schemathesis-testcaseid",
    }
)


def mint_instruction(client_id: str) -> str:
    """A shell line that exports ``KIC_TOKEN`` for ``client_id`` (its secret in
    ``$KIC_CONFORMANCE_SECRET``, as for the CLI)."""
    code = (
        "import os; from zgw.jwt import mint_token; "
        f"print(mint_token({client_id!r}, os.environ[{SECRET_VARIABLES[0]!r}]))"
    )
    return f"export KIC_TOKEN=$(python -c {shlex.quote(code)})"


def _printf_literal(data: bytes) -> str:
    """A single-quoted printf format that reproduces ``data`` byte for byte."""
    parts = []
    for index, byte in enumerate(data):
        char = chr(byte)
        if char == "-" and index == 0:
            parts.append("\\055")  # a leading dash would read as an option of printf
        elif char == "%":
            parts.append("%%")
        elif char == "\\":
            parts.append("\\\\")
        elif char == "'":
            parts.append("\\047")
        elif 32 <= byte < 127:
            parts.append(char)
        else:
            parts.append(f"\\{byte:03o}")
    return "'" + "".join(parts) + "'"


def curl_command(method: str, url: str, headers: dict[str, str], body: bytes | str | None) -> str:
    """A curl command line replaying one request; Authorization reads ``$KIC_TOKEN``."""
    args = ["curl", "-sS", "-i", "-X", method, shlex.quote(url)]
    for name, value in headers.items():
        if name.lower() in SKIPPED_HEADERS:
            continue
        args += ["-H", shlex.quote(f"{name}: {value}")]
    args += ["-H", '"Authorization: Bearer $KIC_TOKEN"']
    data = body.encode("utf-8") if isinstance(body, str) else body
    if not data:
        return " ".join(args)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        return " ".join([*args, "--data-binary", shlex.quote(text)])
    return f"printf {_printf_literal(data)} | " + " ".join([*args, "--data-binary", "@-"])


def reproduction(client_id: str, commands: list[tuple[str, str]]) -> str:
    """The mint line, then each ``(label, curl)`` under a comment naming what it shows."""
    lines = [mint_instruction(client_id)]
    for label, command in commands:
        lines += [f"# {label}", command]
    return "\n".join(lines)
