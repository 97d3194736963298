"""What the reference KIC, the mock DRC and the harness share: the ZGW conventions.

ZGW ("zaakgericht werken") APIs agree on JWT-Claims authentication, Fout/ValidatieFout error
bodies and an ``API-version`` header. Each convention is written once here so the two servers
and the harness cannot drift apart.
"""
