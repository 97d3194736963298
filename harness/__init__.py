"""The kic-conformance harness: spec, scenarios, runner, fuzzing, reports, CLI, pytest plugin."""
