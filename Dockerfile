# kic-conformance as a container image: the wheel of this repository on a slim Python, with
# `kic-conformance` as the entry point (`mock-drc` and `reference-kic` are installed too).
#
#   docker build -t kic-conformance .
#   docker run --rm kic-conformance --version
#   docker run --rm -e KIC_CONFORMANCE_SECRET -v "$PWD/reports:/reports" kic-conformance run \
#       --target https://kic.example/api/v1 --client-id suite --json /reports/kic.json
#
# The reference KIC and the mock DRC from the same image, reached by a (dotted: URLs need a
# top-level domain) service name or alias on a compose or CI network; a Host that is not one of
# the server's own addresses must be named:
#   reference-kic serve --host 0.0.0.0 --port 8000 --db /tmp/kic.db --config /config/kic.yaml \
#       --public-base-url http://kic.compose.test:8000/api/v1
#       # or, instead: --allowed-host kic.compose.test (repeatable)
#   mock-drc serve --host 0.0.0.0 --port 8500 --public-base-url http://mock-drc.compose.test:8500
# (as `docker run --entrypoint reference-kic kic-conformance serve ...`).
#
# docs/ci.md shows it in CI and in a compose file. The wheel carries openapi.yaml and
# scenarios/ (zgw/contract-files).

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 suite
USER suite
WORKDIR /home/suite
# The report of a run goes to stdout, progress and errors to stderr (one line per step when
# not on a terminal, as in CI logs).
# `docker stop` (and a cancelled CI job) sends SIGTERM to kic-conformance, PID 1 here: it ends
# the run like Ctrl-C, writes the reports of what finished (marked terminated) at once and
# exits 143 when the scenarios still running have ended (a SIGKILL before then, after
# `docker stop --time`, changes only the exit status). Kept explicit: SIGINT would work too.
STOPSIGNAL SIGTERM
ENTRYPOINT ["kic-conformance"]
CMD ["--help"]
