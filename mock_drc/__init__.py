"""A Documenten API (DRC) double for KIC conformance runs: store, journal, faults, call-backs."""
