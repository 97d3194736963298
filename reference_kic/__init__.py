"""The reference Klantinteracties API (KIC 1.0.0-rc1): Falcon + SQLite, with kic-001 mirroring."""
