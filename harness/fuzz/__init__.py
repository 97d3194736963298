"""Property-based conformance: schemathesis against every operation, as harness results.

``run_fuzz(config, run_result)`` appends one ``kind="fuzz"`` case per operation of the spec
(``fuzz:<operationId>``, rule ``oas:<operationId>``, level must), records every observed
status for the coverage report and sets ``run_result.fuzz_seed``. See :mod:`.runner` for the
loop, :mod:`.constraints` for what keeps a correct KIC at zero failures, :mod:`.checks` for
what is judged, :mod:`.reproduce` for the curl lines in the reports and :mod:`.wire` for how
the requests keep to the run's timeout.
"""

from .runner import DEFAULT_SEED, run_fuzz

__all__ = ["DEFAULT_SEED", "run_fuzz"]
